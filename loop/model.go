package loop

import "math"

// Learning constants (not tunables: they shape the estimator, not the behaviour users tune).
const (
	priorVariance = 100.0 // how loosely the prior model is held
	maxVariance   = 1e5   // covariance ceiling: keeps forgetting from blowing up unexcited directions
	minVariance   = 1e-6  // variance floor when a broken covariance is reset
	timingMemory  = 30.0  // units after which lag/life estimates become a moving average
)

// regressors fills x with [1, per kind: running, starts, ends] for one tick.
func regressors(x *[nParams]float64, f *[2]flows) {
	x[pDrift] = 1
	x[pWarmRun], x[pWarmStart], x[pWarmEnd] = float64(f[Warmer].running), float64(f[Warmer].starts), float64(f[Warmer].ends)
	x[pCoolRun], x[pCoolStart], x[pCoolEnd] = float64(f[Cooler].running), float64(f[Cooler].starts), float64(f[Cooler].ends)
	if k := f[Warmer].kills; k > 0 && f[Cooler].running+f[Cooler].starts == 0 {
		x[pCoolStart] += float64(k) // kills by the framework itself (--cooler kill)
	}
}

func dot(a, b *[nParams]float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// rlsUpdate is one step of recursive least squares with exponential forgetting lambda.
// It leaves the model untouched when the update would not be finite.
// With censored set, the movement is only a bound (it ended against a wall): the model moves to
// explain it but gains no confidence from it (the covariance is left as it was), so the next
// movements away from the wall correct it.
// With holdDrift set, the drift is taken as known (x's drift entry must be 0 and y must have the
// known drift taken out): the effects are updated, the drift's estimate is not. The covariance
// takes the full update for that regressor (its drift rows included): leaving the drift's rows
// as they were while the effects' rows shrank made it indefinite after a few probe ticks, and
// an indefinite covariance turns the next ordinary tick into an arbitrary jump of the model.
// After every update the covariance is checked (a 7x7 Cholesky factorisation); if rounding ever
// broke it, it is reset to its own diagonal, which keeps the variances and drops correlations.
func rlsUpdate(s *State, x *[nParams]float64, y, lambda float64, censored, holdDrift bool) {
	var px [nParams]float64
	for i := 0; i < nParams; i++ {
		var v float64
		for j := 0; j < nParams; j++ {
			v += s.Cov[i*nParams+j] * x[j]
		}
		px[i] = v
	}
	denom := lambda + dot(x, &px)
	if !(denom > 0) || math.IsInf(denom, 0) {
		return
	}
	resid := y - dot(&s.Theta, x)
	var theta [nParams]float64
	for i := 0; i < nParams; i++ {
		theta[i] = s.Theta[i] + px[i]/denom*resid
		if math.IsNaN(theta[i]) || math.IsInf(theta[i], 0) {
			return
		}
	}
	if holdDrift {
		theta[pDrift] = s.Theta[pDrift]
	}
	s.Theta = theta
	if censored {
		return
	}
	for i := 0; i < nParams; i++ {
		for j := 0; j < nParams; j++ {
			s.Cov[i*nParams+j] = (s.Cov[i*nParams+j] - px[i]*px[j]/denom) / lambda
		}
	}
	// Bound the covariance: scale any direction that grew past the ceiling, keep symmetry.
	for i := 0; i < nParams; i++ {
		for j := 0; j < i; j++ {
			v := 0.5 * (s.Cov[i*nParams+j] + s.Cov[j*nParams+i])
			s.Cov[i*nParams+j], s.Cov[j*nParams+i] = v, v
		}
		if d := s.Cov[i*nParams+i]; d > maxVariance {
			f := math.Sqrt(maxVariance / d)
			for j := 0; j < nParams; j++ {
				s.Cov[i*nParams+j] *= f
				s.Cov[j*nParams+i] *= f
			}
		}
	}
	if !positiveDefinite(&s.Cov) {
		resetToDiagonal(&s.Cov)
	}
}

// positiveDefinite reports whether a covariance has a Cholesky factorisation.
func positiveDefinite(p *[nParams * nParams]float64) bool {
	var l [nParams * nParams]float64
	for i := 0; i < nParams; i++ {
		for j := 0; j <= i; j++ {
			v := p[i*nParams+j]
			for k := 0; k < j; k++ {
				v -= l[i*nParams+k] * l[j*nParams+k]
			}
			if i == j {
				if !(v > 0) || math.IsInf(v, 0) {
					return false
				}
				l[i*nParams+i] = math.Sqrt(v)
			} else {
				l[i*nParams+j] = v / l[j*nParams+j]
			}
		}
	}
	return true
}

// resetToDiagonal keeps a broken covariance's variances (at least a small floor, at most the
// ceiling) and drops its correlations.
func resetToDiagonal(p *[nParams * nParams]float64) {
	for i := 0; i < nParams; i++ {
		d := p[i*nParams+i]
		if !(d > minVariance) {
			d = minVariance
		}
		d = math.Min(d, maxVariance)
		for j := 0; j < nParams; j++ {
			p[i*nParams+j] = 0
		}
		p[i*nParams+i] = d
	}
}

// flows are one kind's ledger movements at one tick, derived from consecutive ledger counts.
type flows struct {
	granted int32 // units launched since the previous tick
	starts  int32 // units that started running at this tick
	ends    int32 // units that stopped running at this tick, on their own
	kills   int32 // warmer units that stopped running at this tick because a cooler killed them
	pending int32
	running int32
}

// ringAt returns the ring slot of tick t.
func ringAt(t int64) int { return int(((t % Ring) + Ring) % Ring) }

// agesPast walks a ring backwards from tick from, skips the skip youngest units and returns the
// count and the summed age (relative to now) of the next n units. Units older than the ring
// are counted with age Ring.
func agesPast(r *[Ring]int32, now, from int64, skip, n int32) (count int32, ageSum float64) {
	for t := from; n > 0 && t > from-Ring; t-- {
		c := r[ringAt(t)]
		if c <= 0 {
			continue
		}
		if skip >= c {
			skip -= c
			continue
		}
		c -= skip
		skip = 0
		if c > n {
			c = n
		}
		count += c
		ageSum += float64(c) * float64(now-t)
		n -= c
	}
	if n > 0 {
		count += n
		ageSum += float64(n) * Ring
	}
	return count, ageSum
}

// learnTiming moves an estimate toward the mean of a batch of samples.
func learnTiming(est *float64, seen float64, count int32, ageSum float64) {
	if count <= 0 {
		return
	}
	mean := ageSum / float64(count)
	if *est == 0 {
		*est = mean
		return
	}
	w := float64(count) / (math.Min(seen, timingMemory) + float64(count))
	*est += w * (mean - *est)
}

// timing returns a kind's lag and life in whole ticks: at least 1, lag unknown = 1, life
// unknown or beyond the ring = Ring (permanent for the controller's horizon).
func timing(k *KindState) (lag, life int) {
	lag = 1
	if k.Lag > 0 {
		lag = int(math.Round(k.Lag))
	}
	lag = min(max(lag, 1), Ring/2)
	life = Ring
	if k.Life > 0 && k.Life < Ring-1 {
		life = max(int(math.Round(k.Life)), 1)
	}
	return lag, life
}

// unitResponse is the learned change of the metric h ticks after launching one unit of a kind
// with the given lag and life, per the model (run, start, end effects).
func unitResponse(run, start, end float64, lag, life, h int) float64 {
	w := unitWeights(lag, life, h)
	g := run*w[0] + start*w[1]
	if w[2] != 0 {
		g += end
	}
	return g
}

// unitWeights are how many times each of a kind's run, start and end effects count in one
// unit's change of the metric h ticks after its launch (see unitResponse).
func unitWeights(lag, life, h int) [3]float64 {
	if h < lag {
		return [3]float64{}
	}
	w := [3]float64{float64(min(h-lag+1, life)), 1, 0}
	if h >= lag+life {
		w[2] = 1
	}
	return w
}
