package loop

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A checkpoint learned at one tick length and resumed by a runner ticking at another (an
// operator set --delay to the metric's refresh interval, as the refresh warning advises, and
// restarted) is learned again: its lags, lives and effects count in the old ticks. Resumed at
// the same tick length, or from a checkpoint that predates the tick length it was learned at,
// it is kept.
func TestARunnerRelearnsAStateLearnedAtAnotherTick(t *testing.T) {
	cfg, a, _, b := learnedOnTasks(t)
	st := a.State()
	if st.TickNanos != int64(time.Second) || a.Terms().WarmerLag < 4 {
		t.Fatalf("learned state: tick %v, warmer lag %v; want 1s and the plant's lag of 5", time.Duration(st.TickNanos), a.Terms().WarmerLag)
	}
	old := st
	old.TickNanos = 0 // written before the tick length was kept
	ob, err := MarshalState(&old)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		ckpt    []byte
		delay   time.Duration
		relearn bool
	}{
		{"same tick", b, time.Second, false},
		{"delay set to 15s", b, 15 * time.Second, true},
		{"a checkpoint without a tick length", ob, 15 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := UnmarshalState(tc.ckpt)
			if err != nil {
				t.Fatal(err)
			}
			c := cfg
			c.Delay = tc.delay
			ctrl := New(c)
			ctrl.Restore(s)
			var buf bytes.Buffer
			log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Warn})
			if _, err := NewRunner(RunnerConfig{Delay: tc.delay, SourceTimeout: time.Second}, ctrl, ReaderFunc(nil), &recordingActuator{}, nil, &fakeClock{}, log); err != nil {
				t.Fatal(err)
			}
			got := ctrl.State()
			relearnt := got.Tick == 0 && ctrl.Terms().WarmerLag == 0
			if relearnt != tc.relearn || strings.Contains(buf.String(), "controller_relearning") != tc.relearn {
				t.Fatalf("relearning %v (tick %d, warmer lag %v), want %v; log:\n%s", relearnt, got.Tick, ctrl.Terms().WarmerLag, tc.relearn, buf.String())
			}
			if tc.relearn {
				if got.TickNanos != int64(tc.delay) || got.Scale != st.Scale || got.Kinds[Warmer].PrevRunning != st.Kinds[Warmer].PrevRunning {
					t.Fatalf("relearnt state: tick %v scale %v running %d; want %v, the scale %v and the %d units running kept",
						time.Duration(got.TickNanos), got.Scale, got.Kinds[Warmer].PrevRunning, tc.delay, st.Scale, st.Kinds[Warmer].PrevRunning)
				}
			}
		})
	}
}
