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
		if !r.Pass() {
			t.Errorf("%s: missed %v (IAE %.0f max %.0f, cost %d max %.0f)", r.Path, r.Failed, r.Mine.IAE, r.IAELimit, r.Mine.Cost, r.CostLimit)
		}
	}
}
