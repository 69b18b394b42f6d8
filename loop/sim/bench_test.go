package sim

import (
	"bytes"
	"testing"
)

// TestProjectMeetsTargets runs every testdata scenario (the public ones and the random ones)
// through the three controllers and fails if the project's controller misses any target.
func TestProjectMeetsTargets(t *testing.T) {
	var buf bytes.Buffer
	results, err := Bench([]string{"testdata/scenarios"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
	if len(results) < 33 {
		t.Fatalf("only %d scenarios", len(results))
	}
	for _, r := range results {
		if r.Pass() {
			if knownMisses[r.Path] {
				t.Errorf("%s now passes: remove it from knownMisses", r.Path)
			}
			continue
		}
		if knownMisses[r.Path] {
			t.Logf("KNOWN MISS %s: %v (IAE %.0f max %.0f, cost %d max %.0f)", r.Path, r.Failed, r.Mine.IAE, r.IAELimit, r.Mine.Cost, r.CostLimit)
			continue
		}
		t.Errorf("%s: missed %v (IAE %.0f max %.0f, cost %d max %.0f)", r.Path, r.Failed, r.Mine.IAE, r.IAELimit, r.Mine.Cost, r.CostLimit)
	}
}

// knownMisses are the scenarios on which the controller still misses a target; the bench
// (make bench-control) reports them as FAIL. Listed so that any other regression fails this
// test; the list must only shrink. (random_11 left it when units that ran a whole life with
// the metric pinned at a wall began to end the belief that sent them.)
var knownMisses = map[string]bool{}
