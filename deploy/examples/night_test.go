package examples

import (
	"path/filepath"
	"testing"
	"time"
)

// Example 2: consumers by time of day. With a 20 s "day" (is_night = square:0,1,20s: night
// for the first 10 s of every 20), four consumers run at night and none by day.
func TestExampleNight(t *testing.T) {
	fullOnly(t)
	runDir := filepath.Join(t.TempDir(), "running")
	r := startExample(t, "night", "night/env", "RUN_DIR="+runDir, "IS_NIGHT=square:0,1,20s")
	sleepFor(t, 50*time.Second-time.Since(r.started))
	pts := r.history()
	report(t, "night", pts)
	t.Logf("metric/target per tick: %s", series(pts))

	// Split the run by the target's changes; judge each half-period after it settled: 3 s
	// for consumers to start at night, the consumers' 4 s of work plus 1.5 s by day.
	var night, day []float64
	changed := time.Time{}
	for i, p := range pts {
		if !p.ok() {
			continue
		}
		if i > 0 && pts[i-1].Target != nil && *pts[i-1].Target != *p.Target {
			changed = p.time()
		}
		if changed.IsZero() {
			continue // the first half-period: the replica started somewhere inside it
		}
		since := p.time().Sub(changed)
		switch {
		case *p.Target == 4 && since >= 3*time.Second:
			night = append(night, *p.Metric)
		case *p.Target == 0 && since >= 5500*time.Millisecond:
			day = append(day, *p.Metric)
		}
	}
	nightMean, nightMax := meanMax(night)
	dayMean, dayMax := meanMax(day)
	t.Logf("night: %d ticks, mean %.2f running (max %.0f); day: %d ticks, mean %.2f running (max %.0f)",
		len(night), nightMean, nightMax, len(day), dayMean, dayMax)
	if len(night) < 10 || len(day) < 5 {
		t.Fatalf("too few settled ticks to judge: %d at night, %d by day", len(night), len(day))
	}
	if nightMean < 2.8 || nightMean > 5.5 || nightMax > 12 {
		t.Errorf("at night %.2f consumers ran on average (max %.0f), want about 4", nightMean, nightMax)
	}
	if dayMean > 0.5 {
		t.Errorf("by day %.2f consumers ran on average, want about 0", dayMean)
	}
}
