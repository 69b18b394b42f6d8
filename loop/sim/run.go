package sim

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/loop"
)

// Policy names a controller that can drive a simulated plant.
type Policy string

// The controllers.
const (
	// Project is this project's controller (package loop), run by loop.Runner.
	Project Policy = "project"
	// OriginalRelay is the original Relay controller.
	OriginalRelay Policy = "original"
	// Reference is the greedy controller that knows the plant exactly but not the future target.
	Reference Policy = "reference"
)

// Row is one tick of a run: the CSV row.
type Row struct {
	Tick int
	SP   float64
	PV   float64
	// Requested is signed: warmer units positive, cooler units negative.
	Requested int
	// Executed is the signed granted amount.
	Executed int
	// State is q (queue) or the running count (tasks).
	State float64
	// WarmersGranted, CoolersGranted: the units granted of each kind.
	WarmersGranted, CoolersGranted int
	// Starved is true when the supply granted nothing at this tick.
	Starved bool
	// CanHelp: one unit of an action that exists, granted now, would have moved the metric at
	// t+lag toward SP at t+lag (as the plant really is); the deadlock figure only counts such
	// ticks.
	CanHelp bool
}

// CSVHeader is the header of Row's CSV form.
const CSVHeader = "tick,SP,PV,requested,executed,plant_state,warmers,coolers,starved"

// CSV formats the row, without a newline.
func (r *Row) CSV() string {
	st := 0
	if r.Starved {
		st = 1
	}
	return fmt.Sprintf("%d,%s,%s,%d,%d,%s,%d,%d,%d", r.Tick, num(r.SP), num(r.PV), r.Requested, r.Executed,
		num(r.State), r.WarmersGranted, r.CoolersGranted, st)
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.6g", v)
}

// epoch is the virtual clock's start; a tick is one second.
var epoch = time.Unix(1_700_000_000, 0)

// Run runs the scenario under a policy and returns one row per tick.
func Run(s *Scenario, pol Policy) ([]Row, error) {
	switch pol {
	case Project:
		return runProject(s)
	case OriginalRelay:
		o := NewOriginal(s.Relay.Lookback, s.Relay.Ramp)
		return runSimple(s, func(t int, sp, pv float64, _ plant) (int, int) {
			mv := o.Step(sp, pv)
			switch {
			case mv > 0 && s.Relay.Warmer:
				return mv, 0
			case mv < 0 && s.Relay.Cooler:
				return 0, -mv
			}
			return 0, 0 // "too cold" / "too hot": the action does not exist
		}), nil
	case Reference:
		r := newReference(s)
		return runSimple(s, func(t int, sp, _ float64, p plant) (int, int) { return r.decide(t, sp, p) }), nil
	}
	return nil, fmt.Errorf("%w: unknown policy %q", ErrScenario, pol)
}

// runSimple runs a controller that is told SP and PV (the reference also sees the plant).
func runSimple(s *Scenario, decide func(t int, sp, pv float64, p plant) (int, int)) []Row {
	p := newPlant(&s.Plant)
	judge := newReference(s)
	rows := make([]Row, 0, s.Ticks)
	for t := 0; t < s.Ticks; t++ {
		pv := p.step(t)
		sp := s.Target.At(t)
		help := judge.helps(t, p)
		w, c := decide(t, sp, pv, p)
		gw, gc := s.Supply.grant(t, w, c)
		p.schedule(t, gw, gc)
		rows = append(rows, Row{Tick: t, SP: sp, PV: pv, Requested: w - c, Executed: gw - gc, State: p.state(),
			WarmersGranted: gw, CoolersGranted: gc, Starved: !s.Supply.available(t), CanHelp: help})
	}
	return rows
}

// actuator is loop.Actuator against the simulated plant: Demand is granted at once as far as
// the supply allows; the rest stays demanded until the next Withdraw, which cancels it and
// reports it as Ungranted.
type actuator struct {
	p          plant
	sup        *Supply
	t          int
	ungW, ungC int
	// set by Demand for the row
	reqW, reqC, gotW, gotC int
}

func (a *actuator) Withdraw() loop.Ledger {
	l := a.p.ledger(a.t)
	l.Warmer.Ungranted, l.Cooler.Ungranted = a.ungW, a.ungC
	a.ungW, a.ungC = 0, 0
	return l
}

func (a *actuator) Demand(warmers, coolers int) {
	gw, gc := a.sup.grant(a.t, warmers, coolers)
	a.p.schedule(a.t, gw, gc)
	a.ungW, a.ungC = warmers-gw, coolers-gc
	a.reqW, a.reqC, a.gotW, a.gotC = warmers, coolers, gw, gc
}

// virtualClock is the runner's clock: it only moves when the simulation says so.
type virtualClock struct{ now time.Time }

func (c *virtualClock) Now() time.Time { return c.now }
func (c *virtualClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func runProject(s *Scenario) ([]Row, error) {
	rows, _, err := runProjectController(s)
	return rows, err
}

// RunProject runs the scenario under the project's controller, like Run(s, Project), and tells
// obs (nil: nobody) about every tick, as the runner of `relay-mesos run` would (a loop.Trace for
// `simulate --trace`). The tick times are virtual: one second a tick from a fixed epoch.
func RunProject(s *Scenario, obs loop.Observer) ([]Row, error) {
	rows, _, err := runProjectObserved(s, obs)
	return rows, err
}

// runProjectController is runProject that also returns the controller, for tests of what it
// learned.
func runProjectController(s *Scenario) ([]Row, *loop.Controller, error) {
	return runProjectObserved(s, nil)
}

// runProjectObserved is runProjectController with an observer of the ticks (nil: none).
func runProjectObserved(s *Scenario, obs loop.Observer) ([]Row, *loop.Controller, error) {
	cfg := s.Controller
	cfg.Delay = time.Second
	ctrl := loop.New(cfg)
	p := newPlant(&s.Plant)
	act := &actuator{p: p, sup: &s.Supply}
	clock := &virtualClock{now: epoch}
	var pv, sp float64
	read := loop.ReaderFunc(func(context.Context, time.Time) (loop.Sample, loop.Sample) {
		return loop.Sample{Value: pv, OK: true}, loop.Sample{Value: sp, OK: true}
	})
	r, err := loop.NewRunner(loop.RunnerConfig{Delay: time.Second, SourceTimeout: time.Second}, ctrl, read, act, obs, clock, hclog.NewNullLogger())
	if err != nil {
		return nil, nil, fmt.Errorf("runner: %w", err)
	}
	ctx := context.Background()
	judge := newReference(s)
	rows := make([]Row, 0, s.Ticks)
	for t := 0; t < s.Ticks; t++ {
		clock.now = epoch.Add(time.Duration(t) * time.Second)
		truePV := p.step(t)
		if s.Plant.holdEvery <= 1 || t%s.Plant.holdEvery == 0 {
			pv = truePV
		}
		sp = s.Target.At(t)
		help := judge.helps(t, p)
		act.t = t
		act.reqW, act.reqC, act.gotW, act.gotC = 0, 0, 0, 0
		r.Tick(ctx)
		rows = append(rows, Row{Tick: t, SP: sp, PV: truePV, Requested: act.reqW - act.reqC, Executed: act.gotW - act.gotC,
			State: p.state(), WarmersGranted: act.gotW, CoolersGranted: act.gotC, Starved: !s.Supply.available(t),
			CanHelp: help})
	}
	return rows, ctrl, nil
}
