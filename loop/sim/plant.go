package sim

import (
	"math"

	"github.com/relay-mesos/relay-mesos/loop"
)

// plant is a simulated plant. Tick t runs step(t), then the controller decides, then
// schedule(t, ...) records what the supply granted at t. Ticks must be stepped in order.
type plant interface {
	// step runs tick t and returns the metric PV.
	step(t int) float64
	// state is q (queue) or the running count (tasks) after the last step.
	state() float64
	// schedule records units granted at tick t.
	schedule(t, warmers, coolers int)
	// ledger is the task ledger after step(t) and before schedule(t): warmer tasks pending
	// (granted, not yet active) and running (active); cooler tasks pending until they act, and
	// running on the tick they act.
	ledger(t int) loop.Ledger
	// clone returns an independent copy (the reference plans on one).
	clone() plant
}

func newPlant(p *PlantSpec) plant {
	if p.Type == "tasks" {
		return &tasksPlant{spec: *p, initial: int(p.Initial)}
	}
	return &queuePlant{spec: *p, q: p.Initial}
}

// grants is units granted per tick, indexed by tick.
type grants []int

func (g *grants) set(t, n int) {
	for len(*g) <= t {
		*g = append(*g, 0)
	}
	(*g)[t] = n
}

func (g grants) at(t int) int {
	if t < 0 || t >= len(g) {
		return 0
	}
	return g[t]
}

// sum is the units granted at ticks from..to, inclusive.
func (g grants) sum(from, to int) int {
	from, to = max(from, 0), min(to, len(g)-1)
	n := 0
	for s := from; s <= to; s++ {
		n += g[s]
	}
	return n
}

// queuePlant: q items; workers drain k items each per active tick; coolers add k items.
type queuePlant struct {
	spec     PlantSpec
	q        float64
	warm     grants
	cool     grants
	lastTick int
}

func (p *queuePlant) step(t int) float64 {
	lag, life := p.spec.Lag, p.spec.Life
	workers := p.warm.sum(t-lag-life+1, t-lag)
	arrival := p.spec.Arrival
	if p.spec.arrivalAt != nil {
		arrival = p.spec.arrivalAt(t)
	}
	p.q += arrival + p.spec.ItemsPerRun*float64(p.cool.at(t-lag))
	p.q = math.Max(0, p.q-p.spec.ItemsPerRun*float64(workers))
	p.lastTick = t
	if p.spec.noiseAt != nil {
		return p.pv() + p.spec.noiseAt(t)
	}
	return p.pv()
}

func (p *queuePlant) pv() float64    { return p.spec.MetricSign*p.q + p.spec.Offset }
func (p *queuePlant) state() float64 { return p.q }

func (p *queuePlant) schedule(t, w, c int) { p.warm.set(t, w); p.cool.set(t, c) }

func (p *queuePlant) ledger(t int) loop.Ledger {
	lag, life := p.spec.Lag, p.spec.Life
	return loop.Ledger{
		Warmer: loop.KindCounts{Pending: p.warm.sum(t-lag+1, t-1), Running: p.warm.sum(t-lag-life+1, t-lag)},
		Cooler: loop.KindCounts{Pending: p.cool.sum(t-lag+1, t-1), Running: p.cool.at(t - lag)},
	}
}

func (p *queuePlant) clone() plant {
	c := *p
	c.warm = append(grants(nil), p.warm...)
	c.cool = append(grants(nil), p.cool...)
	return &c
}

// tasksPlant: PV is the number of running tasks; warmers start a task lag ticks after their
// grant that runs for d ticks; coolers kill the running task with the latest end.
type tasksPlant struct {
	spec    PlantSpec
	initial int    // for-ever tasks still running
	alive   grants // alive[s]: tasks started at s still running
	warm    grants
	cool    grants
	running int // launched tasks running
}

func (p *tasksPlant) step(t int) float64 {
	lag, d := p.spec.Lag, p.spec.Duration
	// New starts first, then the tasks whose end has come leave, then kills.
	if n := p.warm.at(t - lag); n > 0 {
		p.alive.set(t, n)
		p.running += n
	}
	if s := t - d; s >= 0 {
		if n := p.alive.at(s); n > 0 {
			p.running -= n
			p.alive[s] = 0
		}
	}
	kills := p.cool.at(t - lag)
	for s := min(t, len(p.alive)-1); kills > 0 && s > t-d && s >= 0; s-- {
		k := min(kills, p.alive[s])
		p.alive[s] -= k
		p.running -= k
		kills -= k
	}
	if kills > 0 {
		p.initial = max(p.initial-kills, 0)
	}
	return p.state()
}

func (p *tasksPlant) state() float64 { return float64(p.initial + p.running) }

func (p *tasksPlant) schedule(t, w, c int) { p.warm.set(t, w); p.cool.set(t, c) }

func (p *tasksPlant) ledger(t int) loop.Ledger {
	lag := p.spec.Lag
	return loop.Ledger{
		Warmer: loop.KindCounts{Pending: p.warm.sum(t-lag+1, t-1), Running: p.running},
		Cooler: loop.KindCounts{Pending: p.cool.sum(t-lag+1, t-1), Running: p.cool.at(t - lag)},
	}
}

func (p *tasksPlant) clone() plant {
	c := *p
	c.alive = append(grants(nil), p.alive...)
	c.warm = append(grants(nil), p.warm...)
	c.cool = append(grants(nil), p.cool...)
	return &c
}
