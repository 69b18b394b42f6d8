package loop

import (
	"math"
	"testing"
)

// A running unit of a kind whose life is not yet known is predicted to act for another
// Coincidence ticks, or as long again as it has run, not for ever: one consumer draining 9
// items a tick, predicted to drain for ever, was believed to bring a queue of 600 to its target
// on its own, and nothing more was launched until it ended (a deadlock by FORMAT.md). A known
// life is predicted as it is.
func TestARunningUnitOfUnknownLifeIsNotPredictedForEver(t *testing.T) {
	const (
		pv      = 600.0
		run     = -9.0 // the unit's effect each tick it runs
		horizon = 80
	)
	tests := []struct {
		name   string
		life   float64 // 0: not known
		age    int64   // ticks it has run
		acting int     // ticks ahead it is predicted to act (of the horizon's 80)
	}{
		{"life unknown, just started: another 30 ticks", 0, 1, 29},
		{"life unknown, ran 50 ticks: as long again", 0, 50, 49},
		// As before: a life not known is taken as the Ring ticks of history kept.
		{"life unknown, ran Ring-40 ticks: until it is Ring ticks old", 0, Ring - 40, 39},
		{"life 40 known, ran 1 tick: its last 39", 40, 1, 38},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Coincidence = 30 // the rows count in ticks of it
			s := NewState()
			s.Tick = 2 * Ring
			s.Kinds[Warmer].Lag, s.Kinds[Warmer].Life = 5, tc.life
			s.Theta[pWarmRun], s.Theta[pWarmStart], s.Theta[pWarmEnd], s.Theta[pDrift] = run, 0, 0, 0
			s.Kinds[Warmer].Started[ringAt(s.Tick-tc.age)] = 1
			f := [2]flows{Warmer: {running: 1}}
			resp := [2]response{kindResponse(&cfg, &s, Warmer), kindResponse(&cfg, &s, Cooler)}
			var free [Ring]float64
			predictFree(&cfg, &s, &f, &resp, pv, 0, horizon, &free)
			if want := pv + run*float64(tc.acting); math.Abs(free[horizon]-want) > 1e-9 {
				t.Fatalf("metric %d ticks ahead predicted %v, want %v (the unit acting %d of them)", horizon, free[horizon], want, tc.acting)
			}
		})
	}
}

// A kind not yet confirmed is asked for at least one unit to move the metric toward the target
// from where it is now, but not to correct a fraction of a unit of overshoot predicted from
// the other kind's units in flight: rounded up, a gap of 0.2 of a unit asked for a warmer, the
// next tick for a cooler, and so on for ten ticks before either kind had acted (generated
// scenario wider seed 10: the ends of the one were then taken for kills by the other, and a
// deadlock of 380 ticks followed).
func TestCautionDoesNotAskForAUnitAFractionOfAUnitBack(t *testing.T) {
	tests := []struct {
		name    string
		pv      float64
		coolers int32 // pending, each believed (the prior) to lower the metric by 1 as it starts
		warmers int
	}{
		{"14 coolers in flight overshoot the target by 0.2: nothing", 13.8, 14, 0},
		{"the metric itself 0.2 below the target: one warmer", -0.2, 0, 1},
		{"14 coolers in flight overshoot the target by 1.6: one warmer (caution)", 12.4, 14, 1},
		{"14 coolers in flight overshoot the target by 4: two warmers (caution)", 10, 14, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.HasCooler = true
			s := NewState()
			s.Tick = 4
			s.Kinds[Cooler].Launched[ringAt(3)] = tc.coolers
			f := [2]flows{Cooler: {pending: tc.coolers}}
			stuck := false
			d := decide(&cfg, &s, &f, tc.pv, 0, false, false, &stuck)
			if d.Warmers != tc.warmers || d.Coolers != 0 {
				t.Fatalf("metric %v, target 0: %d warmers and %d coolers, want %d warmers", tc.pv, d.Warmers, d.Coolers, tc.warmers)
			}
		})
	}
}
