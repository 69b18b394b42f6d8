package loop

import (
	"testing"
	"time"
)

// TestPersistentErrorIsNotMetWithAUnitTooCoarse: a queue without arrivals sits a little above
// its target, and the only unit that lowers it is a consumer that drains 3 items a tick for 11
// ticks (33 items). After ProbeAfter idle ticks the controller acts on a persistent error with
// one unit, but only if that unit brings the metric closer to the target: for a gap of 5 it
// would leave the queue 28 below it (and the producers launched next to undo that cost more than
// the gap); for a gap of 20 it helps.
func TestPersistentErrorIsNotMetWithAUnitTooCoarse(t *testing.T) {
	tests := []struct {
		name    string
		pv      float64
		wantNew bool
	}{
		{"gap of 5: wait", 55, false},
		{"gap of 20: one consumer", 70, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Delay = time.Second
			cfg.HasWarmer, cfg.HasCooler = true, false
			c := New(cfg)
			s := NewState()
			s.Tick = 300
			s.Theta = [nParams]float64{0, -3, 0, 0, 0, 0, 0}
			for i := range s.Cov {
				s.Cov[i] = 0
			}
			for i := 0; i < nParams; i++ {
				s.Cov[i*nParams+i] = 1e-4
			}
			s.Noise = 0.01
			s.Hi, s.Lo, s.HasSeen = 200, 0, true
			s.PrevPV, s.PrevOK = tc.pv, true
			s.Idle = int32(cfg.ProbeAfter) + 5
			w := &s.Kinds[Warmer]
			w.Lag, w.Life, w.Units, w.Seen = 20, 11, 50, 500
			c.Restore(s)
			d := c.Step(Input{
				Metric: Sample{Value: tc.pv, OK: true},
				Target: Sample{Value: 50, OK: true},
			})
			if got := d.Warmers > 0; got != tc.wantNew {
				t.Errorf("queue %.0f, target 50, a consumer drains 33: launched %d", tc.pv, d.Warmers)
			}
		})
	}
}
