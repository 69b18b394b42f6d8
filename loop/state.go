package loop

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// StateVersion is the version of State's serialised form. A state written by a newer version
// is refused by UnmarshalState.
const StateVersion = 1

// Ring is the number of ticks of launch and start history the controller keeps per kind. It
// bounds the lags and lifetimes it can time exactly; longer-lived tasks count as permanent.
// It was 128 until State.Ring was written: tasks of 144 ticks were then learned to live 128,
// their replacements launched 16 ticks early, and the metric overshot by a batch of tasks.
const Ring = 256

// oldRing is Ring in checkpoints that do not say theirs (State.Ring 0).
const oldRing = 128

// nParams is the size of the learned model: a drift, and per kind the effect of a running unit
// per tick, of a start, and of an end.
const nParams = 7

// Parameter indexes into State.Theta.
const (
	pDrift = iota
	pWarmRun
	pWarmStart
	pWarmEnd
	pCoolRun
	pCoolStart
	pCoolEnd
)

// KindState is what the controller remembers of one kind of action.
type KindState struct {
	// Launched[t % Ring] is the number of units granted (launched) at tick t.
	Launched [Ring]int32 `json:"launched"`
	// Started[t % Ring] is the number of units that started running at tick t.
	Started [Ring]int32 `json:"started"`
	// PrevPending, PrevRunning: the ledger's counts at the previous tick.
	PrevPending int32 `json:"prev_pending"`
	PrevRunning int32 `json:"prev_running"`
	// Asked: units the previous decision asked for.
	Asked int32 `json:"asked"`
	// Lag and Life: learned ticks from launch to start, and from start to end (0 = not seen yet).
	Lag  float64 `json:"lag"`
	Life float64 `json:"life"`
	// Units: units seen starting, ever (how much the controller has timed of this kind).
	Units float64 `json:"units"`
	// Seen: unit-ticks of this kind (starts plus running) the model has learned from.
	Seen float64 `json:"seen"`
	// Killed: units of this kind seen ended by the other kind (a cooler that kills a running
	// warmer task) rather than at the end of their life.
	Killed float64 `json:"killed"`
	// Spared: ticks on which units of the other kind (coolers) acted while units of this kind
	// ran and none of them ended: the evidence that the coolers do not kill this kind's tasks
	// (producers adding items to a queue that consumers drain); counted up to spareTicks, from
	// which such ends are natural. Added within version 1: an older checkpoint decodes it 0 (no
	// such evidence yet).
	Spared int32 `json:"spared,omitempty"`
	// Doubt: units of the next probe of this kind, after a probe whose effect was lost in the
	// metric's own motion (0 = not in doubt: no probe, or its answer was clear).
	Doubt int32 `json:"doubt,omitempty"`
	// DoubtDir: the way the metric had to move (+1 up, -1 down) when that doubt arose; the
	// larger probe is for that same need (0: not known).
	DoubtDir int8 `json:"doubt_dir,omitempty"`
	// Reprobes: fruitless probing rounds of this kind since it last helped (told nothing, or
	// confirmed that it pushes the metric away from the target); each one doubles the idle
	// time before the next round (bounded cost, never a deadlock).
	Reprobes int32 `json:"reprobes,omitempty"`
	// Recheck: a re-probing round of this kind is under way (from the re-probe until the
	// round's answer).
	Recheck bool `json:"recheck,omitempty"`
	// ActedDir: the way (+1 up, -1 down) the controller last launched this kind to move the
	// metric, on its learned effect (not a probe); cleared by a re-probe.
	ActedDir int8 `json:"acted_dir,omitempty"`
	// Futile: consecutive ticks this kind was chosen to move the metric off a wall toward the
	// target while units of it ran and the metric stayed pinned there.
	Futile int32 `json:"futile,omitempty"`
	// EndPrior: no tick with ends of this kind has been learned from yet, so the model's end
	// effect is still the prior's guess (a task count falls by one when a task ends). Until
	// then predictions give ends no effect. Added within version 1: an older checkpoint decodes
	// it false (its end effect taken as learned).
	EndPrior bool `json:"end_prior,omitempty"`
	// Blind: the kind's units were acting from the first tick the model learned from, so the
	// drift was never seen without them and the model cannot tell their effect from it; cleared
	// by the kind's next re-probe. Added within version 1 (omitted when false), as DriftSeen.
	Blind bool `json:"blind,omitempty"`
	// Moved: unit-ticks of this kind acting on learned ticks where the metric moved off the
	// drift's path by at least max(Tolerance, min(1, a hundredth of the range the metric has
	// covered)): the evidence that its units move the metric at all. Added within version 1:
	// an older checkpoint decodes it 0 (see decide's bound on the units a tick of a kind
	// learned against its name).
	Moved float64 `json:"moved,omitempty"`
	// ProbeDev: the departure per unit of this kind's last probe that was doubled (0: none
	// since its last clear answer). Added within version 1: an older checkpoint decodes it 0.
	ProbeDev float64 `json:"probe_dev,omitempty"`
}

