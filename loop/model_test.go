package loop

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestModelCovarianceStaysValid: whatever mix of plain, probe (drift held) and censored updates
// the model learns from, its covariance stays a covariance. A chaos run showed what happens when
// it does not: after a few probe ticks the covariance turned indefinite, one ordinary tick then
// moved the model by 30 metric units a tick and flipped the warmer's sign, and the controller
// stopped launching for minutes while the queue grew.
func TestModelCovarianceStaysValid(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := NewState()
		lambda := 1 - 1.0/100
		for i := 0; i < 2000; i++ {
			var x [nParams]float64
			x[pDrift] = 1
			x[pWarmRun] = float64(rng.IntN(30))
			x[pWarmStart] = float64(rng.IntN(4) * rng.IntN(2))
			x[pWarmEnd] = float64(rng.IntN(4) * rng.IntN(2))
			if rng.IntN(3) == 0 {
				x[pWarmRun] = float64(rng.IntN(3)) // long quiet stretches
			}
			y := 1 - 0.2*x[pWarmRun] + rng.NormFloat64()
			probe, censored := rng.IntN(4) == 0, rng.IntN(10) == 0
			if probe {
				x[pDrift] = 0
				y -= 1
			}
			rlsUpdate(&s, &x, y, lambda, censored, probe)
			if !positiveDefinite(&s.Cov) {
				t.Fatalf("seed %d: covariance not positive definite after update %d (probe=%v censored=%v)", seed, i, probe, censored)
			}
		}
		if got := s.Theta[pWarmRun]; math.Abs(got+0.2) > 0.1 {
			t.Errorf("seed %d: learned run effect %.3f, want -0.2", seed, got)
		}
	}
}
