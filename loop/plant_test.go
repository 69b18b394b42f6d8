package loop

import "time"

// taskPlant is a tiny tasks plant for tests and benchmarks of the controller alone (the full
// simulator with every plant and figure is loop/sim): a warmer unit granted at t starts at t+lag
// and runs life ticks; the metric is the number running. Everything is granted. Its state is
// fixed-size so that stepping it allocates nothing.
type taskPlant struct {
	lag, life int
	t         int
	launched  [Ring]int // launched[t % Ring]
	asked     int
}

func newTaskPlant(lag, life int) *taskPlant { return &taskPlant{lag: lag, life: life} }

func (p *taskPlant) count(from, to int) int {
	n := 0
	for s := from; s <= to; s++ {
		if s >= 0 {
			n += p.launched[s%Ring]
		}
	}
	return n
}

// tick runs one tick against c and returns the decision.
func (p *taskPlant) tick(c *Controller, now time.Time, sp float64) Decision {
	t := p.t
	// Granted at s: pending while t < s+lag, running while s+lag <= t < s+lag+life.
	pending := p.count(t-p.lag+1, t-1)
	running := p.count(t-p.lag-p.life+1, t-p.lag)
	d := c.Step(Input{
		Now:    now,
		Metric: Sample{Value: float64(running), OK: true},
		Target: Sample{Value: sp, OK: true},
		Ledger: Ledger{Warmer: KindCounts{Pending: pending, Running: running}},
	})
	p.launched[t%Ring] = d.Warmers
	p.t++
	return d
}
