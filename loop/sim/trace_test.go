package sim

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/relay-mesos/relay-mesos/loop"
)

// simulate --trace: one trace line per scenario tick, carrying what the run did, and the
// observer does not change the run.
func TestRunProjectTracesEveryTick(t *testing.T) {
	s, err := Load(filepath.Join("testdata", "scenarios", "queue_starved.json"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	tr, err := loop.OpenTrace(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := Load(filepath.Join("testdata", "scenarios", "queue_starved.json"))
	rows, err := RunProject(s2, tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, plain) {
		t.Fatal("the traced run differs from the plain one")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var l struct {
			Tick     int64 `json:"tick"`
			Metric   struct{ Value float64 }
			Target   struct{ Value float64 }
			Decision struct{ Warmers, Coolers int }
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		r := rows[n]
		if l.Tick != int64(n+1) || l.Metric.Value != r.PV || l.Target.Value != r.SP || l.Decision.Warmers-l.Decision.Coolers != r.Requested {
			t.Fatalf("line %d: tick %d PV %v SP %v asked %d; the row: PV %v SP %v requested %d", n+1, l.Tick,
				l.Metric.Value, l.Target.Value, l.Decision.Warmers-l.Decision.Coolers, r.PV, r.SP, r.Requested)
		}
		n++
	}
	if n != s.Ticks {
		t.Fatalf("%d trace lines for %d ticks", n, s.Ticks)
	}
}
