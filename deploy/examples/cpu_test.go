package examples

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// Example 3: a CPU target. The metric is burners running minus the expected CPU (a
// square:1,2,20s schedule here: 2 for 10 s, then 1 for 10 s); the cooler starts a burner,
// which raises the metric, so the controller has to learn the cooler's sign first.
func TestExampleCPU(t *testing.T) {
	fullOnly(t)
	burnDir := filepath.Join(t.TempDir(), "burners")
	r := startExample(t, "cpu", "cpu/env", "BURN_DIR="+burnDir, "EXPECTED_CPU=square:1,2,20s", "BURN_SECONDS=4")
	sleepFor(t, 55*time.Second-time.Since(r.started))
	pts := r.history()
	report(t, "cpu", pts)
	t.Logf("metric/target per tick: %s", series(pts))

	// expected is the schedule, phased from the epoch: 2 for the first half of each period.
	expected := func(tm time.Time) float64 {
		if tm.UnixMilli()%20000 < 10000 {
			return 2
		}
		return 1
	}
	// Judge the ticks after the first 25 s (the controller first learns that the cooler
	// raises the metric: it tries one after 20 ticks without a kind believed to help, and
	// believes it after two or three such tries),
	// once settled: 3 s after the expectation rises, 5 s (a burner's 4 s life) after it drops.
	var high, low, absErr []float64
	for _, p := range pts {
		if !p.ok() || p.time().Sub(r.started) < 25*time.Second {
			continue
		}
		ms := p.time().UnixMilli() % 10000 // time since the last change of the schedule
		used := *p.Metric + expected(p.time())
		switch e := expected(p.time()); {
		case e == 2 && ms >= 3000:
			high = append(high, used)
		case e == 1 && ms >= 5000:
			low = append(low, used)
		default:
			continue
		}
		absErr = append(absErr, math.Abs(*p.Metric))
	}
	highMean, highMax := meanMax(high)
	lowMean, lowMax := meanMax(low)
	errMean, _ := meanMax(absErr)
	warmers, coolers := totalRequested(pts)
	t.Logf("burners: %.2f on average while 2 were expected (max %.0f, %d ticks), %.2f while 1 was (max %.0f, %d ticks); mean |metric| %.2f; %d burners launched",
		highMean, highMax, len(high), lowMean, lowMax, len(low), errMean, coolers)
	if len(high) < 10 || len(low) < 5 {
		t.Fatalf("too few settled ticks to judge: %d high, %d low", len(high), len(low))
	}
	// Generous bands: the controller holds a wrong-signed cooler loosely (runs of one burner
	// short or over for a few seconds are common); what must hold is that the burners follow
	// the schedule and the error stays around one burner.
	if highMean < 1.2 || highMean > 3 {
		t.Errorf("%.2f burners ran on average while 2 were expected", highMean)
	}
	if lowMean < 0.2 || lowMean > 1.8 || highMean-lowMean < 0.5 {
		t.Errorf("%.2f burners ran on average while 1 was expected (%.2f while 2 were)", lowMean, highMean)
	}
	if errMean > 1 {
		t.Errorf("mean |cpu used - expected| = %.2f burners once settled, want <= 1", errMean)
	}
	if warmers != 0 || coolers == 0 {
		t.Errorf("launched %d warmers and %d burners, want burners only", warmers, coolers)
	}
}
