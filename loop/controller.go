package loop

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config holds the controller's tunables. JSON keys are the flag names (a scenario's
// "controller" object uses them too).
type Config struct {
	// HasWarmer and HasCooler say which actions exist; the controller uses only those.
	HasWarmer bool `json:"-"`
	HasCooler bool `json:"-"`
	// MaxPerTick bounds the units of one kind asked for in one tick (> 0).
	MaxPerTick int `json:"max-per-tick"`
	// MaxInFlight bounds the units of one kind pending or running at once (> 0).
	MaxInFlight int `json:"max-in-flight"`
	// Tolerance: no action while |target - metric| <= Tolerance (>= 0, metric units); also the
	// band of readings taken as at a known wall (a noisy metric's readings scatter around an
	// empty queue's value; see Step): set it to the metric's noise band.
	Tolerance float64 `json:"tolerance"`
	// MetricScale: the metric units of one of the controller's own units (State.Scale; the
	// package doc's "The metric's scale"). 0 (the default) chooses it from the first readings;
	// > 0 sets it for a controller that has none yet (a checkpoint keeps the one it learned in).
	MetricScale float64 `json:"metric-scale"`
	// Lookback: ticks of history the controller learns the plant from (> 0): the model forgets
	// a sample's weight by half in about 0.7 * Lookback ticks. Its memory starts at 10 ticks
	// and grows by one every 4 ticks up to Lookback (see memory in step.go).
	Lookback int `json:"lookback"`
	// Delay is the tick length. The controller only uses it to notice gaps (a failover, a
	// paused process) and keep its history aligned; 0 disables that.
	Delay time.Duration `json:"-"`
	// CoolerKills: the cooler is not a command but a kill of the newest running warmer task.
	CoolerKills bool `json:"-"`
	// Caution scales the first moves of a kind not yet seen working (0 < Caution <= 1).
	Caution float64 `json:"caution"`
	// Coincidence: the most ticks of a new unit's running life the decision looks ahead, for
	// units whose effect builds up while they run (>= 1; 1 judges every unit by its first tick).
	Coincidence int `json:"coincidence"`
	// ProbeAfter: ticks of a persistent error without action before the controller acts anyway
	// (> 0): one unit, or a probe of a kind whose effect is in doubt (doubled while its probes
	// tell nothing; a tick whose error grows with nothing believed to help counts four). This is
	// what rules out a deadlock.
	ProbeAfter int `json:"probe-after"`
	// DriftGain: how fast the recent-disturbance estimate follows what the model does not
	// explain (0 < DriftGain <= 1).
	DriftGain float64 `json:"drift-gain"`
}

func (c *Config) has(k Kind) bool {
	if k == Cooler {
		return c.HasCooler
	}
	return c.HasWarmer
}

// DefaultConfig returns the defaults documented in the package doc.
func DefaultConfig() Config {
	return Config{
		HasWarmer: true, MaxPerTick: 1000, MaxInFlight: 10000, Tolerance: 0, Lookback: 100,
		Caution: 0.5, Coincidence: 20, ProbeAfter: 20, DriftGain: 0.3,
	}
}

// ErrConfig is wrapped by every Validate error.
var ErrConfig = errors.New("invalid controller config")