// Probe is a trial of one kind while nothing was believed to move the metric the right way: the
// metric's motion from the launch is judged against the drift seen just before it.
type Probe struct {
	// Active: a probe is under way (launched, its units not all ended).
	Active bool `json:"active"`
	Kind   Kind `json:"kind"`
	// Units launched, at Tick, when the metric was PV and moving by Base per tick.
	Units int32   `json:"units"`
	Tick  int64   `json:"tick"`
	PV    float64 `json:"pv"`
	Base  float64 `json:"base"`
	// Dev: the largest departure seen since the launch from where the drift alone would have
	// taken the metric (signed), and At the ticks after the launch it was seen.
	Dev float64 `json:"dev"`
	At  int32   `json:"at"`
	// Alone: the other kind had no units in flight from the launch on, so the departure can
	// only be this probe's. Added within version 1: an older checkpoint decodes it false.
	Alone bool `json:"alone,omitempty"`
	// Idle: State.Idle when the probe was asked for. A probe the cluster never granted (a
	// starved window) gives that wait back, so it is asked again at once, not a whole re-probe
	// interval later. Added within version 1: an older checkpoint decodes it 0.
	Idle int32 `json:"idle,omitempty"`
	// Capped: the cluster granted fewer units than the probe asked for (Units is what it
	// granted). Added within version 1: an older checkpoint decodes it false.
	Capped bool `json:"capped,omitempty"`
	// Last: the departure (as Dev, signed) on the last tick; Jump: its largest change from one
	// tick to the next, signed. A departure made in one jump is units starting, not a drift
	// that grew. Added within version 1: an older checkpoint decodes them 0.
	Last float64 `json:"last,omitempty"`
	Jump float64 `json:"jump,omitempty"`
}

