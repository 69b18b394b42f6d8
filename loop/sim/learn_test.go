package sim

import (
	"math"
	"testing"
)

// TestFirstBatchDrainingToEmptyIsNotLearnedAsWeak: a queue whose first batch of consumers
// empties it in one tick drained less than the batch could; the controller must not take that
// as the consumers' strength, or every later recovery asks for too many (an overshoot after
// starvation). After the run its learned effect per consumer is within 5% of the truth.
func TestFirstBatchDrainingToEmptyIsNotLearnedAsWeak(t *testing.T) {
	tests := []struct {
		name string
		js   string
		want float64 // true effect of one unit at the coincidence point
	}{
		{"life 1", `{"ticks":300,"target":{"type":"constant","value":-40},
			"plant":{"type":"queue","initial":300,"arrival_per_tick":10,"items_per_run":10,"run_lifetime_ticks":1,"lag_ticks":6},
			"supply":{"starved":[[150,170]]},"relay":{"cooler":false}}`, 10},
		// The batch empties the queue and the arrivals refill it the next tick, before any
		// consumer runs again: the metric never rests at the wall, so nothing but the shortfall
		// at a new extreme shows that the movement was cut. Learned as a measurement, that one
		// tick set the effect per consumer about 13% low for over a hundred ticks, and the
		// recovery after starvation overshot by 39 with 64 left.
		{"first touch refilled at once", `{"ticks":300,"target":{"type":"steps","steps":[[0,-93],[30,-54],[120,-85]]},
			"plant":{"type":"queue","initial":26,"arrival_per_tick":7,"items_per_run":2,"run_lifetime_ticks":1,"lag_ticks":20},
			"supply":{"starved":[[160,189]]},"relay":{"cooler":true}}`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.js)
			rows, ctrl, err := runProjectController(s)
			if err != nil {
				t.Fatal(err)
			}
			got := ctrl.Terms().WarmerPerUnit
			if math.Abs(got-tc.want) > 0.05*tc.want {
				t.Errorf("learned %.2f per unit, want %.0f", got, tc.want)
			}
			f := Compute(s, rows)
			for _, w := range f.PostStarve {
				if !w.OK() {
					t.Errorf("after [%d,%d): overshoot %.1f, error left %.1f", w.Start, w.End, w.Overshoot, w.ErrorLeft)
				}
			}
		})
	}
}

// TestKillsInFlightAreNotCountedTwice: with short tasks and a long lag, a cooler in flight kills
// a task that would have ended anyway. Counting both the kill and that task's end predicts the
// metric too low, so the controller asks for too many warmers and overshoots a falling target.
func TestKillsInFlightAreNotCountedTwice(t *testing.T) {
	s := mustParse(t, `{"ticks":300,"target":{"type":"sine","mean":39,"amp":30,"period":383},
		"plant":{"type":"tasks","initial":12,"task_duration_ticks":5,"lag_ticks":16},
		"supply":{"starved":[[149,195]]},"relay":{"warmer":true,"cooler":true}}`)
	rows, f := runMine(t, s)
	for _, w := range f.PostStarve {
		if !w.OK() {
			t.Errorf("after [%d,%d): overshoot %.1f past the tracking band %.1f, error left %.1f", w.Start, w.End, w.Overshoot, w.Band, w.ErrorLeft)
		}
	}
	// Tracking the falling half (after the recovery): PV stays within the band of SP.
	worst := 0.0
	for _, r := range rows[215:290] {
		worst = math.Max(worst, r.PV-r.SP-trackingBand(rows, r.Tick, s.Plant.responseTicks()))
	}
	if worst > 5 {
		t.Errorf("PV up to %.1f above SP beyond the tracking band on the falling half", worst)
	}
}

