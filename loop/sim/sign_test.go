package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
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
			rows, f := runMine(t, s)
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

// TestSwampedProbeEscalates: one consumer drains 1 item a tick for 2 ticks while the arrival
// swings by ±9 items a tick around 20, so a single unit's effect is lost in the metric's own
// motion. The controller must not give up after one probe: it probes with more units until
// the effect shows, then drains the queue.
func TestSwampedProbeEscalates(t *testing.T) {
	s := mustParse(t, `{"ticks":300,"target":{"type":"constant","value":50},
		"plant":{"type":"queue","initial":100,"items_per_run":1,"run_lifetime_ticks":2,"lag_ticks":1,"metric_sign":1},
		"relay":{"cooler":false}}`)
	s.Plant.arrivalAt = func(t int) float64 { return 20 + 9*math.Sin(1.3*float64(t)) + 4*math.Sin(0.37*float64(t)) }
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	var probes []int
	for _, r := range rows {
		if r.WarmersGranted > 0 {
			probes = append(probes, r.WarmersGranted)
		}
		if len(probes) == 4 {
			break
		}
	}
	f := Compute(s, rows[200:])
	t.Logf("first launches %v; IAE over the last 100 ticks %.0f; last PV %.0f", probes, f.IAE, rows[len(rows)-1].PV)
	if f.IAE > 100*20 {
		t.Errorf("the queue is not held near the target: IAE over the last 100 ticks %.0f", f.IAE)
	}
}

// TestWrongSignCostsLittle: plants where the only action moves the metric the wrong way or not
// at all (a consumer of an empty queue). Nothing can help; the controller may probe, but its
// cost is bounded and it does not keep escalating.
func TestWrongSignCostsLittle(t *testing.T) {
	tests := []struct {
		name    string
		js      string
		maxCost int
	}{
		{"warmer adds tasks above the target", `{"ticks":400,"target":{"type":"constant","value":10},
			"plant":{"type":"tasks","initial":30,"task_duration_ticks":20,"lag_ticks":2},"relay":{"cooler":false}}`, 10},
		{"consumer of an empty queue, metric -q", `{"ticks":400,"target":{"type":"constant","value":-50},
			"plant":{"type":"queue","initial":0,"items_per_run":1,"run_lifetime_ticks":3,"lag_ticks":1,"metric_sign":-1},
			"relay":{"cooler":false}}`, 300}, // was 1228: 225 then 1000 consumers at once on a learned 0.2, then 0.01 a unit
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.js)
			rows, f := runMine(t, s)
			late := 0
			for _, r := range rows[200:] {
				late += r.WarmersGranted
			}
			t.Logf("cost %d, in the last 200 ticks %d", f.Cost, late)
			if f.Cost > tc.maxCost {
				t.Errorf("cost %d, want <= %d", f.Cost, tc.maxCost)
			}
			if late > 0 {
				t.Errorf("still probing late in the run: %d units in the last 200 ticks", late)
			}
		})
	}
}

