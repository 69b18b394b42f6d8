package sim

import (
	"bytes"
	"strings"
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

// The table shows one starved window's overshoot beside that window's own limit: with two
// windows it showed the larger overshoot of one against the smaller limit of the other
// (8.4 against 4.3, next to PASS).
func TestTableShowsEachWindowAgainstItsOwnLimit(t *testing.T) {
	cases := []struct {
		name    string
		windows []StarveFigure
		want    string // "overshoot limit" as the table prints them
	}{
		{"the window nearest its limit", []StarveFigure{{ErrorLeft: 43, Overshoot: 0}, {ErrorLeft: 90, Overshoot: 8.4}}, "8.4 9.0"},
		{"the window past its limit", []StarveFigure{{ErrorLeft: 43, Overshoot: 6}, {ErrorLeft: 90, Overshoot: 8.4}}, "6.0 4.3"},
		{"no window", nil, "- -"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Path: "x.json", Scenario: &Scenario{Ticks: 300}}
			r.Mine.PostStarve = tc.windows
			r.judge()
			var b strings.Builder
			WriteTable(&b, []*Result{r})
			row := strings.Fields(strings.Split(b.String(), "\n")[1])
			if got := row[5] + " " + row[6]; got != tc.want {
				t.Errorf("post-starve and post max %q, want %q (row %q)", got, tc.want, row)
			}
		})
	}
}
