package replica

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relay-mesos/relay-mesos/loop"
)

// Parts.Trace sees the leader's ticks and only the leader's: the follower's trace file stays
// empty while the leader's grows one line per tick.
func TestOnlyTheLeaderWritesItsTrace(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	open := func(name string) *loop.Trace {
		tr, err := loop.OpenTrace(filepath.Join(dir, name), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	ta, tb := open("a.jsonl"), open("b.jsonl")
	a := c.startWith("a", func(p *Parts) { p.Trace = ta })
	waitFor(t, "a to lead", 20*time.Second, a.leading)
	b := c.startWith("b", func(p *Parts) { p.Trace = tb })
	lines := func(name string) int {
		t.Helper()
		return len(readLines(t, filepath.Join(dir, name)))
	}
	waitFor(t, "a's trace to hold 10 ticks", 20*time.Second, func() bool { return lines("a.jsonl") >= 10 })
	if b.leading() {
		t.Fatal("b leads too")
	}
	if n := lines("b.jsonl"); n != 0 {
		t.Fatalf("the follower wrote %d trace lines", n)
	}
	for _, l := range readLines(t, filepath.Join(dir, "a.jsonl")) {
		if !strings.Contains(l, `"decision":{"warmers":`) {
			t.Fatalf("not a trace line: %s", l)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b)) // a trace line holds no spaces
}
