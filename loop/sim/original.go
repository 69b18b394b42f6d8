package sim

import "math"

// Original is the original Relay controller (sailthru/relay, relay/runner.py), re-implemented
// with its arithmetic: every tick e = SP - PV; during the first Ramp ticks the ramp plan gives
// MV and a 0 enters the error window; after that e enters the window (the last Lookback
// errors) and MV = round(e - K * mean(window)), Python 3 rounding (half to even), with K from
// calc_weight's FFT of the window. MV > 0 runs the warmer MV times, MV < 0 the cooler -MV times.
type Original struct {
	lookback, ramp int
	window         []float64
	rampIndex      int
	plan           []int // the ramp plan's values; zeros after
}

// NewOriginal returns the original controller with Relay's --lookback and --ramp.
func NewOriginal(lookback, ramp int) *Original {
	return &Original{lookback: lookback, ramp: ramp}
}

func (o *Original) push(e float64) {
	if len(o.window) == o.lookback {
		copy(o.window, o.window[1:])
		o.window = o.window[:len(o.window)-1]
	}
	o.window = append(o.window, e)
}

// Step returns MV for one tick.
func (o *Original) Step(sp, pv float64) int {
	e := sp - pv
	if o.rampIndex < o.ramp {
		if o.rampIndex == 0 {
			o.plan = rampPlan(e, o.ramp)
		}
		i := o.rampIndex
		o.rampIndex++
		o.push(0)
		if i < len(o.plan) {
			return o.plan[i]
		}
		return 0
	}
	o.push(e)
	w := calcWeight(o.window)
	var sum float64 // Python's sum(): left to right
	for _, v := range o.window {
		sum += v
	}
	return clampMV(math.RoundToEven(e - w*(sum/float64(len(o.window)))))
}

// maxMV bounds the original's MV. Python's integers have no bound, and a diverging run of the
// original reaches MVs past what a Go int holds (converting such a float is undefined: on amd64
// it gave math.MinInt64, which made a cost of 9e18 units wrap to a negative number and the
// cost target min(original, 1.25*reference) wrongly tight). 2^50 units a tick is far past any
// cluster; a run that asks for it has long diverged.
const maxMV = 1 << 50

func clampMV(v float64) int {
	switch {
	case math.IsNaN(v):
		return 0
	case v > maxMV:
		return maxMV
	case v < -maxMV:
		return -maxMV
	}
	return int(v)
}

// rampPlan is create_ramp_plan(err, ramp)'s values until it yields only zeros. With ramp 1 it is
// [int(err)]. Otherwise its n solves 0.5n² - 0.5n = 0 (max root 1, whatever err is), so it
// yields sign(err) once, after ramp//2 - 1 zeros when ramp//2 > 1.
func rampPlan(e float64, ramp int) []int {
	if ramp == 1 {
		return []int{int(e)} // int() truncates toward zero
	}
	sign := 0
	switch {
	case e > 0:
		sign = 1
	case e < 0:
		sign = -1
	}
	niter := ramp / 2
	step := 0 // MV // niter with MV = 1
	if niter == 1 {
		step = 1
	}
	plan := make([]int, 0, niter+1)
	budget := 1
	for i := 0; i < niter; i++ {
		budget -= step
		plan = append(plan, sign*step)
	}
	return append(plan, sign*budget)
}

// calcWeight is relay.runner.calc_weight. Its loop shrinks kth with a boolean mask and then
// indexes the longer p_k with it; numpy of its time read a short mask as padded with False,
// so a frequency, once its samples per cycle are used up, adds nothing more. That reading is
// what is implemented here (current numpy raises an IndexError there instead).
func calcWeight(errdata []float64) float64 {
	n := len(errdata)
	half := n / 2
	if half <= 1 {
		return 1 // fft(...)[1:n//2] is empty: its sum is 0
	}
	spec := dft(errdata)[1:half]
	var sr, si float64
	for _, c := range spec {
		sr += real(c)
		si += imag(c)
	}
	if sr == 0 && si == 0 {
		return 1 // "no variation in the signal"
	}
	m := len(spec)
	phase := make([]float64, m)
	amp := make([]float64, m)
	for j, c := range spec {
		phase[j] = math.Atan2(imag(c), real(c))
		amp[j] = math.Hypot(real(c), imag(c))
	}
	ampSum := pairwiseSum(amp)
	terms := make([]float64, m)
	for j := 0; j < m; j++ {
		integral := math.Abs(math.Sin(phase[j]))
		kth := float64(n) / float64(j+1)
		step := 2 * math.Pi / kth
		pk := phase[j]
		for kth > 0 {
			pk -= step
			integral += math.Abs(math.Sin(pk))
			kth--
		}
		terms[j] = (math.Sin(phase[j]) / integral) * (amp[j] / ampSum)
	}
	return pairwiseSum(terms)
}
