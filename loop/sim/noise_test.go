package sim

import (
	"math/rand/v2"
	"testing"
)

// A production metric is read with jitter; at a wall (an empty queue) the readings scatter
// around it, and the exact equality that tells a wall saw none. The operator's tolerance, the
// metric's noise band, is then the band of readings taken as at a known wall: learned from as
// measurements, ticks at an empty queue read as 137, 138 and 139 taught that consumers do
// nothing, and 1000 a tick were launched (137400 in 600 ticks, for a cost limit of 22520).
// Both queues here fill while consumers, the only kind, drain them; the metric is read with a
// jitter of -1..1 and the tolerance is 1. The control is still poor (the queue is drained to
// empty and refills, IAE about 1.4 times the limits without jitter): this test holds
// the floods and the cost, not the IAE.
func TestJitterAtAnEmptyQueueIsTheWall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		seed     uint64
		scenario string
	}{
		{"consumers of a queue offset by 138", 2075, `{"ticks":600,"target":{"type":"constant","value":116},
			"plant":{"type":"queue","initial":64,"arrival_per_tick":11,"items_per_run":1,"run_lifetime_ticks":5,"lag_ticks":13,"metric_sign":-1,"metric_offset":138},
			"relay":{"warmer":true,"cooler":false,"lookback":30},"controller":{"tolerance":1}}`},
		{"consumers that live two ticks", 2163, `{"ticks":200,"target":{"type":"constant","value":-15},
			"plant":{"type":"queue","initial":78,"arrival_per_tick":14,"items_per_run":3,"run_lifetime_ticks":2,"lag_ticks":15,"metric_sign":-1},
			"relay":{"warmer":true,"cooler":false,"lookback":200},"controller":{"tolerance":1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clean, err := Evaluate(mustParse(t, tc.scenario))
			if err != nil {
				t.Fatal(err)
			}
			s := mustParse(t, tc.scenario)
			rng := rand.New(rand.NewPCG(tc.seed, 7))
			s.Plant.noiseAt = func(int) float64 { return float64(rng.IntN(3) - 1) }
			rows, err := Run(s, Project)
			if err != nil {
				t.Fatal(err)
			}
			f := Compute(s, rows)
			most := 0
			for _, r := range rows {
				most = max(most, r.WarmersGranted, r.CoolersGranted)
			}
			t.Logf("at most %d a tick; cost %d (limit %.0f); IAE %.0f (limit %.0f, %d more for the jitter)", most, f.Cost, clean.CostLimit, f.IAE, clean.IAELimit, s.Ticks)
			if most > 150 {
				t.Errorf("%d units launched in one tick, want <= 150", most)
			}
			if float64(f.Cost) > clean.CostLimit {
				t.Errorf("cost %d, want <= %.0f", f.Cost, clean.CostLimit)
			}
		})
	}
}
