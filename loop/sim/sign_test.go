package sim

import (
	"math"
	"testing"
)

// TestWarmerThatLowersTheMetricDrainsTheQueue is the seed's first use case as users write it:
// metric = queue size (metric_sign +1), target 20 or 0, warmer = a consumer task. The warmer's
// name says it raises the metric; here it lowers it. The controller must find that out from
// the plant's answers (under an arrival that drifts the queue up faster than one consumer
// drains it), drain the queue to the target and hold it there.
func TestWarmerThatLowersTheMetricDrainsTheQueue(t *testing.T) {
	sine := func(t int) float64 { return 6 + 4*math.Sin(2*math.Pi*float64(t)/120) } // 2..10 items/tick
	tests := []struct {
		name    string
		js      string
		arrival func(int) float64 // nil: the file's constant arrival
		settle  int               // by this tick the queue must be near the target ...
		band    float64           // ... within this band, and stay there
		iaeMax  float64           // IAE over the whole run
	}{
		{"demo: sine arrival, target 20", `{"ticks":300,"target":{"type":"constant","value":20},
			"plant":{"type":"queue","initial":150,"items_per_run":1,"run_lifetime_ticks":10,"lag_ticks":2,"metric_sign":1},
			"relay":{"cooler":false}}`, sine, 100, 25, 5000},
		{"constant arrival, target 0, lag 3", `{"ticks":300,"target":{"type":"constant","value":0},
			"plant":{"type":"queue","initial":150,"arrival_per_tick":6,"items_per_run":1,"run_lifetime_ticks":10,"lag_ticks":3,"metric_sign":1},
			"relay":{"cooler":false}}`, nil, 100, 5, 6000},
		{"life 1, k 5, arrival 10", `{"ticks":200,"target":{"type":"constant","value":0},
			"plant":{"type":"queue","initial":100,"arrival_per_tick":10,"items_per_run":5,"run_lifetime_ticks":1,"lag_ticks":2,"metric_sign":1},
			"relay":{"cooler":false}}`, nil, 80, 5, 2700},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.js)
			s.Plant.arrivalAt = tc.arrival
			rows, err := Run(s, Project)
			if err != nil {
				t.Fatal(err)
			}
			f := Compute(s, rows)
			worst, at := 0.0, 0
			for _, r := range rows[tc.settle:] {
				if e := math.Abs(r.PV - r.SP); e > worst {
					worst, at = e, r.Tick
				}
			}
			t.Logf("IAE %.0f, cost %d, worst |PV-SP| after tick %d: %.1f at %d, last PV %.0f", f.IAE, f.Cost, tc.settle, worst, at, rows[len(rows)-1].PV)
			if worst > tc.band {
				t.Errorf("|PV-SP| reached %.1f at tick %d, want <= %.0f after tick %d", worst, at, tc.band, tc.settle)
			}
			if f.IAE > tc.iaeMax {
				t.Errorf("IAE %.0f, want <= %.0f", f.IAE, tc.iaeMax)
			}
			if f.Deadlock {
				t.Errorf("deadlock at %d", f.DeadlockAt)
			}
		})
	}
}