// TestKilledTasksLeaveTheLifeRight: coolers kill the newest running tasks. Left among the
// starts, the killed tasks made every later natural end look younger than it was (the running
// tasks were taken to be the youngest starts, killed ones included): the learned life of
// 79-tick tasks sank to 69, replacements were launched ten ticks before the ends they were for,
// and the metric rose 24 above a falling target. The learned life stays within 3% of the truth.
func TestKilledTasksLeaveTheLifeRight(t *testing.T) {
	s := mustParse(t, `{"ticks":250,"target":{"type":"sine","mean":52,"amp":15,"period":378},
		"plant":{"type":"tasks","initial":11,"task_duration_ticks":79,"lag_ticks":1},
		"supply":{"max_units_per_tick":6},"relay":{"warmer":true,"cooler":true}}`)
	rows, ctrl, err := runProjectController(s)
	if err != nil {
		t.Fatal(err)
	}
	f := Compute(s, rows)
	life := ctrl.Terms().WarmerLife
	worst := 0.0
	for _, r := range rows[100:] {
		worst = math.Max(worst, math.Abs(r.PV-r.SP))
	}
	t.Logf("learned life %.1f (truth 79), IAE %.0f, worst |PV-SP| after tick 100: %.1f", life, f.IAE, worst)
	if math.Abs(life-79) > 0.03*79 {
		t.Errorf("learned life %.1f, want 79 within 3%%", life)
	}
	if worst > 10 {
		t.Errorf("|PV-SP| reached %.1f after tick 100, want <= 10", worst)
	}
}

// The first ends of a kind teach its life at once and their effect only a tick later. In that
// tick the prior's end effect (a task count falls by one when a task ends) must not be taken
// for the consumers': each of 236 consumers in flight was expected to put an item back as it
// ended, 916 were launched in one tick (1041 in ticks 15-34) and the queue was drained to empty,
// 26 items below its target. With the end effect left out until learned: 762, lowest 25.5.
func TestFirstEndsDoNotCarryThePriorsEndEffect(t *testing.T) {
	s := mustParse(t, `{"ticks":120,"target":{"type":"constant","value":-26},
		"plant":{"type":"queue","initial":28,"arrival_per_tick":8,"items_per_run":0.5,"run_lifetime_ticks":1,"lag_ticks":20,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":false}}`)
	rows, _, err := runProjectController(s)
	if err != nil {
		t.Fatal(err)
	}
	burst, lowest := 0, math.Inf(1)
	for _, r := range rows[15:35] {
		burst += r.Executed
	}
	for _, r := range rows[35:80] {
		lowest = math.Min(lowest, r.State)
	}
	t.Logf("consumers launched in ticks 15-34: %d; lowest queue in ticks 35-79: %.1f (target 26)", burst, lowest)
	if burst > 900 {
		t.Errorf("%d consumers launched in ticks 15-34, want <= 900", burst)
	}
	if lowest < 10 {
		t.Errorf("queue fell to %.1f, want >= 10 (target 26)", lowest)
	}
}

// Ends of consumers that meet coolers adding items to a queue are not kills. Before the life is
// known, every end on a tick with coolers acting was taken for one (up to the coolers' count)
// and nothing was learned from that tick: a batch of 36 consumers ending as 5 coolers acted
// taught nothing, 5 of the newest starts were dropped as killed, and the life was first learned
// from later ends matched to the wrong starts: 13 ticks for 12, still 13.3 at tick 200.
func TestConsumersEndingBesideCoolersTeachTheirLife(t *testing.T) {
	s := mustParse(t, `{"ticks":200,"target":{"type":"constant","value":169},
		"plant":{"type":"queue","initial":34,"arrival_per_tick":5,"items_per_run":3,"run_lifetime_ticks":12,"lag_ticks":14,"metric_sign":1,"metric_offset":58},
		"relay":{"warmer":true,"cooler":true}}`)
	_, ctrl, err := runProjectController(s)
	if err != nil {
		t.Fatal(err)
	}
	life := ctrl.Terms().WarmerLife
	t.Logf("learned consumer life %.2f (truth 12)", life)
	if math.Abs(life-12) > 0.03*12 {
		t.Errorf("learned life %.2f, want 12 within 3%%", life)
	}
}