// State is everything the controller remembers between ticks: a fixed-size value (no slices,
// no maps), so a tick allocates nothing and a checkpoint is bounded (a few KiB as JSON).
type State struct {
	Version int `json:"v"`
	// Ring is the length of the launch and start histories as written (0: oldRing, before it
	// was written). Added within version 1: UnmarshalState moves an older checkpoint's
	// histories to this binary's Ring; a binary from before it reads the first 128 ticks of
	// each and times its tasks wrong for a while, rather than refusing the state.
	Ring int `json:"ring,omitempty"`
	// Scale is how many metric units one unit of the controller's own is (metricScale: 1 for
	// readings from 1 to 300, below 3 only whole ones; else a power of ten); 0 until the first
	// metric and target that are not both zero. Every metric quantity below (the model, the noise, the extremes,
	// the probe's metrics) is in the controller's own units: the metric divided by Scale.
	// The serialised form holds metric units (MarshalState), as it did before Scale: a binary
	// that predates it reads a newer checkpoint right (at its scale of 1), and a checkpoint
	// without a scale that has seen a metric is read at scale 1. Added within version 1.
	Scale float64 `json:"scale,omitempty"`
	Tick  int64   `json:"tick"`
	// LastNow is the time of the previous tick (Unix nanoseconds; 0 = none).
	LastNow int64 `json:"last_now"`
	// TickNanos is the tick length the model was learned at (nanoseconds): its lags, lives,
	// effects and drift count in such ticks. 0 until the first tick with a known tick length,
	// and in a checkpoint from before it was kept (added within version 1). A runner given a
	// state learned at another tick length starts learning again (Runner, Controller.Retick).
	TickNanos int64 `json:"tick_ns,omitempty"`
	// PrevPV is the previous tick's metric, valid when PrevOK.
	PrevPV float64 `json:"prev_pv"`
	PrevOK bool    `json:"prev_ok"`
	// Theta is the learned model: ΔPV per tick = Theta · [1, per kind: running, starts, ends].
	Theta [nParams]float64 `json:"theta"`
	// Cov is the recursive least squares covariance of Theta (row-major).
	Cov [nParams * nParams]float64 `json:"cov"`
	// Drift is the fast disturbance estimate: the recent mean of what the model does not explain
	// (metric units per tick). With Theta's drift it is the controller's integral term; it is
	// learned from the metric's own motion, never from the error, so starvation cannot wind it up.
	Drift float64 `json:"drift"`
	// Hi, Lo: the highest and lowest metric seen (walls such as an empty queue show up there).
	Hi      float64 `json:"hi"`
	Lo      float64 `json:"lo"`
	HasSeen bool    `json:"has_seen"`
	// WallHi, WallLo: the metric was seen pressed against Hi (Lo), moving less than the model
	// expected: a wall, such as an empty queue. Cleared when the metric goes past it.
	WallHi bool `json:"wall_hi"`
	WallLo bool `json:"wall_lo"`
	// Held is the last tick's movement, learned from at the next tick.
	Held Sample1 `json:"held"`
	// Pressed holds, per side ([0] high, [1] low), the last movements that may have been cut by
	// a wall there: ones censored against a known wall, and ones that set a new extreme, fell
	// clearly short of the model and left it at once (the first touch of a wall: a queue drained
	// to empty and refilled the next tick). If the metric later goes past that side's extreme,
	// there was no wall (one consumer holding a filling queue flat at its highest value looks
	// like one): they are learned then as measurements, if younger than Lookback ticks.
	Pressed [2][pressedKept]Sample1 `json:"pressed"`
	// Idle counts ticks since the last tick that asked for units.
	Idle int32 `json:"idle"`
	// DriftSeen: the model has learned from a tick with no unit acting (the drift alone).
	DriftSeen bool `json:"drift_seen,omitempty"`
	// Kinds: [Warmer], [Cooler].
	Kinds [2]KindState `json:"kinds"`
	// Noise is the recent mean square of the model's one-tick prediction error (metric units
	// squared), learned outside probes: how much the metric moves that nothing explains. A
	// probe must stand out of it.
	Noise float64 `json:"noise,omitempty"`
	// Probe is the trial under way, if any.
	Probe Probe `json:"probe"`
	// StarvedAt is the last tick at which a request was granted nothing (0: none). For
	// careTicks after it, moves toward the target are rounded down. CareGap is target minus
	// metric at the first tick after it (CarePending: not taken yet). Added within version 1:
	// an older checkpoint decodes them zero (no care).
	StarvedAt   int64   `json:"starved_at,omitempty"`
	CareGap     float64 `json:"care_gap,omitempty"`
	CarePending bool    `json:"care_pending,omitempty"`
	// The target's recent course, to aim at where a moving target will be when a new unit
	// acts (see targetAhead): PrevSP is the last target read (SPOK: there is one), SPStep its
	// last change, SPRun the ticks in a row it has moved smoothly (each change the same way as
	// the one before and within a factor of 2 of it), SPFrom where it was when that run began,
	// SPCurve a moving average of how the change itself changed over them. Added within
	// version 1: a checkpoint without them resumes with a target taken as still.
	PrevSP  float64 `json:"prev_sp,omitempty"`
	SPStep  float64 `json:"sp_step,omitempty"`
	SPCurve float64 `json:"sp_curve,omitempty"`
	SPRun   int32   `json:"sp_run,omitempty"`
	SPFrom  float64 `json:"sp_from,omitempty"`
	SPOK    bool    `json:"sp_ok,omitempty"`
}

