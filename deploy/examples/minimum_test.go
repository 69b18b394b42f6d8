package examples

import (
	"path/filepath"
	"testing"
	"time"
)

// Example 5: a guaranteed minimum. metric = max(2, ceil(load / 10)), target = the running
// instances, RELAY_MOVES=target: with no load two instances still run; with load they follow
// it; when it goes, they come back to two.
func TestExampleMinimum(t *testing.T) {
	fullOnly(t)
	tmp := t.TempDir()
	url := startMarathon(t, tmp, 0)
	load := filepath.Join(tmp, "load")
	writeFile(t, load, "0\n")
	r := startExample(t, "minimum", "minimum/env", "MARATHON_URL="+url, "APP_ID=web-min",
		"LOAD_SPEC=file:"+load, "SCALE_LOCK="+filepath.Join(tmp, "scale.lock"))
	steps := []step{{"0", 2, 12 * time.Second}, {"48", 5, 12 * time.Second}, {"3", 2, 12 * time.Second}}
	starts := runSteps(t, load, steps)
	pts := r.history()
	report(t, "minimum", pts)
	t.Logf("metric/target per tick: %s", series(pts))
	judgeSteps(t, pts, steps, starts, 5*time.Second, 1.1)
	// Once the minimum was first reached, the instances never went below it for long.
	reached, below := false, 0
	for _, p := range pts {
		if p.Metric == nil {
			continue
		}
		if *p.Metric >= 2 {
			reached = true
		} else if reached {
			below++
		}
	}
	if !reached || below > 5 {
		t.Errorf("the minimum of 2 instances: reached %v, then below it for %d ticks (want at most 5)", reached, below)
	}
}