// After a starved window the metric approaches the target without crossing it: a move toward
// the target is rounded down for the next 50 ticks. Rounded to the nearest, consumers that take
// 60 items each, 11 ticks after their launch, drained the queue that the window left 180 items
// above its target by 30 items past it, to empty (a tenth of the error left, 18, is what the
// target allows; the greedy reference crosses it by 24). The same holds for 20 or 40 items a
// consumer and lags of 3 or 6.
func TestAfterStarvingTheTargetIsApproachedNotCrossed(t *testing.T) {
	s := mustParse(t, `{"ticks":300,"target":{"type":"constant","value":-30},
		"plant":{"type":"queue","initial":30,"arrival_per_tick":6,"items_per_run":60,"run_lifetime_ticks":1,"lag_ticks":11,"metric_sign":-1},
		"supply":{"starved":[[100,137]]},"relay":{"warmer":true,"cooler":false,"lookback":1000}}`)
	r, err := Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mine.PostStarve) != 1 {
		t.Fatalf("%d starved windows, want 1", len(r.Mine.PostStarve))
	}
	w := r.Mine.PostStarve[0]
	t.Logf("error left %.1f, overshoot after the window %.1f (reference %.1f); IAE %.0f (limit %.0f)",
		w.ErrorLeft, w.Overshoot, r.Ref.PostStarve[0].Overshoot, r.Mine.IAE, r.IAELimit)
	if !w.OK() {
		t.Errorf("overshoot %.1f after the window, want <= %.1f (a tenth of the %.1f left)", w.Overshoot, 0.1*w.ErrorLeft, w.ErrorLeft)
	}
	if r.Mine.IAE > r.IAELimit {
		t.Errorf("IAE %.0f, want <= %.0f", r.Mine.IAE, r.IAELimit)
	}
}

// A kind is not launched against the other kind's units while their life is unknown: consumers
// whose ends have not been seen are predicted to drain the queue for ever. 88 consumers in
// flight on a queue of 70 items (each takes 1 item a tick for 8 ticks, after a lag of 19) drew
// 725 coolers in one tick and 1146 in ticks 0-39, each adding an item 19 ticks later, once the
// consumers had ended: the queue rose to 936 items (IAE 9326 for a limit of 2144). Now: 23
// coolers, highest queue 80, IAE 1412.
func TestNoCoolersAgainstConsumersOfUnknownLife(t *testing.T) {
	s := mustParse(t, `{"ticks":150,"target":{"type":"steps","steps":[[0,-23],[123,-32]]},
		"plant":{"type":"queue","initial":14,"arrival_per_tick":3,"items_per_run":1,"run_lifetime_ticks":8,"lag_ticks":19,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":true,"lookback":30}}`)
	r, rows := evaluateWithRows(t, s)
	coolers, highest := 0, 0.0
	for _, row := range rows[:40] {
		coolers += max(-row.Executed, 0)
	}
	for _, row := range rows {
		highest = math.Max(highest, row.State)
	}
	t.Logf("coolers launched in ticks 0-39: %d; highest queue %.0f; IAE %.0f (limit %.0f)", coolers, highest, r.Mine.IAE, r.IAELimit)
	if coolers > 100 {
		t.Errorf("%d coolers launched in ticks 0-39, want <= 100", coolers)
	}
	if highest > 200 {
		t.Errorf("queue rose to %.0f items, want <= 200 (target 23)", highest)
	}
	if r.Mine.IAE > r.IAELimit {
		t.Errorf("IAE %.0f, want <= %.0f", r.Mine.IAE, r.IAELimit)
	}
}