// TestLiveDemoWarmerConsumer is the live demo with the consumer as the warmer: an integer
// arrival round(6+4·sin(2πt/120)) (2..10 items a tick, starting in its rising phase), 150 items
// at start, consumers taking 1 item a tick for 10 ticks, target 20, the metric read with ±1 of
// jitter (two 1 Hz processes sampled at 1 Hz), the binary's bounds (40 in flight, 100 a tick).
// One consumer's -1 a tick is lost in an arrival that rises by up to 4 items a tick over the
// first 30 ticks: the controller must not settle the consumer's sign on that first probe, but
// keep probing larger until the effect shows, then drain the queue and hold it.
func TestLiveDemoWarmerConsumer(t *testing.T) {
	arrival := func(t int) float64 { return math.Round(6 + 4*math.Sin(2*math.Pi*float64(t)/120)) }
	for _, lag := range []int{1, 2} {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprintf("lag %d seed %d", lag, seed), func(t *testing.T) {
				s := mustParse(t, fmt.Sprintf(`{"ticks":300,"target":{"type":"constant","value":20},
					"plant":{"type":"queue","initial":150,"items_per_run":1,"run_lifetime_ticks":10,"lag_ticks":%d,"metric_sign":1},
					"relay":{"cooler":false},"controller":{"max-in-flight":40,"max-per-tick":100}}`, lag))
				s.Plant.arrivalAt = arrival
				rng := rand.New(rand.NewPCG(seed, 7))
				s.Plant.noiseAt = func(int) float64 { return float64(rng.IntN(3) - 1) }
				rows, f := runMine(t, s)
				var launches []string
				for _, r := range rows {
					if r.WarmersGranted > 0 && len(launches) < 8 {
						launches = append(launches, fmt.Sprintf("%d@%d", r.WarmersGranted, r.Tick))
					}
				}
				worst, at := 0.0, 0
				for _, r := range rows[150:] {
					if e := math.Abs(r.PV - r.SP); e > worst {
						worst, at = e, r.Tick
					}
				}
				t.Logf("first launches %v; IAE %.0f, cost %d, worst |PV-SP| after tick 150: %.0f at %d; PV at 100 %.0f, last %.0f",
					launches, f.IAE, f.Cost, worst, at, rows[100].PV, rows[len(rows)-1].PV)
				if rows[100].PV > 100 {
					t.Errorf("the queue is at %.0f at tick 100 (150 at start): the consumers were not found to drain it", rows[100].PV)
				}
				if worst > 25 {
					t.Errorf("|PV-SP| reached %.0f at tick %d, want <= 25 after tick 150", worst, at)
				}
				if f.IAE > 8000 {
					t.Errorf("IAE %.0f, want <= 8000", f.IAE)
				}
			})
		}
	}
}

// TestLiveDemoAnyPhase: the live demo's plant started at every phase of its arrival (every 6
// ticks of its 120), lags 1 to 3, jitter 0 to ±2. Where the first probes land while the arrival
// climbs from its lowest, the metric outruns the drift seen before them and a consumer looks as
// if it raised the queue: that must not settle its sign. The controller keeps probing, larger,
// until the consumers show, in every case: the queue is drained by tick 150.
func TestLiveDemoAnyPhase(t *testing.T) {
	failed := 0
	for lag := 1; lag <= 3; lag++ {
		for ph := 0; ph < 120; ph += 6 {
			for jit := 0; jit <= 2; jit++ {
				s := mustParse(t, fmt.Sprintf(`{"ticks":200,"target":{"type":"constant","value":20},
					"plant":{"type":"queue","initial":150,"items_per_run":1,"run_lifetime_ticks":10,"lag_ticks":%d,"metric_sign":1},
					"relay":{"cooler":false},"controller":{"max-in-flight":40,"max-per-tick":100}}`, lag))
				s.Plant.arrivalAt = func(t int) float64 { return math.Round(6 + 4*math.Sin(2*math.Pi*float64(t+ph)/120)) }
				rng := rand.New(rand.NewPCG(uint64(ph), 7))
				s.Plant.noiseAt = func(int) float64 { return float64(rng.IntN(2*jit+1) - jit) }
				rows, err := Run(s, Project)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for _, r := range rows[150:] {
					worst = math.Max(worst, math.Abs(r.PV-r.SP))
				}
				if worst > 50 {
					failed++
					var l []string
					for _, r := range rows {
						if r.WarmersGranted > 0 && len(l) < 8 {
							l = append(l, fmt.Sprintf("%d@%d", r.WarmersGranted, r.Tick))
						}
					}
					t.Errorf("lag %d, phase %d, jitter ±%d: |PV-SP| up to %.0f after tick 150 (last PV %.0f); first launches %v",
						lag, ph, jit, worst, rows[len(rows)-1].PV, l)
				}
			}
		}
	}
	t.Logf("%d of 180 runs not drained by tick 150", failed)
}

