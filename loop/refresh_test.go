package loop

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A metric refreshed less often than it is read (a series scraped every 15 s, read every
// second) is told from one that changes every tick and from one that sits still and moves now
// and then; the period found is what a user sets --delay to.
func TestRefreshWatchFindsAHeldMetric(t *testing.T) {
	held := func(every int) func(t int) (float64, bool) {
		return func(t int) (float64, bool) { return float64(t / every), true }
	}
	for _, tc := range []struct {
		name  string
		read  func(t int) (float64, bool)
		ticks int
		want  int
	}{
		{"changes every tick", func(t int) (float64, bool) { return float64(t % 7), true }, 200, 0},
		{"refreshed every 5 ticks", held(5), 200, 5},
		{"refreshed every 15 ticks", held(15), 400, 15},
		{"scraped every 15 s, read every 1.03 s (runs of 14 and 15)", func(t int) (float64, bool) {
			return float64(int(float64(t) * 1.03 / 15)), true
		}, 400, 15},
		{"every 5 ticks with a miss every 7th tick", func(t int) (float64, bool) {
			return float64(t / 5), t%7 != 3
		}, 200, 5},
		{"a still count that moves now and then", func(t int) (float64, bool) {
			v := 20.0
			for _, at := range []int{3, 10, 12, 30, 31, 50, 90, 95, 140, 141, 170} {
				if t >= at {
					v++
				}
			}
			return v, true
		}, 200, 0},
		{"a count held at its target, changing every other tick", func(t int) (float64, bool) {
			return float64(16 + (t/2)%2), true
		}, 200, 0},
		{"refreshed every 5 ticks, then still", func(t int) (float64, bool) { return float64(min(t, 100) / 5), true }, 200, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w refreshWatch
			got := 0
			for i := 0; i < tc.ticks; i++ {
				got = w.observe(tc.read(i))
			}
			if got != tc.want {
				t.Fatalf("period %d ticks, want %d", got, tc.want)
			}
		})
	}
}

// The runner warns once when the metric holds each value for several ticks, says how often it
// changes and what to set, and reports the period with every tick.
func TestRunnerWarnsOfAMetricRefreshedSlowerThanItTicks(t *testing.T) {
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Warn})
	tick := 0
	read := ReaderFunc(func(context.Context, time.Time) (Sample, Sample) {
		tick++
		return Sample{Value: float64(tick / 15), OK: true}, Sample{Value: 3, OK: true}
	})
	var every []int
	obs := ObserverFunc(func(rec *TickRecord) { every = append(every, rec.MetricEvery) })
	r, err := NewRunner(RunnerConfig{Delay: time.Second, SourceTimeout: time.Second}, New(DefaultConfig()), read, &recordingActuator{}, obs, &fakeClock{}, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		r.Tick(context.Background())
	}
	out := buf.String()
	if n := strings.Count(out, "metric_refresh_slower_than_tick"); n != 1 || !strings.Contains(out, "every_ticks=15") || !strings.Contains(out, "every=15s") {
		t.Fatalf("want one warning naming 15 ticks (15s); log:\n%s", out)
	}
	if every[50] != 0 || every[199] != 15 {
		t.Fatalf("MetricEvery at ticks 50 and 199: %d and %d, want 0 (not yet 10 changes) and 15", every[50], every[199])
	}
}