// A probe that clearly answers settles the kind. One cooler adding 10 items to a queue pushed
// the metric 10 away from its target; the probe's own misprediction had been counted as the
// metric's noise, the answer was judged lost in it, and two more coolers were probed (the queue
// left 30 items from its target for good). Now the cooler is not probed again until the
// re-probe against a deadlock is due (after 400 ticks here).
func TestAClearProbeIsNotRepeated(t *testing.T) {
	s := mustParse(t, `{"ticks":500,"target":{"type":"constant","value":-4},
		"plant":{"type":"queue","initial":67,"items_per_run":10,"run_lifetime_ticks":1,"lag_ticks":12,"metric_sign":-1,"metric_offset":21},
		"relay":{"warmer":false,"cooler":true,"lookback":128}}`)
	rows, _, err := runProjectController(s)
	if err != nil {
		t.Fatal(err)
	}
	coolers := 0
	for _, r := range rows[:400] {
		coolers += max(-r.Executed, 0)
	}
	t.Logf("coolers launched in ticks 0-399: %d", coolers)
	if coolers != 1 {
		t.Errorf("%d coolers launched in ticks 0-399, want 1 (the first probe)", coolers)
	}
}

// A clear answer need not be a large one. On a still queue (no arrivals, nothing else moving
// it) one cooler that adds half an item pushes the metric half a unit from its target: the
// answer, though smaller than one metric unit. It was judged lost in the metric's motion and
// the probes doubled, 1, 2, 4, 8 coolers, each pushing the queue further from its target
// (IAE 8592 for a limit of 8088; a generated scenario, seed 2150).
func TestASmallClearAnswerOnAStillMetricSettlesTheProbe(t *testing.T) {
	s := mustParse(t, `{"ticks":350,"target":{"type":"constant","value":-28},
		"plant":{"type":"queue","initial":52,"items_per_run":0.5,"run_lifetime_ticks":12,"lag_ticks":9,"metric_sign":-1},
		"relay":{"warmer":false,"cooler":true,"lookback":1000}}`)
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	coolers := 0
	for _, r := range rows {
		coolers += max(-r.Executed, 0)
	}
	t.Logf("coolers launched: %d", coolers)
	if coolers != 1 {
		t.Errorf("%d coolers launched, want 1 (the first probe)", coolers)
	}
}

// The model's memory starts short and grows to Lookback. A consumer takes 5 items a tick for 9
// ticks from a queue that 11 items a tick fill; the first ticks (a queue drained to empty by the
// prior's first batch) left the model at 2.2 items a tick per consumer and an arrival of 4.8,
// and with 100 ticks of memory from the start that split held: the queue swung between 39 and
// 69 around its target of 60 to the end (IAE 1903 for a limit of 1453).
func TestAWrongSplitOfDriftAndEffectIsForgotten(t *testing.T) {
	s := mustParse(t, `{"ticks":150,"target":{"type":"constant","value":-60},
		"plant":{"type":"queue","initial":22,"arrival_per_tick":11,"items_per_run":5,"run_lifetime_ticks":9,"lag_ticks":1,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":true,"lookback":200}}`)
	r, rows := evaluateWithRows(t, s)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range rows[100:] {
		lo, hi = math.Min(lo, row.State), math.Max(hi, row.State)
	}
	t.Logf("queue in ticks 100-149 between %.0f and %.0f (target 60); IAE %.0f (limit %.0f)", lo, hi, r.Mine.IAE, r.IAELimit)
	if r.Mine.IAE > r.IAELimit {
		t.Errorf("IAE %.0f, want <= %.0f", r.Mine.IAE, r.IAELimit)
	}
}

