package sim

import "math"

// reference is the greedy near-limit controller: it knows the plant exactly (lag, effect per
// unit, lifetimes, what is in flight) but not the future target, the supply, nor noise to come
// (random arrivals, a jittered reading: it plans on the mean arrival). Every tick it
// asks for the number of units of one kind that brings the metric closest to today's target at
// the first tick those units act (tick t+lag), fewest units on a tie.
type reference struct {
	spec           PlantSpec
	target         *Target
	warmer, cooler bool
}

const refMaxUnits = 1 << 20

func newReference(s *Scenario) *reference {
	return &reference{spec: s.Plant, target: &s.Target, warmer: s.Relay.Warmer, cooler: s.Relay.Cooler}
}

// helps reports whether one unit of an action that exists, granted at t, would bring the
// metric at t+lag closer to the target at t+lag than no unit.
func (r *reference) helps(t int, p plant) bool {
	sp := r.target.At(t + r.spec.Lag)
	e0 := math.Abs(sp - r.predict(p, t, 0, 0))
	return (r.warmer && math.Abs(sp-r.predict(p, t, 1, 0)) < e0) || (r.cooler && math.Abs(sp-r.predict(p, t, 0, 1)) < e0)
}

// predict is the metric at t+lag if w warmers and c coolers are granted at t.
func (r *reference) predict(p plant, t, w, c int) float64 {
	q := p.clone()
	if qp, ok := q.(*queuePlant); ok {
		// It knows the plant, not its noise: it plans on the mean arrival and the queue as it
		// is, never on the arrivals or readings to come.
		qp.spec.arrivalAt, qp.spec.noiseAt = nil, nil
	}
	q.schedule(t, w, c)
	var pv float64
	for s := t + 1; s <= t+r.spec.Lag; s++ {
		pv = q.step(s)
	}
	return pv
}

func (r *reference) decide(t int, sp float64, p plant) (warmers, coolers int) {
	f0 := r.predict(p, t, 0, 0)
	bestErr, bestN, bestKind := math.Abs(sp-f0), 0, 0
	for kind := 0; kind < 2; kind++ {
		if (kind == 0 && !r.warmer) || (kind == 1 && !r.cooler) {
			continue
		}
		f := func(n int) float64 {
			if kind == 0 {
				return r.predict(p, t, n, 0)
			}
			return r.predict(p, t, 0, n)
		}
		n, e := bestUnits(f, sp, f0)
		if n > 0 && (e < bestErr || (e == bestErr && bestN > 0 && n < bestN)) {
			bestErr, bestN, bestKind = e, n, kind
		}
	}
	if bestKind == 0 {
		return bestN, 0
	}
	return 0, bestN
}

// bestUnits finds the fewest units n >= 1 that minimise |sp - f(n)|, for f monotone in n that
// is linear then possibly flat (a wall). It returns 0 when one unit does not help.
func bestUnits(f func(int) float64, sp, f0 float64) (int, float64) {
	e0 := sp - f0
	f1 := f(1)
	if math.Abs(sp-f1) >= math.Abs(e0) {
		return 0, math.Abs(e0)
	}
	// done(n): n units reach or pass sp, or one more unit changes nothing.
	done := func(n int) bool {
		v := f(n)
		if (sp-v)*e0 <= 0 {
			return true
		}
		return f(n+1) == v
	}
	hi := 1
	for !done(hi) && hi < refMaxUnits {
		hi *= 2
	}
	lo := hi / 2 // done(lo) is false (or lo = 0)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if done(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	n, e := hi, math.Abs(sp-f(hi))
	if hi > 1 {
		if e1 := math.Abs(sp - f(hi-1)); e1 <= e {
			n, e = hi-1, e1
		}
	}
	return n, e
}
