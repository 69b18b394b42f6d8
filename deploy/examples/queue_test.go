package examples

import (
	"os"
	"path/filepath"
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
	r := startExample(t, "queue", "queue/env", "QUEUE_DIR="+queue)

	const run, tail = 45 * time.Second, 15 * time.Second
	sleepFor(t, run-time.Since(r.started))
	pts := r.history()
	report(t, "queue", pts)

	_, peak := meanMax(metricValues(pts))
	end := time.Now()
	last := window(pts, end.Add(-tail), end)
	mean, max := meanMax(metricValues(last))
	warmers, coolers := totalRequested(pts)
	left, _ := filepath.Glob(filepath.Join(queue, "*.item"))
	t.Logf("queue: peak %.0f items; last %v: mean %.1f, max %.0f; %d consumers launched; %d items left at the end",
		peak, tail, mean, max, warmers, len(left))
	if peak < 30 {
		t.Errorf("the queue never held the initial burst (peak %.0f < 30): is the producer running?", peak)
	}
	if len(last) < 10 {
		t.Fatalf("only %d ticks in the last %v", len(last), tail)
	}
	// Four items a second arrive; drained means a few items waiting at most, on average.
	if mean > 5 || max > 15 {
		t.Errorf("the queue is not drained in the last %v: mean %.1f (want <= 5), max %.0f (want <= 15)", tail, mean, max)
	}
	if warmers < 5 || coolers != 0 {
		t.Errorf("launched %d consumers and %d coolers, want >= 5 consumers and no cooler", warmers, coolers)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "deploy/examples/queue/env")); err != nil {
		t.Error(err)
	}
}