// TestWrongSignUnderGrowingErrorStops: the error grows (a queue leaking an item a tick, the
// metric -q too high) and the only kind, a consumer, moves the metric further the wrong way.
// Probes that seem to push the metric away under a growing error are doubled rather than
// trusted, but only up to the bound (here 40 in flight): the probing then pauses, and each
// later round (never a deadlock: a belief can be wrong) waits twice as long as the last.
func TestWrongSignUnderGrowingErrorStops(t *testing.T) {
	s := mustParse(t, `{"ticks":400,"target":{"type":"constant","value":-400},
		"plant":{"type":"queue","initial":300,"items_per_run":1,"run_lifetime_ticks":10,"lag_ticks":1,"metric_sign":-1},
		"relay":{"cooler":false},"controller":{"max-in-flight":40,"max-per-tick":100}}`)
	s.Plant.arrivalAt = func(int) float64 { return -1 }
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	cost, late := 0, 0
	for _, r := range rows {
		cost += r.WarmersGranted
		if r.Tick >= 200 {
			late += r.WarmersGranted
		}
	}
	t.Logf("cost %d, in the last 200 ticks %d", cost, late)
	if cost > 6*40 {
		t.Errorf("cost %d, want <= %d (two rounds of probes doubled up to the bound of 40)", cost, 6*40)
	}
	if late > 3*40 {
		t.Errorf("probing late in the run: %d units in the last 200 ticks, want at most one round", late)
	}
}

// TestCoarseConsumerNotLaunchedBelowTarget is the chaos harness's queue: 1 item arrives a tick,
// one consumer takes 5 a tick for 6 ticks (30 items, more than the target), target 20. Below
// the target the only action pushes the queue further down, so the controller must wait for
// the arrivals; a consumer launched there (the "persistent small error" rule acting on a gap
// predicted past the target) drained the queue to empty every cycle.
func TestCoarseConsumerNotLaunchedBelowTarget(t *testing.T) {
	s := mustParse(t, `{"ticks":400,"target":{"type":"constant","value":20},
		"plant":{"type":"queue","initial":20,"arrival_per_tick":1,"items_per_run":5,"run_lifetime_ticks":6,"lag_ticks":2,"metric_sign":1},
		"relay":{"cooler":false}}`)
	rows, f := runMine(t, s)
	ref, err := Run(s, Reference)
	if err != nil {
		t.Fatal(err)
	}
	fr := Compute(s, ref)
	below := 0
	for _, r := range rows[40:] {
		if r.Requested > 0 && r.PV < r.SP-1 {
			below++
		}
	}
	t.Logf("IAE %.0f (reference %.0f), cost %d (reference %d), launches below the target after tick 40: %d", f.IAE, fr.IAE, f.Cost, fr.Cost, below)
	if below > 0 {
		t.Errorf("%d launches with the queue below its target, want 0", below)
	}
	if f.IAE > 1.1*fr.IAE {
		t.Errorf("IAE %.0f, want <= 1.1 x the reference's %.0f", f.IAE, fr.IAE)
	}
}

// TestAKindSeenOnlyAgainstAWallIsStillProbed: the first consumers (named the warmer, which by
// its name raises the metric) empty a queue with no arrivals, 32 items below its target, and the
// coolers (producers, 3 items each) launched meanwhile are taken at once by the consumers still
// running: every tick the coolers acted was censored at the empty queue's wall. They have not
// been seen working, so they must still be probed; they were counted as seen, and nothing was
// done for 420 ticks (a deadlock).
func TestAKindSeenOnlyAgainstAWallIsStillProbed(t *testing.T) {
	s := mustParse(t, `{"ticks":450,"target":{"type":"sine","mean":40.5,"amp":11.5,"period":113},
		"plant":{"type":"queue","initial":8,"arrival_per_tick":0,"items_per_run":3,"run_lifetime_ticks":11,"lag_ticks":20,"metric_sign":1},
		"supply":{"max_units_per_tick":30},"relay":{"warmer":true,"cooler":true}}`)
	rows, f := runMine(t, s)
	if f.Deadlock {
		t.Errorf("deadlock from tick %d (queue %.0f, target %.0f)", f.DeadlockAt, rows[f.DeadlockAt].State, rows[f.DeadlockAt].SP)
	}
	if last := rows[len(rows)-1]; math.Abs(last.PV-last.SP) > 15 {
		t.Errorf("at the end the queue is %.0f, target %.1f", last.PV, last.SP)
	}
}