// A metric whose units move it by a hundredth (a consumer takes a hundredth of an item a
// tick) is no reason to launch fewer units. The bound on a kind's units a tick (at one metric
// unit a unit, unless the kind has been seen moving the metric) counted a move as one of at
// least 1: the consumers never showed, they were held to the error (15 a tick) while the
// queue needed 50 a tick against its arrivals, and it ran away from its target (IAE 11671 and
// 11750). Now a move counts from a hundredth of the range the metric has covered.
func TestASmallScaleMetricIsNotHeldToItsError(t *testing.T) {
	for _, tc := range []struct{ name, sign, target string }{
		{"consumers raise the metric -q", "-1", "-5"},
		{"consumers lower the metric q, against their name", "1", "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, `{"ticks":300,"target":{"type":"constant","value":`+tc.target+`},
				"plant":{"type":"queue","initial":20,"arrival_per_tick":0.5,"items_per_run":0.01,"run_lifetime_ticks":1,"lag_ticks":1,"metric_sign":`+tc.sign+`},
				"relay":{"warmer":true,"cooler":false,"lookback":100}}`)
			r, err := Evaluate(s)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("IAE %.0f (limit %.0f), cost %d", r.Mine.IAE, r.IAELimit, r.Mine.Cost)
			if r.Mine.IAE > r.IAELimit {
				t.Errorf("IAE %.0f, want <= %.0f", r.Mine.IAE, r.IAELimit)
			}
		})
	}
}

// evaluateWithRows judges the project's controller on s against its targets and returns its
// per-tick rows too.
func evaluateWithRows(t *testing.T, s *Scenario) (*Result, []Row) {
	t.Helper()
	r, err := Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := runProjectController(s)
	if err != nil {
		t.Fatal(err)
	}
	return r, rows
}

// A moving target is met where it will be when a unit launched now acts, not trailed by the
// plant's lag: aimed at where it was, tasks that start 8 ticks after their launch trailed a sine
// target by 4.0 on average and consumers of a queue that start 6 ticks after theirs by 5.8.
func TestAMovingTargetIsMetWhereItWillBe(t *testing.T) {
	cases := []struct {
		name     string
		scenario string
		want     float64 // mean |SP - PV| from tick 100
	}{
		{"tasks", `{"ticks":400,"target":{"type":"sine","mean":40,"amp":25,"period":200},
			"plant":{"type":"tasks","initial":0,"task_duration_ticks":20,"lag_ticks":8},
			"relay":{"warmer":true,"cooler":true,"lookback":1000}}`, 1},
		{"queue consumers and producers", `{"ticks":400,"target":{"type":"sine","mean":-60,"amp":40,"period":250},
			"plant":{"type":"queue","initial":50,"arrival_per_tick":8,"items_per_run":2,"run_lifetime_ticks":6,"lag_ticks":6},
			"relay":{"warmer":true,"cooler":true,"lookback":1000}}`, 2.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Run(mustParse(t, tc.scenario), Project)
			if err != nil {
				t.Fatal(err)
			}
			sum, n := 0.0, 0
			for _, r := range rows[100:] {
				sum += math.Abs(r.SP - r.PV)
				n++
			}
			t.Logf("mean |SP - PV| from tick 100: %.2f", sum/float64(n))
			if sum/float64(n) > tc.want {
				t.Errorf("mean |SP - PV| %.2f, want <= %v", sum/float64(n), tc.want)
			}
		})
	}
}

// A target whose course is slowing (a sine past its midline) is led only half as far as it has
// moved smoothly: it is about to turn. Led as far, kills of tasks that take 29 ticks to act
// were aimed 16 below the trough of a sine of period 63; with no warmer to start tasks again,
// the count fell to 12 for a target of 29 to 75 (wider seed 52: IAE 26080 for a limit of
// 21290; now about 20300, the count never below 21).
func TestKillsAreNotLedPastASlowingTargetsTurn(t *testing.T) {
	s := mustParse(t, `{"plant":{"initial":77,"lag_ticks":29,"task_duration_ticks":82,"type":"tasks"},
		"relay":{"cooler":true,"lookback":1000,"ramp":1,"warmer":false},"supply":{"max_units_per_tick":58,"starved":[[296,337]]},
		"target":{"amp":23,"mean":52,"period":63,"type":"sine"},"ticks":700}`)
	r, err := Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	lowest := math.Inf(1)
	for _, row := range rows {
		lowest = math.Min(lowest, row.PV)
	}
	t.Logf("IAE %.0f (limit %.0f), cost %d, lowest count %v (the target's lowest 29)", r.Mine.IAE, r.IAELimit, r.Mine.Cost, lowest)
	if len(r.Failed) > 0 {
		t.Errorf("missed %v", r.Failed)
	}
	if lowest < 19 {
		t.Errorf("tasks killed down to %v for a target never below 29", lowest)
	}
}

// After a starved window the controller judges new units further ahead (careReach times
// Coincidence: 30 ticks at the default 20). Judged at 20 ticks, consumers that live 28 or 24
// ticks were asked for enough to close the window's gap by then, and the ones still running
// carried the queue past its target: 15.4 items past it on the first plant (the bound is a
// tenth of the 86.3 the window left), 0.2 on the second (for 0.03). Both meet every target.
func TestAfterAStarvedWindowNewUnitsAreJudgedFurtherAhead(t *testing.T) {
	tests := []struct {
		name string
		js   string
	}{
		{"consumers of 28 ticks, 8 ticks of lag, a queue filling by 7.3 a tick",
			`{"plant":{"arrival_per_tick":7.3,"initial":48,"items_per_run":0.4,"lag_ticks":8,"metric_offset":936,"metric_sign":-1,"run_lifetime_ticks":28,"type":"queue"},
			"relay":{"cooler":true,"lookback":100,"ramp":3,"warmer":true},"supply":{"starved":[[214,246]]},"target":{"type":"constant","value":734},"ticks":300}`},
		{"consumers of 24 ticks, a supply of 42 a tick, a square target",
			`{"plant":{"arrival_per_tick":1.7,"initial":392,"items_per_run":0.1,"lag_ticks":5,"metric_offset":0,"metric_sign":-1,"run_lifetime_ticks":24,"type":"queue"},
			"relay":{"cooler":true,"lookback":300,"ramp":1,"warmer":true},"supply":{"max_units_per_tick":42,"starved":[[260,266]]},
			"target":{"high":-48,"low":-66,"period":226,"type":"square"},"ticks":700}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Evaluate(mustParse(t, tc.js))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range r.Mine.PostStarve {
				t.Logf("window [%d,%d): error left %.1f, overshoot after it %.1f", w.Start, w.End, w.ErrorLeft, w.Overshoot)
			}
			t.Logf("IAE %.0f (limit %.0f), cost %d, failed %v", r.Mine.IAE, r.IAELimit, r.Mine.Cost, r.Failed)
			if len(r.Failed) > 0 {
				t.Errorf("failed %v, want every target met", r.Failed)
			}
		})
	}
}

