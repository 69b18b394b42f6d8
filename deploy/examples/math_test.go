package examples

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// Example 6a: target = (qsize - 0) / (100 - 0) * (5 - 1) + 1 with qsize a square wave of 0
// and 100 (square:0,100,16s here): the target is exactly 5 or 1 at every tick, and the
// workers (long-running, killed by the cooler) follow it.
func TestExampleMath(t *testing.T) {
	fullOnly(t)
	tmp := t.TempDir()
	r := startExample(t, "math", "math/env", "RUN_DIR="+filepath.Join(tmp, "running"), "QSIZE_SPEC=square:0,100,16s")
	sleepFor(t, 42*time.Second-time.Since(r.started))
	pts := r.history()
	report(t, "math", pts)
	t.Logf("metric/target per tick: %s", series(pts))

	const period = 16000 // ms
	formula := func(qsize float64) float64 { return (qsize-0)/(100-0)*(5-1) + 1 }
	var wrong int
	var hi, lo []float64
	for _, p := range pts {
		if p.Target == nil {
			continue
		}
		ph := p.T % period
		if ph < 2 || (ph > period/2-2 && ph < period/2+2) || ph > period-2 {
			continue // within 2 ms of an edge: the history's millisecond time cannot tell
		}
		q := 0.0
		if ph < period/2 {
			q = 100
		}
		if want := formula(q); *p.Target != want {
			wrong++
			t.Errorf("at %v the target was %v, want %v (qsize %v)", p.time().Format("15:04:05.000"), *p.Target, want, q)
		}
		if p.Metric == nil || p.time().Sub(r.started) < 10*time.Second {
			continue
		}
		if settled := ph % (period / 2); settled >= 3000 { // 3 s after the target moved
			if q == 100 {
				hi = append(hi, *p.Metric)
			} else {
				lo = append(lo, *p.Metric)
			}
		}
	}
	hiMean, hiMax := meanMax(hi)
	loMean, loMax := meanMax(lo)
	t.Logf("workers: %.2f on average while the target was 5 (max %.0f, %d ticks), %.2f while it was 1 (max %.0f, %d ticks)",
		hiMean, hiMax, len(hi), loMean, loMax, len(lo))
	if len(hi) < 5 || len(lo) < 5 {
		t.Fatalf("too few settled ticks: %d at 5, %d at 1", len(hi), len(lo))
	}
	if math.Abs(hiMean-5) > 0.75 || math.Abs(loMean-1) > 0.75 {
		t.Errorf("workers %.2f (want 5 ± 0.75) and %.2f (want 1 ± 0.75)", hiMean, loMean)
	}
}

// Example 6b: metric = (qsize - mean(qsize, 20)) // stdev(qsize, 20). With qsize a square
// wave (square:0,10,3s here) the test recomputes every tick's value from the tick times in
// the history, and they must be equal: floor division, the sample stdev, the window of the
// last 20 reads, and a miss while the stdev is undefined or 0.
func TestExampleMathZscore(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	r := startExample(t, "math-zscore", "math/zscore.env", "QUEUE_DIR="+filepath.Join(tmp, "queue"), "QSIZE_SPEC=square:0,10,3s")
	sleepFor(t, 22*time.Second-time.Since(r.started))
	pts := r.history()
	report(t, "math-zscore", pts)
	t.Logf("metric/target per tick: %s", series(pts))

	// Every source of a tick reads the schedule at the tick's own time, which the history
	// gives in whole milliseconds; the square wave's edges fall on whole milliseconds, so that
	// time tells the value exactly. (The test once skipped reads within 2 ms of an edge, and a
	// replica whose ticks happened to fall that close to the edges left nothing to compare.)
	const period = 3000 // ms
	qs := make([]float64, len(pts))
	for i, p := range pts {
		if p.T%period < period/2 {
			qs[i] = 10
		}
	}
	compared, misses, neg, pos := 0, 0, 0, 0
	for i, p := range pts {
		from := max(0, i-19)
		win := qs[from : i+1]
		var mean, ss float64
		for _, v := range win {
			mean += v
		}
		mean /= float64(len(win))
		for _, v := range win {
			ss += (v - mean) * (v - mean)
		}
		if len(win) < 2 || ss == 0 {
			if p.Metric != nil {
				t.Errorf("tick %d: metric %v, want a miss (stdev of %d reads is undefined or 0)", i, *p.Metric, len(win))
			}
			misses++
			continue
		}
		want := math.Floor((qs[i] - mean) / math.Sqrt(ss/float64(len(win)-1)))
		switch {
		case p.Metric == nil:
			t.Errorf("tick %d: a miss, want %v", i, want)
		case *p.Metric != want:
			t.Errorf("tick %d: metric %v, want %v (qsize %v, window of %d)", i, *p.Metric, want, qs[i], len(win))
		}
		compared++
		if want < 0 {
			neg++
		} else {
			pos++
		}
	}
	t.Logf("compared %d ticks with the formula (%d expected misses; %d negative, %d non-negative values)", compared, misses, neg, pos)
	if compared < 30 || neg == 0 || pos == 0 || misses == 0 {
		t.Errorf("too little compared: %d ticks, %d negative, %d non-negative, %d misses", compared, neg, pos, misses)
	}
}