// TestProbesOfAKindThatOnlyPushesAwayStayFew: a queue with no arrivals and no consumers, 98
// items above its target, and only a cooler (a producer): nothing can bring it down, and every
// cooler makes it worse. The controller may probe the cooler in case its name is wrong, but a
// probe that clearly pushed the metric away settles it: a drift of 0.01 a tick (the model's
// rounding) was taken for a confound that could hide the probe's answer, and the probes
// doubled to 1000 coolers a tick.
func TestProbesOfAKindThatOnlyPushesAwayStayFew(t *testing.T) {
	s := mustParse(t, `{"ticks":500,"target":{"type":"square","low":-20,"high":-17,"period":204},
		"plant":{"type":"queue","initial":49,"arrival_per_tick":0,"items_per_run":5,"run_lifetime_ticks":5,"lag_ticks":3,"metric_sign":-1},
		"relay":{"warmer":false,"cooler":true}}`)
	_, f := runMine(t, s)
	if f.Cost > 10 {
		t.Errorf("%d coolers launched; each one pushed the queue further from its target", f.Cost)
	}
}

// TestAProbeThatHoldsARisingMetricFlatIsNoWall: one consumer (named the warmer) on a queue
// filling at exactly the rate it drains holds the queue flat at its highest value ever for its
// whole life. That looks like a wall (the metric pressed at its extreme, moving less than
// expected), so the probe's ticks were censored and nothing was learned: one consumer every 21
// ticks for 550 ticks while the queue grew to 1196 (IAE 312355). When the metric later goes past
// that "wall", the censored movements are learned.
func TestAProbeThatHoldsARisingMetricFlatIsNoWall(t *testing.T) {
	s := mustParse(t, `{"ticks":550,"target":{"type":"constant","value":82},
		"plant":{"type":"queue","initial":86,"arrival_per_tick":3,"items_per_run":3,"run_lifetime_ticks":7,"lag_ticks":14,"metric_sign":1},
		"supply":{"max_units_per_tick":31},"relay":{"warmer":true,"cooler":false}}`)
	rows, f := runMine(t, s)
	last := rows[len(rows)-1]
	t.Logf("IAE %.0f, cost %d, queue at the end %.0f", f.IAE, f.Cost, last.PV)
	if f.IAE > 10000 {
		t.Errorf("IAE %.0f, want <= 10000", f.IAE)
	}
	if math.Abs(last.PV-last.SP) > 10 {
		t.Errorf("the queue ends at %.0f, target %.0f", last.PV, last.SP)
	}
}

// TestConsumersThatJustHoldTheArrivalsAreKeptOn: a queue fills by 6 items a tick and the
// cluster grants at most 12 consumers a tick, each draining half an item 7 ticks after its
// launch: at the cluster's most they drain exactly what arrives, so once the queue is past its
// target of 50 it can only be held, never brought back. The queue stopping at its highest
// reading with the consumers running is what the model predicts, not a wall they fail to
// lift it from: taken for one, the consumers were dropped for 7 ticks at a time and the queue
// grew to 1158 items.
func TestConsumersThatJustHoldTheArrivalsAreKeptOn(t *testing.T) {
	s := mustParse(t, `{"ticks":600,"target":{"type":"constant","value":-50},
		"plant":{"type":"queue","initial":18,"arrival_per_tick":6,"items_per_run":0.5,"run_lifetime_ticks":1,"lag_ticks":7},
		"supply":{"max_units_per_tick":12},"relay":{"warmer":true,"cooler":false}}`)
	rows, f := runMine(t, s)
	most := 0.0
	for _, r := range rows {
		most = math.Max(most, r.State)
	}
	last := rows[len(rows)-1]
	t.Logf("IAE %.0f, cost %d, queue at most %.0f, at the end %.0f", f.IAE, f.Cost, most, last.State)
	if most > 150 || last.State > 150 {
		t.Errorf("the queue rose to %.0f items and ends at %.0f; want at most 150", most, last.State)
	}
}

