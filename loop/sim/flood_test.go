package sim

import (
	"math"
	"testing"
)

// TestNoFlood: scenarios where a learned effect per unit close to zero, or a prediction that
// ignored units in flight, had the controller launch hundreds or 1000 units in one tick. On a
// production cluster that is an incident; each case says what happened and which rule in
// package loop now prevents it. Each asserts the most units of a kind launched in one tick,
// the highest queue or task count, and the scenario's IAE or cost limit.
func TestNoFlood(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scenario string
		from, to int     // ticks whose launches are bounded (to 0 = the end)
		most     int     // most units of one kind in one tick
		highest  float64 // highest queue or task count from tick from on (0 = not checked)
		cost     bool    // check the cost limit rather than the IAE limit
	}{
		// A tick a queue spends empty while producers add items to it is censored: the
		// consumers took the items at once. Learned as a measurement, it taught that a
		// producer adds 0.003 items, and 1000 a tick were launched for a queue 11 items short
		// of its target: the queue rose to 6064 (IAE 30070).
		{name: "producers swallowed by an empty queue", most: 100, highest: 300,
			scenario: `{"ticks":450,"target":{"type":"sine","mean":-17.5,"amp":2.5,"period":291},
				"plant":{"type":"queue","initial":94,"arrival_per_tick":7,"items_per_run":2,"run_lifetime_ticks":5,"lag_ticks":5,"metric_sign":-1},
				"relay":{"warmer":true,"cooler":true,"lookback":64}}`},
		// Consumers of a queue that nothing fills never move the metric; learned at a
		// thousandth of an item a unit, with their name, they were launched 1000 a tick,
		// 198017 in 350 ticks. A kind seen acting while the metric never moved is launched in
		// at most what would close the error at one metric unit a unit.
		{name: "consumers of a queue nothing fills", most: 30, cost: true,
			scenario: `{"ticks":350,"target":{"type":"steps","steps":[[0,17],[60,19],[90,23],[150,14],[180,18]]},
				"plant":{"type":"queue","initial":0,"arrival_per_tick":0,"items_per_run":2,"run_lifetime_ticks":1,"lag_ticks":13,"metric_sign":1},
				"supply":{"starved":[[25,90]]},
				"relay":{"warmer":true,"cooler":false,"lookback":1000}}`},
		// A tasks count at its highest value ever was taken for a wall, the target (a sine at
		// its crest) a fraction under it. The warmers started to replace ending tasks were
		// judged futile at moving the metric off that wall (they push the other way), their
		// model was dropped, and once the tasks had ended 1000 were launched in one tick.
		{name: "tasks replacing ends judged futile at a wall", most: 100,
			scenario: `{"ticks":250,"target":{"type":"sine","mean":42.5,"amp":16.5,"period":381},
				"plant":{"type":"tasks","initial":9,"task_duration_ticks":5,"lag_ticks":0},
				"relay":{"warmer":true,"cooler":true,"lookback":100}}`},
		// A tasks count held flat at 48 was taken for a wall. When the target stepped to 64,
		// beyond it, every prediction was clipped at 48: the 16 tasks launched a tick were
		// never counted, 16 more were launched every tick for the 15 ticks of the lag, and
		// the count rose to 288 before 208 kills brought it back.
		{name: "units toward a target beyond a wall", from: 337, most: 60, highest: 80,
			scenario: `{"ticks":450,"target":{"type":"steps","steps":[[0,38],[47,37],[198,48],[337,64]]},
				"plant":{"type":"tasks","initial":11,"task_duration_ticks":13,"lag_ticks":15},
				"relay":{"warmer":true,"cooler":true,"lookback":1000}}`},
		// Consumers started 27 ticks after their launch, the first 129 of a batch of 1000,
		// emptied a queue in their first tick and were taken for a big effect. In the next
		// tick, the queue still empty, the 806 pending were predicted to drain it some 500
		// items past empty, and 265 producers of 18.7 items each were launched against that:
		// the queue rose to 5014 items for a target of 5, and 572 consumers followed. The
		// metric staying on its last extreme while units were expected to push it further is
		// taken for a possible wall too (wider seed 1401).
		{name: "producers against a drain predicted past an emptied queue, a tick later", to: 100, most: 150, highest: 2500,
			scenario: `{"plant":{"arrival_per_tick":29.1,"initial":233,"items_per_run":18.7,"lag_ticks":27,"metric_offset":0,"metric_sign":-1,"run_lifetime_ticks":1,"type":"queue"},
				"relay":{"cooler":true,"lookback":300,"ramp":1,"warmer":true},"supply":{"starved":[[104,174]]},
				"target":{"amp":2,"mean":-6,"period":352,"type":"sine"},"ticks":700}`},
		// A consumer that lives one tick starts, runs and ends within two ticks: from its
		// first unit the model cannot tell those effects apart, and a split that left it at a
		// two-thousandth of an item had 1000 consumers launched in each of two ticks (and 1000
		// producers after them) on a queue 16 items from its target (IAE 13660).
		{name: "a first unit's split", to: 69, most: 50,
			scenario: `{"ticks":350,"target":{"type":"sine","mean":-12.5,"amp":3.5,"period":110},
				"plant":{"type":"queue","initial":10,"arrival_per_tick":1,"items_per_run":0.5,"run_lifetime_ticks":1,"lag_ticks":14,"metric_sign":-1},
				"supply":{"starved":[[69,124]]},
				"relay":{"warmer":true,"cooler":true,"lookback":30}}`},
		// Consumers emptying a queue were predicted to drain it far past empty (the wall was
		// not yet known: the learner tells one a tick after the metric first stops there),
		// and 664 producers were launched in the tick it emptied; the queue rose to 3332
		// items for a target of 55.
		{name: "the tick a queue empties", most: 100, highest: 600,
			scenario: `{"ticks":350,"target":{"type":"constant","value":-55},
				"plant":{"type":"queue","initial":2,"arrival_per_tick":6,"items_per_run":5,"run_lifetime_ticks":5,"lag_ticks":17,"metric_sign":-1},
				"supply":{"starved":[[81,125]]},
				"relay":{"warmer":true,"cooler":true,"lookback":200}}`},
		// The metric's scale (loop's metricScale) brings readings below 1 into [30, 300): a
		// ratio of 0.4 for a target of 0.7 is controlled as 40 for 70. Taken from below 3, it
		// read a task count of 0 for a target of 2 as a fraction: 200 tasks were started for
		// the 2, then 1000 kills were asked for a tick.
		{name: "a count of 0 for a target of 2 is no fraction", most: 10, highest: 10,
			scenario: `{"ticks":300,"target":{"type":"steps","steps":[[0,2],[120,6],[200,1]]},
				"plant":{"type":"tasks","initial":0,"task_duration_ticks":39,"lag_ticks":19},
				"relay":{"warmer":true,"cooler":true,"lookback":1000}}`},
		// A fill ratio read as 0 for a target of 0.6 (60 in the controller's units, the scale
		// 0.01): consumers, the warmer, can do nothing to an empty queue, learned at +0.0001 a
		// unit and launched 60 a tick for the whole run (13388 units for a limit of 525); the
		// producers that fill it were never tried. A kind that has acted for twice the error's
		// units while the metric never moved is not believed to help.
		{name: "consumers of an empty queue read as a ratio", most: 60, cost: true,
			scenario: `{"ticks":300,"target":{"type":"square","low":0.3,"high":0.6,"period":100},
				"plant":{"type":"queue","initial":0,"arrival_per_tick":0,"items_per_run":0.005,"run_lifetime_ticks":1,"lag_ticks":2,"metric_sign":1},
				"relay":{"warmer":true,"cooler":true,"lookback":100}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rows := evaluateWithRows(t, mustParse(t, tc.scenario))
			to := len(rows)
			if tc.to > 0 {
				to = tc.to
			}
			most, highest := 0, 0.0
			for _, row := range rows[tc.from:to] {
				most = max(most, row.WarmersGranted, row.CoolersGranted)
			}
			for _, row := range rows[tc.from:] {
				highest = math.Max(highest, row.State)
			}
			t.Logf("ticks %d-%d: at most %d units of a kind in a tick; highest %.0f; IAE %.0f (limit %.0f); cost %d (limit %.0f)",
				tc.from, to-1, most, highest, r.Mine.IAE, r.IAELimit, r.Mine.Cost, r.CostLimit)
			if most > tc.most {
				t.Errorf("%d units of a kind launched in one tick, want <= %d", most, tc.most)
			}
			if tc.highest > 0 && highest > tc.highest {
				t.Errorf("the queue or task count rose to %.0f, want <= %.0f", highest, tc.highest)
			}
			if tc.cost && float64(r.Mine.Cost) > r.CostLimit {
				t.Errorf("cost %d, want <= %.0f", r.Mine.Cost, r.CostLimit)
			}
			if !tc.cost && r.Mine.IAE > r.IAELimit {
				t.Errorf("IAE %.0f, want <= %.0f", r.Mine.IAE, r.IAELimit)
			}
		})
	}
}