// A persistent error of less than 1/2.5 of what one unit does on its first tick of acting is
// left alone until the re-probe's wait (20 ProbeAfters) has passed: the unit would bring the
// metric no closer at any tick. A consumer that took 25.3 items a tick for 23 ticks was launched for a
// queue 6.5 items above its target after a starved window: the queue fell 18 below the target
// and producers were launched to undo it, 66 units in the 120 ticks after the window
// (post-starvation overshoot 17.7 for an allowed 0.6; the reference launched nothing). A
// producer of 21.5 items was launched for a queue 4 items below its target, and a consumer to
// undo it, 164 units in ticks 90-469; one left the queue 17.5 above its target where a starved
// window found it (overshoot 4.0 after it, for an allowed 1.8). The wait ends: one unit is
// tried 400 ticks after the last.
func TestAUnitTooCoarseForAPersistentErrorWaits(t *testing.T) {
	tests := []struct {
		name      string
		scenario  string
		from, to  int // no unit is launched in [from, to)
		wantAfter bool
	}{
		{"a consumer of 580 items for an error of 6.5 after a starved window", `{"ticks":250,
			"target":{"type":"sine","mean":68.5,"amp":1.5,"period":362},
			"plant":{"type":"queue","initial":426,"items_per_run":25.3,"run_lifetime_ticks":23,"lag_ticks":14,"metric_sign":1},
			"supply":{"starved":[[100,130]]},"relay":{"warmer":true,"cooler":true,"lookback":10}}`, 130, 250, false},
		{"a producer of 21.5 items for an error of 4", `{"ticks":500,
			"target":{"type":"constant","value":90},
			"plant":{"type":"queue","initial":240,"items_per_run":21.5,"run_lifetime_ticks":40,"lag_ticks":8,"metric_sign":1},
			"supply":{"max_units_per_tick":40,"starved":[[38,77],[376,409]]},"relay":{"warmer":true,"cooler":true,"lookback":1000}}`, 90, 470, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.scenario)
			r, rows := evaluateWithRows(t, s)
			units, after := 0, 0
			for _, row := range rows[tc.from:] {
				n := row.WarmersGranted + row.CoolersGranted
				if row.Tick < tc.to {
					units += n
				} else {
					after += n
				}
			}
			t.Logf("units in ticks %d-%d: %d, after: %d; IAE %.0f (limit %.0f, reference %.0f); post-starvation %+v",
				tc.from, tc.to-1, units, after, r.Mine.IAE, r.IAELimit, r.Ref.IAE, r.Mine.PostStarve)
			if units > 0 {
				t.Errorf("%d units launched in ticks %d-%d, want none", units, tc.from, tc.to-1)
			}
			if tc.wantAfter && after == 0 {
				t.Errorf("no unit launched from tick %d: the persistent error was waited on for ever", tc.to)
			}
			for _, w := range r.Mine.PostStarve {
				if !w.OK() {
					t.Errorf("overshoot %.1f after the window [%d,%d), want <= %.1f", w.Overshoot, w.Start, w.End, 0.1*w.ErrorLeft)
				}
			}
			if r.Mine.Deadlock {
				t.Errorf("deadlock at tick %d", r.Mine.DeadlockAt)
			}
		})
	}
}

