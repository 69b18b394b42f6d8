package chaos

import (
	"context"
	"path/filepath"
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
	dir := t.TempDir()
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
}
