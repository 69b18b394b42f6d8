package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Example 1: consumers that run, complete and exit keep a queue drained while items keep
// arriving (metric = queue size, target = 0, warmer = consumer.sh, no cooler).
func TestExampleQueue(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	queue := filepath.Join(tmp, "queue")
	env := cleanEnv("QUEUE_DIR="+queue, "RATE=4", "BURST=40")
	startProcess(t, tmp, "producer", env, filepath.Join(repoRoot, "deploy/examples/queue/producer.sh"))
	// The queue as the test sees it, every 250 ms: the items waiting (not those taken).
	plant := samplePlant(t, 250*time.Millisecond, func() (float64, bool) {
		ents, err := os.ReadDir(queue)
		if err != nil {
			return 0, false
		}
		n := 0
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".item") {
				n++
			}
		}
		return float64(n), true
	})
	r := startExample(t, "queue", "queue/env", "QUEUE_DIR="+queue)

	const run, tail = 45 * time.Second, 15 * time.Second
	sleepFor(t, run-time.Since(r.started))
	end := time.Now()
	pts := r.history()
	report(t, "queue", pts)

	samples := plant()
	_, peak := meanMax(since(samples, r.started))
	last := since(samples, end.Add(-tail))
	mean, max := meanMax(last)
	ticks := len(metricValues(window(pts, end.Add(-tail), end)))
	warmers, coolers := totalRequested(pts)
	tailWarmers, _ := totalRequested(window(pts, end.Add(-tail), end))
	left, _ := filepath.Glob(filepath.Join(queue, "*.item"))
	t.Logf("queue (the test's own %d samples): peak %.0f items; last %v: mean %.1f, max %.0f; the replica read it %d times in that time; %d consumers launched (%d in the last %v); %d items left at the end",
		len(samples), peak, tail, mean, max, ticks, warmers, tailWarmers, tail, len(left))
	if peak < 30 {
		t.Errorf("the queue never held the initial burst (peak %.0f < 30): is the producer running?", peak)
	}
	if len(last) < 20 {
		t.Fatalf("only %d samples of the queue in the last %v", len(last), tail)
	}
	// Four items a second arrive; drained means a few items waiting at most, on average, and
	// never a backlog (the initial burst was 40).
	if mean > 5 || max > 15 {
		t.Errorf("the queue is not drained in the last %v: mean %.1f (want <= 5), max %.0f (want <= 15)", tail, mean, max)
	}
	// Stays drained while items keep arriving: consumers are still being started.
	if tailWarmers < 3 {
		t.Errorf("only %d consumers started in the last %v while 4 items a second arrived", tailWarmers, tail)
	}
	if warmers < 5 || coolers != 0 {
		t.Errorf("launched %d consumers and %d coolers, want >= 5 consumers and no cooler", warmers, coolers)
	}
}