// TestACoarseUnitIsStillTriedRatherThanADeadlock: a queue with no arrivals sits 9 items above
// its target and the only move that lowers it is a consumer that drains 25 items. Leaving the
// error for ever is a deadlock (FORMAT.md: 50 ticks off target with nothing executed); a rule
// that waited for a unit small enough did exactly that on four fresh scenarios.
func TestACoarseUnitIsStillTriedRatherThanADeadlock(t *testing.T) {
	s := mustParse(t, `{"ticks":250,"target":{"type":"steps","steps":[[0,-21],[65,-25],[203,-11]]},
		"plant":{"type":"queue","initial":55,"arrival_per_tick":0,"items_per_run":5,"run_lifetime_ticks":5,"lag_ticks":5,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":true}}`)
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	if f := Compute(s, rows); f.Deadlock {
		t.Errorf("deadlock from tick %d: metric %.0f, target %.0f", f.DeadlockAt, rows[f.DeadlockAt].PV, rows[f.DeadlockAt].SP)
	}
}

// TestAKindThatEmptiesTheQueueHandsOverSoon: warmers that turn out to be consumers empty a
// queue below its target; with nothing else believed to help, the cooler, never tried, must be
// tried within a few ticks of the queue reading empty, not after ProbeAfter (20) ticks of
// waiting for a drift that cannot lift an empty queue.
func TestAKindThatEmptiesTheQueueHandsOverSoon(t *testing.T) {
	s := mustParse(t, `{"ticks":300,"target":{"type":"constant","value":60},
		"plant":{"type":"queue","initial":20,"items_per_run":1,"run_lifetime_ticks":1,"lag_ticks":3,"metric_sign":1},
		"relay":{"warmer":true,"cooler":true}}`)
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	empty, cooler := -1, -1
	for _, r := range rows {
		if empty < 0 && r.PV == 0 {
			empty = r.Tick
		}
		if cooler < 0 && r.CoolersGranted > 0 {
			cooler = r.Tick
		}
	}
	f := Compute(s, rows)
	t.Logf("empty at tick %d, first cooler at tick %d, IAE %.0f, cost %d", empty, cooler, f.IAE, f.Cost)
	if empty < 0 || cooler < 0 || cooler-empty > 8 {
		t.Errorf("queue empty at tick %d, first cooler at tick %d: want it within 8 ticks", empty, cooler)
	}
	if f.IAE > 1500 {
		t.Errorf("IAE %.0f, want <= 1500", f.IAE)
	}
}

// Producers (named coolers, 9.4 items each) probed at a queue that consumers (named warmers,
// against their name) had emptied: the 55 consumers ate each probe's items as they came, and
// the probes doubled to 32 while nothing showed. When the consumers ended, the last probes'
// items came out together (132 for a target of 102), the producers were settled as doing
// nothing and the consumers as raising the metric, and nothing was launched for 400 ticks.
func TestProbesBesideConsumersAtAnEmptyQueueAreTriedAgain(t *testing.T) {
	s := mustParse(t, `{"ticks":450,"target":{"type":"constant","value":102},
		"plant":{"type":"queue","initial":29,"items_per_run":9.4,"run_lifetime_ticks":39,"lag_ticks":2,"metric_sign":1},
		"relay":{"warmer":true,"cooler":true,"lookback":30}}`)
	_, f := runMine(t, s)
	t.Logf("IAE %.0f, cost %d, deadlock %v at %d", f.IAE, f.Cost, f.Deadlock, f.DeadlockAt)
	if f.Deadlock {
		t.Errorf("deadlock from tick %d", f.DeadlockAt)
	}
	if f.IAE > 6000 {
		t.Errorf("IAE %.0f, want <= 6000 (the original's 45842, the reference's 1132)", f.IAE)
	}
}

// Producers (the only kind, named coolers) on a queue that its arrivals fill by 20.6 items a
// tick, nothing draining it: no unit can help. Each probe clearly added its items, but with
// the arrivals carrying the queue away from its target the probes were doubled as if a growing
// arrival had hidden their answer: 1, 2, 4 ... 1000 producers, and again after every re-probe
// (9502 in 550 ticks). A departure that doubles with the probe is the probe's.
func TestProbesThatClearlyAddToAFillingQueueStayFew(t *testing.T) {
	s := mustParse(t, `{"ticks":550,"target":{"type":"constant","value":-44},
		"plant":{"type":"queue","initial":297,"arrival_per_tick":20.6,"items_per_run":0.4,"run_lifetime_ticks":15,"lag_ticks":15,"metric_sign":-1},
		"supply":{"starved":[[281,293]]},
		"relay":{"warmer":false,"cooler":true,"lookback":100}}`)
	_, f := runMine(t, s)
	t.Logf("producers launched: %d, IAE %.0f", f.Cost, f.IAE)
	if f.Cost > 2000 {
		t.Errorf("%d producers launched, want <= 2000; each one took the queue further from its target", f.Cost)
	}
}

