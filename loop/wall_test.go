package loop

import (
	"testing"
	"time"
)

// TestNoConsumersStartedOnAQueueStillEmptyWhenTheyStart: 30 consumers (each drains 1 item a
// tick) are running on a queue they have drained to empty, 20 items below its target, and end in
// two ticks; the arrivals (10 a tick) will then lift the queue past the target before a consumer
// launched now would end.
// A consumer launched now would start on the empty queue and drain nothing for its first ticks:
// the controller waits until the queue is predicted to hold items when a new consumer starts.
// (The live demo launched 1 to 6 consumers a tick on its empty queue.)
func TestNoConsumersStartedOnAQueueStillEmptyWhenTheyStart(t *testing.T) {
	tests := []struct {
		name    string
		pv      float64
		wantNew bool
	}{
		{"empty queue: wait", 0, false},
		{"queue that still holds items when they start: act", 40, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Delay = time.Second
			c := New(cfg)
			s := learned(200, [nParams]float64{10, -1, 0, 0, 0, 0, 0}, 0.1)
			s.Hi, s.Lo, s.HasSeen, s.WallLo = 150, 0, true, true
			s.PrevPV, s.PrevOK = tc.pv, true
			w := &s.Kinds[Warmer]
			w.Lag, w.Life, w.Units, w.Seen = 1, 10, 300, 3000
			// 30 consumers started 8 ticks before the tick stepped below: they end two ticks after it.
			w.Launched[ringAt(s.Tick-8)] = 30
			w.Started[ringAt(s.Tick-7)] = 30
			w.PrevRunning = 30
			c.Restore(s)
			d := c.Step(Input{
				Metric: Sample{Value: tc.pv, OK: true},
				Target: Sample{Value: 20, OK: true},
				Ledger: Ledger{Warmer: KindCounts{Running: 30}},
			})
			if got := d.Warmers > 0; got != tc.wantNew {
				t.Errorf("queue %.0f, target 20, 30 consumers ending in 2 ticks: launched %d consumers", tc.pv, d.Warmers)
			}
		})
	}
}

// TestACoarseUnitIsLaunchedForAPersistentErrorOnlyIfItHelps: a queue with nothing arriving
// sits a few items above its target, and a consumer takes 5 items at once. After ProbeAfter
// idle ticks the controller launches one anyway, unless its first tick would carry the queue
// past the target by 1.5 times the error or more (5 items for an error of 2): then it waits for
// the re-probe's time. A target at the empty queue, once the queue has been seen pressed empty,
// cannot be passed: there a consumer for 2 items empties the queue, on target.
func TestACoarseUnitIsLaunchedForAPersistentErrorOnlyIfItHelps(t *testing.T) {
	tests := []struct {
		name    string
		pv, sp  float64
		wall    bool
		wantNew bool
	}{
		{"4 items above a target of 0: one consumer", 4, 0, true, true},
		{"2 items above a target of 0 at the known empty wall: one consumer", 2, 0, true, true},
		{"2 items above a target of 0, no wall known: wait", 2, 0, false, false},
		{"12 items above a target of 10: wait", 12, 10, true, false},
		{"13 items above a target of 10: one consumer", 13, 10, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Delay = time.Second
			cfg.HasWarmer, cfg.HasCooler = true, false
			c := New(cfg)
			s := learned(300, [nParams]float64{0, -5, 0, 0, 0, 0, 0}, 0.01)
			s.Hi, s.Lo, s.HasSeen, s.WallLo = 200, 0, true, tc.wall
			s.PrevPV, s.PrevOK = tc.pv, true
			s.Idle = int32(cfg.ProbeAfter) + 5
			w := &s.Kinds[Warmer]
			w.Lag, w.Life, w.Units, w.Seen = 1, 1, 100, 100
			c.Restore(s)
			d := c.Step(Input{
				Metric: Sample{Value: tc.pv, OK: true},
				Target: Sample{Value: tc.sp, OK: true},
			})
			if got := d.Warmers > 0; got != tc.wantNew {
				t.Errorf("queue %.0f, target %.0f, wall known %v, a consumer takes 5: launched %d", tc.pv, tc.sp, tc.wall, d.Warmers)
			}
		})
	}
}

// learned is a state at tick whose model has settled on theta (each parameter known to 1e-4,
// none correlated) with the given one-tick noise.
func learned(tick int64, theta [nParams]float64, noise float64) State {
	s := NewState()
	s.Tick, s.Theta, s.Noise = tick, theta, noise
	for i := range s.Cov {
		s.Cov[i] = 0
	}
	for i := 0; i < nParams; i++ {
		s.Cov[i*nParams+i] = 1e-4
	}
	return s
}
