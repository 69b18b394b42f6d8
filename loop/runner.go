package loop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Clock is the runner's view of time; tests inject their own.
type Clock interface {
	Now() time.Time
	// After behaves like time.After.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Reader reads the metric and the target once per tick. A failed read is a Sample with OK
// false (the reader logs and counts it); the runner never substitutes an older value.
type Reader interface {
	Read(ctx context.Context, now time.Time) (metric, target Sample)
}

// ReaderFunc adapts a function to Reader.
type ReaderFunc func(ctx context.Context, now time.Time) (metric, target Sample)

// Read calls f.
func (f ReaderFunc) Read(ctx context.Context, now time.Time) (Sample, Sample) { return f(ctx, now) }

// TickRecord is what one tick saw and did, handed to the Observer.
type TickRecord struct {
	Time     time.Time
	Input    Input
	Decision Decision
	Terms    Terms
	// State is a copy of the controller's state after the tick (for checkpoints).
	State State
	// Took is how long the tick took (sources, controller and actuator).
	Took time.Duration
	// MetricEvery is how many ticks the metric has been seen to hold each value before it
	// changes, when it changes at such a regular period (a series scraped less often than it
	// is read; see refreshWatch); 0 otherwise.
	MetricEvery int
}

// Observer is told about every tick, on the runner's goroutine; it must not block for long.
type Observer interface {
	Tick(rec *TickRecord)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(rec *TickRecord)

// Tick calls f.
func (f ObserverFunc) Tick(rec *TickRecord) { f(rec) }

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Delay is the time between ticks (--delay; > 0).
	Delay time.Duration
	// SourceTimeout bounds one read of the sources (> 0).
	SourceTimeout time.Duration
}

// Validate reports the first invalid field.
func (c RunnerConfig) Validate() error {
	switch {
	case c.Delay <= 0:
		return fmt.Errorf("%w: delay must be > 0, got %v", ErrConfig, c.Delay)
	case c.SourceTimeout <= 0:
		return fmt.Errorf("%w: source timeout must be > 0, got %v", ErrConfig, c.SourceTimeout)
	}
	return nil
}

// Runner ticks a Controller: every Delay it reads the sources, withdraws the actuator's
// ungranted demand, steps the controller and sets the new demand. It owns the controller while
// it runs.
type Runner struct {
	cfg   RunnerConfig
	ctrl  *Controller
	read  Reader
	act   Actuator
	obs   Observer
	clock Clock
	log   hclog.Logger
	watch refreshWatch
}

// NewRunner returns a runner. obs may be nil; clock nil means the wall clock.
func NewRunner(cfg RunnerConfig, ctrl *Controller, read Reader, act Actuator, obs Observer, clock Clock, log hclog.Logger) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ctrl == nil || read == nil || act == nil {
		return nil, errors.New("loop: runner needs a controller, a reader and an actuator")
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if obs == nil {
		obs = ObserverFunc(func(*TickRecord) {})
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	r := &Runner{cfg: cfg, ctrl: ctrl, read: read, act: act, obs: obs, clock: clock, log: log.Named("loop")}
	r.matchTick()
	return r, nil
}

// matchTick starts the controller learning again when its state was learned at another tick
// length than the runner's (a checkpoint written before --delay changed, as the metric refresh
// warning advises): the lags and lives it learned count in ticks of that length, its effects
// and drift are per such tick. Resumed as it was, a state learned at 1 s ticks and run at 15 s
// ticks would wait fifteen times too long for its units, and expect a fifteenth of the drift.
func (r *Runner) matchTick() {
	learned := time.Duration(r.ctrl.state.TickNanos)
	if learned == 0 || learned == r.cfg.Delay {
		return
	}
	r.ctrl.Retick(r.cfg.Delay)
	r.log.Warn("controller_relearning", "learned_at_tick", learned, "tick", r.cfg.Delay,
		"reason", "the checkpointed model counts in ticks of another length (--delay changed)")
}

// Run ticks until ctx is done, then withdraws any demand not yet granted and returns
// ctx.Err(). It runs on the caller's goroutine. A tick that overruns the delay delays the next
// one; missed ticks are not made up in a burst.
func (r *Runner) Run(ctx context.Context) error {
	defer r.act.Withdraw()
	next := r.clock.Now()
	for {
		r.Tick(ctx)
		next = next.Add(r.cfg.Delay)
		now := r.clock.Now()
		if wait := next.Sub(now); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-r.clock.After(wait):
			}
		} else {
			next = now // overran: start again from here
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
}

// Tick runs one tick now. Exported for tests and single-step tools; Run calls it.
func (r *Runner) Tick(ctx context.Context) {
	start := r.clock.Now()
	rctx, cancel := context.WithTimeout(ctx, r.cfg.SourceTimeout)
	metric, target := r.read.Read(rctx, start)
	cancel()
	if ctx.Err() != nil {
		return // leadership lost or shutting down while reading: decide nothing
	}
	rec := TickRecord{Time: start}
	rec.Input = Input{Now: start, Metric: metric, Target: target, Ledger: r.act.Withdraw()}
	rec.Decision = r.ctrl.Step(rec.Input)
	r.act.Demand(rec.Decision.Warmers, rec.Decision.Coolers)
	rec.State = r.ctrl.State()
	rec.Terms = r.ctrl.Terms()
	rec.Took = r.clock.Now().Sub(start)
	r.watchRefresh(&rec)
	r.logTick(&rec)
	r.obs.Tick(&rec)
}

// watchRefresh notes in rec how often the metric changes, and logs when it starts or stops
// changing only every few ticks: the controller learns the plant from each tick's move and
// takes a held reading for a metric that did not move (see refreshWatch).
func (r *Runner) watchRefresh(rec *TickRecord) {
	was := r.watch.every
	rec.MetricEvery = r.watch.observe(rec.Input.Metric.Value, rec.Input.Metric.OK)
	switch {
	case rec.MetricEvery == was:
	case rec.MetricEvery > 0:
		r.log.Warn("metric_refresh_slower_than_tick", "every_ticks", rec.MetricEvery,
			"every", time.Duration(rec.MetricEvery)*r.cfg.Delay, "delay", r.cfg.Delay,
			"advice", "set --delay to the metric's refresh interval (a Prometheus series: its scrape interval)")
	default:
		r.log.Info("metric_refresh_every_tick", "was_every_ticks", was)
	}
}

func (r *Runner) logTick(rec *TickRecord) {
	d, in := rec.Decision, rec.Input
	switch {
	case d.Miss:
		r.log.Warn("tick_miss", "metric_ok", in.Metric.OK, "target_ok", in.Target.OK)
	case d.Warmers > 0 || d.Coolers > 0:
		r.log.Info("tick", "metric", in.Metric.Value, "target", in.Target.Value, "warmers", d.Warmers, "coolers", d.Coolers,
			"running_warmers", in.Ledger.Warmer.Running, "pending_warmers", in.Ledger.Warmer.Pending,
			"running_coolers", in.Ledger.Cooler.Running, "pending_coolers", in.Ledger.Cooler.Pending, "starved", d.Starved)
	default:
		r.log.Debug("tick", "metric", in.Metric.Value, "target", in.Target.Value,
			"running_warmers", in.Ledger.Warmer.Running, "pending_warmers", in.Ledger.Warmer.Pending, "starved", d.Starved)
	}
}
