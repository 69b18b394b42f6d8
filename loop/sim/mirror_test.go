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