// Two generated plants (wider seeds 10 and 40) whose first units were of unknown sign, life and
// lag. On the first, warmers and coolers were asked for one of each in turn to correct a fifth
// of a unit predicted from the other kind's units in flight; the ends of the one were taken for
// kills by the other and nothing was launched for 380 ticks. On the second, one consumer probe
// draining 9.2 items a tick was predicted to drain for ever and bring a queue of 619 to its
// target on its own; nothing more was launched until it ended. Neither may deadlock.
func TestFirstUnitsOfUnknownKindsDoNotDeadlock(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
	}{
		{"warmers and coolers of unknown sign, lag 15", `{"ticks":750,
			"target":{"type":"steps","steps":[[0,551],[37,682],[88,661],[245,617],[372,642],[507,623],[632,668]]},
			"plant":{"type":"queue","initial":69,"items_per_run":1.1,"run_lifetime_ticks":1,"lag_ticks":15,"metric_sign":-1,"metric_offset":758},
			"supply":{"max_units_per_tick":49,"starved":[[579,652]]},
			"relay":{"warmer":true,"cooler":true,"lookback":100}}`},
		{"one consumer of unknown life, lag 30", `{"ticks":200,"target":{"type":"constant","value":63},
			"plant":{"type":"queue","initial":352,"items_per_run":9.2,"run_lifetime_ticks":34,"lag_ticks":30,"metric_sign":1},
			"supply":{"max_units_per_tick":35,"starved":[[16,79],[178,196]]},
			"relay":{"warmer":true,"cooler":true,"lookback":300,"ramp":3}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.scenario)
			_, f := runMine(t, s)
			t.Logf("IAE %.0f, cost %d", f.IAE, f.Cost)
			if f.Deadlock {
				t.Errorf("deadlock from tick %d", f.DeadlockAt)
			}
		})
	}
}

// Two generated plants (wider seeds 1618 and 3342) whose first consumers (the warmers of a
// metric that falls as the queue fills) acted from the first tick the controller learned from,
// while the queue's arrival was first showing: the model split the metric's fall between the
// drift and them and learned that they fill the queue. Nothing then seemed to help; the
// consumers' re-probe came 100 ticks later (1618) or, on 3342, after the producers' probes,
// while the queue rose past 1000 items: a deadlock by the bench's definition. A kind learned
// against its name from such a start is re-probed sooner.
func TestAKindLearnedAgainstItsNameFromTheFirstTickIsTriedAgain(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		pass     bool // meets every bench target (3342 still misses its IAE limit: 4332 for 2220)
	}{
		{"one unit a tick, sine target", `{"ticks":800,"target":{"type":"sine","mean":-60.5,"amp":1.5,"period":200},
			"plant":{"type":"queue","initial":350,"arrival_per_tick":23.9,"items_per_run":0.2,"run_lifetime_ticks":9,"lag_ticks":1,"metric_sign":-1,"metric_offset":0},
			"supply":{"max_units_per_tick":1},
			"relay":{"warmer":true,"cooler":true,"lookback":100,"ramp":1}}`, true},
		{"6 consumers against 12 items a tick", `{"ticks":300,"target":{"type":"steps","steps":[[0,519],[48,525],[141,524],[286,518]]},
			"plant":{"type":"queue","initial":126,"arrival_per_tick":12.2,"items_per_run":0.5,"run_lifetime_ticks":38,"lag_ticks":1,"metric_sign":-1,"metric_offset":546},
			"supply":{"max_units_per_tick":46},
			"relay":{"warmer":true,"cooler":true,"lookback":30,"ramp":1}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Evaluate(mustParse(t, tc.scenario))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("IAE %.0f (limit %.0f, reference %.0f), cost %d, failed %v", r.Mine.IAE, r.IAELimit, r.Ref.IAE, r.Mine.Cost, r.Failed)
			if r.Mine.Deadlock {
				t.Errorf("deadlock from tick %d", r.Mine.DeadlockAt)
			}
			if tc.pass && len(r.Failed) > 0 {
				t.Errorf("failed %v, want every target met", r.Failed)
			}
		})
	}
}