// The margin of that rule: the first tick's share of a unit's effect is learned less surely than
// the whole. A consumer of 7.3 items a tick was learned at 8.25; judged against twice the error,
// it was not launched for a queue 3.7 items above its target, though it would have brought the
// queue closer on its first tick (to 3.6 below), and the queue was left there until the target
// moved at tick 220: a deadlock from tick 73 by FORMAT.md as the bench counts it.
func TestAUnitNearlyTwiceThePersistentErrorIsLaunched(t *testing.T) {
	s := mustParse(t, `{"ticks":500,
		"target":{"type":"steps","steps":[[0,199],[30,197],[220,195],[340,191],[394,192]]},
		"plant":{"type":"queue","initial":168,"items_per_run":7.3,"run_lifetime_ticks":32,"lag_ticks":14,"metric_offset":135,"metric_sign":1},
		"relay":{"warmer":true,"cooler":true,"lookback":1000,"ramp":3}}`)
	r, err := Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IAE %.0f (reference %.0f), cost %d, deadlock %v at %d", r.Mine.IAE, r.Ref.IAE, r.Mine.Cost, r.Mine.Deadlock, r.Mine.DeadlockAt)
	if r.Mine.Deadlock {
		t.Errorf("deadlock from tick %d", r.Mine.DeadlockAt)
	}
}

// A re-probe at a wall that the kind is believed to push into is not doubled: it told what the
// belief predicts. One consumer (6.4 items a tick for 35 ticks) emptied a queue of 87 whose
// target is 119 items, which only producers, absent here, could reach. From tick 385 the
// consumers were re-probed 1, 2, 4, ..., 64 and then 119 at a time on the empty queue: 247 units
// in the run, for nothing.
func TestAReprobeIntoAWallIsNotDoubled(t *testing.T) {
	s := mustParse(t, `{"ticks":800,"target":{"type":"constant","value":-119},
		"plant":{"type":"queue","initial":87,"items_per_run":6.4,"run_lifetime_ticks":35,"lag_ticks":2,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":false,"lookback":30}}`)
	r, err := Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("units %d (reference %d); IAE %.0f (reference %.0f); deadlock %v", r.Mine.Cost, r.Ref.Cost, r.Mine.IAE, r.Ref.IAE, r.Mine.Deadlock)
	if r.Mine.Cost > 10 {
		t.Errorf("%d consumers launched, want <= 10", r.Mine.Cost)
	}
	if r.Mine.Deadlock {
		t.Errorf("deadlock at tick %d", r.Mine.DeadlockAt)
	}
}