// Sample1 is one tick's movement of the metric with what was running, held for a tick.
type Sample1 struct {
	OK bool             `json:"ok"`
	X  [nParams]float64 `json:"x"`
	Y  float64          `json:"y"`
	PV float64          `json:"pv"`
	// NewHi/NewLo: the metric set a new extreme; AtHi/AtLo: it was back at exactly one.
	NewHi bool `json:"new_hi"`
	NewLo bool `json:"new_lo"`
	AtHi  bool `json:"at_hi"`
	AtLo  bool `json:"at_lo"`
	// Probe: a probe was under way; its movement is learned against the drift Base seen
	// before the probe (the drift is held, not learned, for that tick).
	Probe bool    `json:"probe,omitempty"`
	Base  float64 `json:"base,omitempty"`
	// Tick is the tick the movement ended on (kept for Pressed).
	Tick int64 `json:"tick,omitempty"`
}

// pressedKept is how many censored movements are kept per wall.
const pressedKept = 8

// NewState returns the state of a controller that has seen nothing: its model is the original
// Relay's assumption (one warmer unit raises the metric by one while it runs, one cooler unit
// lowers it by one; by one of the controller's own units, see Scale), held loosely so the first
// responses replace it.
func NewState() State {
	s := State{Version: StateVersion, Ring: Ring}
	s.Theta[pWarmStart], s.Theta[pWarmEnd] = 1, -1
	s.Theta[pCoolStart], s.Theta[pCoolEnd] = -1, 1
	s.Kinds[Warmer].EndPrior, s.Kinds[Cooler].EndPrior = true, true
	for i := 0; i < nParams; i++ {
		s.Cov[i*nParams+i] = priorVariance
	}
	return s
}

// ErrState is wrapped by UnmarshalState's errors.
var ErrState = errors.New("controller state")

// MarshalState encodes the state as JSON, its metric quantities in metric units (see Scale).
func MarshalState(s *State) ([]byte, error) {
	m := s.inUnits(s.scale())
	m.Ring = Ring
	return json.Marshal(&m)
}

// inUnits returns a copy of s with every metric quantity multiplied by k: the model (each of its
// numbers is a change of the metric, per tick or per unit), the recent drift, the extremes, the
// last metric, the held and pressed movements, the probe's metrics, each kind's last probe
// departure and the starvation gap; the noise, a mean square, by k*k. The covariance is left:
// it is the model's, in units of the regressors (unit counts), and only scaled by the noise
// where it is used.
func (s *State) inUnits(k float64) State {
	m := *s
	if k == 1 {
		return m
	}
	for i := range m.Theta {
		m.Theta[i] *= k
	}
	m.PrevPV *= k
	m.Drift *= k
	m.Noise *= k * k
	m.Hi *= k
	m.Lo *= k
	m.CareGap *= k
	m.PrevSP *= k
	m.SPStep *= k
	m.SPCurve *= k
	m.SPFrom *= k
	m.Probe.PV *= k
	m.Probe.Base *= k
	m.Probe.Dev *= k
	m.Probe.Last *= k
	m.Probe.Jump *= k
	for i := range m.Kinds {
		m.Kinds[i].ProbeDev *= k
	}
	scaleSample(&m.Held, k)
	for side := range m.Pressed {
		for i := range m.Pressed[side] {
			scaleSample(&m.Pressed[side][i], k)
		}
	}
	return m
}

func scaleSample(h *Sample1, k float64) {
	h.Y *= k
	h.PV *= k
	h.Base *= k
}