// Validate reports the first invalid field by its flag name.
func (c Config) Validate() error {
	switch {
	case !c.HasWarmer && !c.HasCooler:
		return fmt.Errorf("%w: need a warmer or a cooler", ErrConfig)
	case c.MaxPerTick <= 0:
		return fmt.Errorf("%w: max-per-tick must be > 0, got %d", ErrConfig, c.MaxPerTick)
	case c.MaxInFlight <= 0:
		return fmt.Errorf("%w: max-in-flight must be > 0, got %d", ErrConfig, c.MaxInFlight)
	case c.Tolerance < 0 || math.IsNaN(c.Tolerance) || math.IsInf(c.Tolerance, 0):
		return fmt.Errorf("%w: tolerance must be a finite number >= 0, got %v", ErrConfig, c.Tolerance)
	case c.MetricScale < 0 || math.IsNaN(c.MetricScale) || math.IsInf(c.MetricScale, 0):
		return fmt.Errorf("%w: metric-scale must be a finite number >= 0, got %v", ErrConfig, c.MetricScale)
	case c.Lookback <= 0:
		return fmt.Errorf("%w: lookback must be > 0, got %d", ErrConfig, c.Lookback)
	case !(c.Caution > 0 && c.Caution <= 1):
		return fmt.Errorf("%w: caution must be in (0, 1], got %v", ErrConfig, c.Caution)
	case c.Coincidence < 1:
		return fmt.Errorf("%w: coincidence must be >= 1, got %d", ErrConfig, c.Coincidence)
	case c.ProbeAfter < 1:
		return fmt.Errorf("%w: probe-after must be >= 1, got %d", ErrConfig, c.ProbeAfter)
	case !(c.DriftGain > 0 && c.DriftGain <= 1):
		return fmt.Errorf("%w: drift-gain must be in (0, 1], got %v", ErrConfig, c.DriftGain)
	case c.Delay < 0:
		return fmt.Errorf("%w: delay must be >= 0, got %v", ErrConfig, c.Delay)
	}
	return nil
}

// Decision is one tick's answer: the units to launch now. It replaces any demand of the
// previous tick that was not granted.
type Decision struct {
	Warmers int
	Coolers int
	// Error is target - metric (0 on a miss).
	Error float64
	// Starved is true when the previous tick's demand was not fully granted.
	Starved bool
	// Miss is true when the metric or the target could not be read: no action was taken.
	Miss bool
	// Predicted is the metric the controller expects at the chosen kind's coincidence point
	// without the new units. Aimed is the target the units were sized for: where a moving
	// target is expected when that kind's units start to act (the target as read when it steps
	// or stays). Both are 0 when no kind was chosen (no gap beyond the tolerance that a kind is
	// believed to close); a kind can be chosen and still be asked for no unit (its units would
	// overshoot by more than they close).
	Predicted float64
	Aimed     float64
}

// Controller is a Config plus a State, for callers that want one value to step.
// It is not safe for concurrent use.
type Controller struct {
	cfg   Config
	state State
}

// New returns a controller with a fresh state. cfg must be valid.
func New(cfg Config) *Controller { return &Controller{cfg: cfg, state: NewState()} }

// Step runs one tick.
func (c *Controller) Step(in Input) Decision { return Step(&c.cfg, &c.state, in) }

// State returns a copy of the current state (for checkpoints).
func (c *Controller) State() State { return c.state }

// Restore replaces the state (after loading a checkpoint).
func (c *Controller) Restore(s State) { c.state = s }

// Retick makes d the tick length and starts learning again: everything the state learned (lags
// and lives in ticks, effects and drift a tick, the histories) counts in ticks of the old
// length. Kept: the metric's scale, the time of the last tick, and the ledger's counts and the
// units asked for at the last tick, so that units already in flight are not taken for new
// launches or starts. d must be > 0.
func (c *Controller) Retick(d time.Duration) {
	old := &c.state
	s := NewState()
	s.Scale, s.LastNow, s.TickNanos = old.Scale, old.LastNow, int64(d)
	for k := range s.Kinds {
		o, n := &old.Kinds[k], &s.Kinds[k]
		n.PrevPending, n.PrevRunning, n.Asked = o.PrevPending, o.PrevRunning, o.Asked
	}
	c.cfg.Delay = d
	c.state = s
}

// Config returns the controller's config.
func (c *Controller) Config() Config { return c.cfg }

// Terms returns the controller's internal values (learned drift, per-unit effects, timings).
func (c *Controller) Terms() Terms { return TermsOf(&c.cfg, &c.state) }

// TermsOf computes the named internal values of a state.
func TermsOf(cfg *Config, s *State) Terms {
	w, k := kindResponse(cfg, s, Warmer), kindResponse(cfg, s, Cooler)
	sc := s.scale()
	return Terms{
		Drift:         sc * (s.Theta[pDrift] + s.Drift),
		WarmerPerUnit: sc * w.gain(),
		CoolerPerUnit: sc * k.gain(),
		WarmerLag:     s.Kinds[Warmer].Lag, WarmerLife: s.Kinds[Warmer].Life,
		CoolerLag: s.Kinds[Cooler].Lag, CoolerLife: s.Kinds[Cooler].Life,
	}
}
