package loop

import (
	"errors"
	"fmt"
	"math"
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
	// Tolerance: no action while |target - metric| <= Tolerance (>= 0, metric units).
	Tolerance float64 `json:"tolerance"`
	// Lookback: ticks of history the controller learns the plant from (> 0).
	Lookback int `json:"lookback"`
}

// DefaultConfig returns the defaults documented in the package doc.
func DefaultConfig() Config {
	return Config{HasWarmer: true, MaxPerTick: 1000, MaxInFlight: 10000, Tolerance: 0, Lookback: 100}
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
		return fmt.Errorf("%w: tolerance must be a number >= 0, got %v", ErrConfig, c.Tolerance)
	case c.Lookback <= 0:
		return fmt.Errorf("%w: lookback must be > 0, got %d", ErrConfig, c.Lookback)
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

// Config returns the controller's config.
func (c *Controller) Config() Config { return c.cfg }