// reRing moves the launch and start histories of a state written with another Ring to this
// binary's: the entry of tick t sits at t modulo the ring's length. A longer ring than this
// binary's was cut short by the decoding, so its histories are dropped (the lags and lives
// learned are kept; ages of the tasks in flight are unknown for a while).
func (s *State) reRing() {
	r := s.Ring
	if r == 0 {
		r = oldRing
	}
	s.Ring = Ring
	if r == Ring {
		return
	}
	for k := range s.Kinds {
		for _, h := range []*[Ring]int32{&s.Kinds[k].Launched, &s.Kinds[k].Started} {
			var n [Ring]int32
			if r < Ring {
				for t := s.Tick - int64(r) + 1; t <= s.Tick; t++ {
					n[ringAt(t)] = h[((t%int64(r))+int64(r))%int64(r)]
				}
			}
			*h = n
		}
	}
}

// UnmarshalState decodes a state written by MarshalState. A state from a newer version, or one
// that does not hold together (NaN, negative counts), is refused with an error wrapping ErrState.
func UnmarshalState(b []byte) (State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrState, err)
	}
	if s.Version > StateVersion {
		return State{}, fmt.Errorf("%w: version %d is newer than this binary's %d", ErrState, s.Version, StateVersion)
	}
	if s.Version < 1 {
		return State{}, fmt.Errorf("%w: missing version", ErrState)
	}
	s.reRing()
	if !finite(s.Scale) || s.Scale < 0 {
		return State{}, fmt.Errorf("%w: scale %v", ErrState, s.Scale)
	}
	if s.Scale == 0 && s.HasSeen {
		s.Scale = 1 // written before the scale: metric units
	}
	s = s.inUnits(1 / s.scale())
	for _, v := range s.Theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return State{}, fmt.Errorf("%w: model holds %v", ErrState, v)
		}
	}
	for _, side := range s.Pressed {
		for _, r := range side {
			if r.OK && (!finite(r.Y) || !finite(r.PV) || !finite(r.Base)) {
				return State{}, fmt.Errorf("%w: a held movement does not hold together", ErrState)
			}
		}
	}
	if !finite(s.Noise) || s.Noise < 0 || s.Probe.Kind != Warmer && s.Probe.Kind != Cooler || !finite(s.Probe.PV) || !finite(s.Probe.Base) || !finite(s.Probe.Dev) ||
		!finite(s.Probe.Last) || !finite(s.Probe.Jump) {
		return State{}, fmt.Errorf("%w: probe does not hold together", ErrState)
	}
	if !finite(s.CareGap) || s.StarvedAt < 0 {
		return State{}, fmt.Errorf("%w: starvation care does not hold together", ErrState)
	}
	if !finite(s.PrevSP) || !finite(s.SPStep) || !finite(s.SPCurve) || !finite(s.SPFrom) || s.SPRun < 0 {
		return State{}, fmt.Errorf("%w: the target's course does not hold together", ErrState)
	}
	for _, k := range s.Kinds {
		if k.PrevPending < 0 || k.PrevRunning < 0 || k.Asked < 0 || k.Doubt < 0 || k.Spared < 0 {
			return State{}, fmt.Errorf("%w: negative counts", ErrState)
		}
		if !finite(k.ProbeDev) {
			return State{}, fmt.Errorf("%w: probe departure is not a number", ErrState)
		}
	}
	return s, nil
}

// Terms are the controller's internal values, named, for metrics and status.
type Terms struct {
	// Drift: the learned change of the metric per tick with nothing running (long-term + recent).
	Drift float64 `json:"drift"`
	// PerUnit: the learned effect on the metric of one unit, once it has started and run for the
	// coincidence horizon (metric units; sign included).
	WarmerPerUnit float64 `json:"warmer_per_unit"`
	CoolerPerUnit float64 `json:"cooler_per_unit"`
	// Lag and Life of each kind, in ticks.
	WarmerLag  float64 `json:"warmer_lag"`
	WarmerLife float64 `json:"warmer_life"`
	CoolerLag  float64 `json:"cooler_lag"`
	CoolerLife float64 `json:"cooler_life"`
}

// scale is Scale, or 1 while it is not chosen (the metric and target read so far were zero).
func (s *State) scale() float64 {
	if s.Scale > 0 {
		return s.Scale
	}
	return 1
}
