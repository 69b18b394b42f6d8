package loop

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// fakeClock advances only when the runner waits, so a test runs ticks at full speed.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// recordingActuator keeps the calls in order.
type recordingActuator struct {
	calls  []string
	demand [2]int
	ledger Ledger
}

func (a *recordingActuator) Withdraw() Ledger {
	a.calls = append(a.calls, "withdraw")
	l := a.ledger
	l.Warmer.Ungranted, l.Cooler.Ungranted = a.demand[0], a.demand[1]
	a.demand = [2]int{}
	return l
}

func (a *recordingActuator) Demand(w, c int) {
	a.calls = append(a.calls, "demand")
	a.demand = [2]int{w, c}
}

func TestRunnerTicksAtTheDelayAndWithdrawsOnStop(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	act := &recordingActuator{}
	var ticks []time.Time
	ctx, cancel := context.WithCancel(context.Background())
	read := ReaderFunc(func(ctx context.Context, now time.Time) (Sample, Sample) {
		return Sample{Value: 0, OK: true}, Sample{Value: 10, OK: true}
	})
	obs := ObserverFunc(func(rec *TickRecord) {
		ticks = append(ticks, rec.Time)
		if rec.Decision.Warmers == 0 {
			t.Errorf("tick at %v asked for nothing with the metric 10 below target", rec.Time)
		}
		if len(ticks) == 5 {
			cancel()
		}
	})
	r, err := NewRunner(RunnerConfig{Delay: 2 * time.Second, SourceTimeout: time.Second}, New(DefaultConfig()), read, act, obs, clock, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx); err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
	for i := 1; i < len(ticks); i++ {
		if d := ticks[i].Sub(ticks[i-1]); d != 2*time.Second {
			t.Fatalf("ticks %d and %d are %v apart, want 2s", i-1, i, d)
		}
	}
	// Each tick withdraws before it demands, and stopping withdraws what is left.
	want := []string{"withdraw", "demand"}
	for i := 0; i < 2*len(ticks); i++ {
		if act.calls[i] != want[i%2] {
			t.Fatalf("call %d is %s, want %s (calls %v)", i, act.calls[i], want[i%2], act.calls)
		}
	}
	if act.calls[len(act.calls)-1] != "withdraw" || act.demand != [2]int{} {
		t.Fatalf("demand left after stop: %v (calls %v)", act.demand, act.calls)
	}
}

func TestRunnerDecidesNothingWhenCancelledDuringARead(t *testing.T) {
	act := &recordingActuator{}
	ctx, cancel := context.WithCancel(context.Background())
	read := ReaderFunc(func(ctx context.Context, now time.Time) (Sample, Sample) {
		cancel() // leadership lost while the metric command runs
		return Sample{Value: 0, OK: true}, Sample{Value: 10, OK: true}
	})
	r, err := NewRunner(RunnerConfig{Delay: time.Second, SourceTimeout: time.Second}, New(DefaultConfig()), read, act, nil, &fakeClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Tick(ctx)
	if len(act.calls) != 0 {
		t.Fatalf("a tick cancelled mid-read touched the actuator: %v", act.calls)
	}
}

func TestRunnerConfigRejectsNonPositiveDelays(t *testing.T) {
	for _, c := range []RunnerConfig{{Delay: 0, SourceTimeout: time.Second}, {Delay: -time.Second, SourceTimeout: time.Second}, {Delay: time.Second}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
