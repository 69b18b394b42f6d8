package sim

import "testing"

// TestTheOtherKindsEffectSizesAFirstBatch: consumers of 10 items a tick for 9 ticks empty a
// queue (read negated) past its target; producers of the same size have never been tried. Sized
// at one item a unit (the prior), 60 producers were launched before the first could act, and
// the queue rose to 649 items for a target of 57. Sized at the consumers' learned effect, a
// handful are.
func TestTheOtherKindsEffectSizesAFirstBatch(t *testing.T) {
	s := mustParse(t, `{"ticks":150,"target":{"type":"constant","value":-57},
		"plant":{"type":"queue","initial":115,"arrival_per_tick":7,"items_per_run":10,"run_lifetime_ticks":9,"lag_ticks":8,"metric_sign":-1},
		"supply":{"max_units_per_tick":10},"relay":{"warmer":true,"cooler":true}}`)
	rows, f := runMine(t, s)
	first, blind, most := -1, 0, 0.0
	for _, r := range rows {
		if first < 0 && r.CoolersGranted > 0 {
			first = r.Tick
		}
		if first >= 0 && r.Tick < first+8 {
			blind += r.CoolersGranted
		}
		most = max(most, r.State)
	}
	t.Logf("IAE %.0f, cost %d; first producers at tick %d, %d of them before the first could act; queue at most %.0f", f.IAE, f.Cost, first, blind, most)
	if blind > 10 {
		t.Errorf("%d producers launched before the first acted; want at most 10", blind)
	}
}

// TestAKindTurnedRoundTurnsTheOtherRound: producers named coolers fill a queue past its target;
// consumers named warmers have never been tried. Believed to fill it too (their name's prior),
// a probe of one came first, a batch only at tick 25, and the queue rose to 586 items for a
// target of 35 (IAE 45903). Taken to be turned round as the coolers are, they come in batches
// from tick 11: the queue rises to 405 (IAE 26495).
func TestAKindTurnedRoundTurnsTheOtherRound(t *testing.T) {
	s := mustParse(t, `{"ticks":120,"target":{"type":"constant","value":35},
		"plant":{"type":"queue","initial":23,"arrival_per_tick":13,"items_per_run":1,"run_lifetime_ticks":1,"lag_ticks":9,"metric_sign":1},
		"supply":{"max_units_per_tick":16},"relay":{"warmer":true,"cooler":true}}`)
	rows, f := runMine(t, s)
	first, most := -1, 0.0
	for _, r := range rows {
		if first < 0 && r.WarmersGranted > 1 {
			first = r.Tick
		}
		most = max(most, r.State)
	}
	t.Logf("IAE %.0f, cost %d; consumers first launched more than one at a time at tick %d; queue at most %.0f", f.IAE, f.Cost, first, most)
	if most > 450 {
		t.Errorf("queue rose to %.0f items for a target of 35; want at most 450", most)
	}
}