// Consumers started in one batch on a queue that its arrivals outrun are, on every tick the
// model learns from, the same number against the same arrival: the model cannot tell their
// drain from the arrival, and learned them to fill the queue. Launching as many again while
// they run tells the two apart. Before, nothing was launched until the first batch ended (30
// ticks of a growing queue: IAE 9437 for 892's plant, 57713 for 762's, whose metric is read
// in tens).
func TestBlindConsumersAreJoinedByAsManyAgainWhileTheyRun(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		turnBy   int     // the error is smaller at this tick than 4 ticks after the first
		maxIAE   float64 // over the run
	}{
		{"23 consumers of 0.8 items against 21.9 a tick", `{"ticks":700,"target":{"type":"steps","steps":[[0,-99],[125,-70],[227,-90],[343,-93],[553,-171]]},
			"plant":{"type":"queue","initial":122,"arrival_per_tick":21.9,"items_per_run":0.8,"run_lifetime_ticks":28,"lag_ticks":1,"metric_sign":-1,"metric_offset":0},
			"relay":{"warmer":true,"cooler":true,"lookback":100,"ramp":1}}`, 12, 6000},
		{"21 consumers of 0.1 items against 13.9 a tick", `{"ticks":200,"target":{"type":"square","low":-69,"high":-3,"period":78},
			"plant":{"type":"queue","initial":407,"arrival_per_tick":13.9,"items_per_run":0.1,"run_lifetime_ticks":40,"lag_ticks":1,"metric_sign":-1,"metric_offset":0},
			"supply":{"starved":[[107,152]]},
			"relay":{"warmer":true,"cooler":false,"lookback":1000,"ramp":1}}`, 12, 35000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.scenario)
			rows, err := Run(s, Project)
			if err != nil {
				t.Fatal(err)
			}
			f := Compute(s, rows)
			errAt := func(i int) float64 { return math.Abs(rows[i].SP - rows[i].PV) }
			t.Logf("error at tick 4 %.1f, at tick %d %.1f; IAE %.0f, cost %d", errAt(4), tc.turnBy, errAt(tc.turnBy), f.IAE, f.Cost)
			if errAt(tc.turnBy) >= errAt(4) {
				t.Errorf("error at tick %d is %.1f, not below its %.1f at tick 4: the consumers were not tried again while they ran", tc.turnBy, errAt(tc.turnBy), errAt(4))
			}
			if f.IAE > tc.maxIAE {
				t.Errorf("IAE %.0f, want at most %.0f", f.IAE, tc.maxIAE)
			}
			if f.Deadlock {
				t.Errorf("deadlock from tick %d", f.DeadlockAt)
			}
		})
	}
}

// A probe whose units clearly push the metric away from its target, in one step, settles the
// kind's sign even while the drift carries the metric away too: producers of 24 items each, the
// only kind, at a queue above its target filled by a steady 6.3 items a tick (nothing can help;
// the references launch nothing). Taken for a drift that might have grown under them, they were
// doubled 1, 2, 4, 8 in each of three re-probing rounds: 45 producers, 1080 items more in the
// queue, and an IAE 35% above the references' (wider seed 1086).
func TestAProbeThatClearlyStepsAwaySettlesTheSign(t *testing.T) {
	s := mustParse(t, `{"plant":{"arrival_per_tick":6.3,"initial":146,"items_per_run":24,"lag_ticks":4,"metric_offset":0,"metric_sign":-1,"run_lifetime_ticks":3,"type":"queue"},
		"relay":{"cooler":true,"lookback":300,"ramp":1,"warmer":false},"supply":{"starved":[[349,417]]},
		"target":{"high":-91,"low":-268,"period":294,"type":"square"},"ticks":700}`)
	r, err := Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IAE %.0f (references %.0f), %d producers", r.Mine.IAE, r.Ref.IAE, r.Mine.Cost)
	if r.Mine.Cost > 6 {
		t.Errorf("%d producers launched where none could help; want at most 6 (a unit a round)", r.Mine.Cost)
	}
}
