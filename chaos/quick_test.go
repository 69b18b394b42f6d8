package chaos

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relay-mesos/relay-mesos/election/zktest"
)

// TestChaosQuick is `make chaos-quick` as a test: one fault of each quick kind against three
// replica processes, the embedded master, ZooKeeper and the plant; every invariant holds and
// a kill -9 of the leader fails over within the session timeout + 1 s.
func TestChaosQuick(t *testing.T) {
	zktest.Require(t)
	if testing.Short() {
		t.Skip("starts a cluster of processes")
	}
	// The run's directory (the processes' logs, data and traces) is kept when the test fails,
	// and named in its output: a failure seen once under load must be explainable.
	dir, err := os.MkdirTemp("", "relay-chaos-quick-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the run's processes' logs, data and traces are kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	o := QuickOptions(binary, filepath.Join(dir, "run"))
	o.Cluster.PlantCommand = plantCommand(t)
	o.Out = filepath.Join(dir, "out")
	o.Log = testLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Markdown())
	if len(res.Faults) != len(QuickKinds) {
		t.Errorf("injected %d faults, want %d", len(res.Faults), len(QuickKinds))
	}
	for _, v := range res.Violations {
		t.Errorf("violation: %s", v)
	}
	for _, tg := range res.Targets {
		if !tg.OK {
			t.Errorf("target missed: %s: want %s, got %s", tg.Name, tg.Want, tg.Got)
		}
	}
	if len(res.FrameworkIDs) != 1 {
		t.Errorf("FrameworkIDs %v, want exactly one", res.FrameworkIDs)
	}
	if t.Failed() {
		logAroundViolations(t, o.Cluster.Dir, res.Violations)
	}
}

// logAroundViolations logs what the replicas wrote and decided in the seconds around each
// violation (their logs and controller traces live in the test's temporary directory, which
// is removed): without them a violation seen once under load could not be explained.
func logAroundViolations(t *testing.T, dir string, vs []Violation) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "replica-*"))
	for _, v := range vs {
		from, to := v.At.Add(-5*time.Second), v.At.Add(5*time.Second)
		for _, f := range files {
			if !strings.HasSuffix(f, ".log") && !strings.HasSuffix(f, ".jsonl") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var keep []string
			for _, line := range strings.Split(string(b), "\n") {
				if at, ok := lineTime(line); ok && !at.Before(from) && at.Before(to) {
					keep = append(keep, line)
				}
			}
			if len(keep) > 0 {
				t.Logf("%s, %s to %s (%s):\n%s", filepath.Base(f), from.Format("15:04:05.000"), to.Format("15:04:05.000"), v.Check, strings.Join(keep, "\n"))
			}
		}
	}
}

// lineTime reads the time of a replica's log line (hclog, as cmd/relay-mesos sets it up:
// "2006-01-02T15:04:05.000Z07:00 ...") or trace line ({"time":"..."}).
func lineTime(line string) (time.Time, bool) {
	if strings.HasPrefix(line, `{"time":"`) {
		rest := line[len(`{"time":"`):]
		if i := strings.IndexByte(rest, '"'); i > 0 {
			at, err := time.Parse(time.RFC3339Nano, rest[:i])
			return at, err == nil
		}
		return time.Time{}, false
	}
	if i := strings.IndexByte(line, ' '); i > 0 {
		at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", line[:i])
		return at, err == nil
	}
	return time.Time{}, false
}
