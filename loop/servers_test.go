package loop

import (
	"testing"
	"time"
)

// TestServersWithNoEndSeenAreNotPredictedToStop: four servers (tasks that run until killed) are
// running, one above the target of 3, and none has ended yet. Early on the model cannot tell the
// drift from an effect per running unit (here -1.78 and +0.89 a tick: they cancel while four
// run), so predicting that the running units stop acting at some guessed age leaves the drift
// alone and predicts a fall that is not coming: the replica test launched 5 and 8 tasks for a
// target of 3 that way. Nothing is launched.
func TestServersWithNoEndSeenAreNotPredictedToStop(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Delay = 100 * time.Millisecond
	cfg.HasWarmer = true
	cfg.MaxPerTick, cfg.MaxInFlight = 5, 20
	c := New(cfg)
	s := NewState()
	s.Tick = 6
	s.Theta = [nParams]float64{-1.78, 0.89, 0.05, -1, 0, -1, 1}
	for i := 0; i < nParams; i++ {
		s.Cov[i*nParams+i] = 0.01
	}
	s.Noise = 0.05
	s.Hi, s.Lo, s.HasSeen = 4, 0, true
	s.PrevPV, s.PrevOK = 4, true
	w := &s.Kinds[Warmer]
	w.Lag, w.Units, w.Seen = 1.25, 4, 11
	w.Started[ringAt(2)], w.Started[ringAt(3)], w.Started[ringAt(5)], w.Started[ringAt(6)] = 1, 1, 1, 1
	w.PrevRunning = 4
	c.Restore(s)
	for i := 0; i < 5; i++ {
		d := c.Step(Input{
			Metric: Sample{Value: 4, OK: true},
			Target: Sample{Value: 3, OK: true},
			Ledger: Ledger{Warmer: KindCounts{Running: 4}},
		})
		if d.Warmers > 0 {
			t.Fatalf("tick %d: launched %d servers with 4 running for a target of 3", i, d.Warmers)
		}
	}
}
