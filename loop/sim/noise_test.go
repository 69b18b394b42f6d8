package sim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// A production metric is read with jitter; at a wall (an empty queue) the readings scatter
// around it, and the exact equality that tells a wall saw none. The operator's tolerance, the
// metric's noise band, is then the band of readings taken as at a known wall: learned from as
// measurements, ticks at an empty queue read as 137, 138 and 139 taught that consumers do
// nothing, and 1000 a tick were launched (137400 in 600 ticks, for a cost limit of 22520).
// Both first queues fill while consumers, the only kind, drain them; the metric is read with a
// jitter of -1..1 (ten different sequences of it) and the tolerance is 1. The control is still
// poor (the queue is drained to empty and refills, IAE up to about 1.4 times the limits
// without jitter): this test holds the floods and the cost, not the IAE.
func TestJitterAtAnEmptyQueueIsTheWall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scenario string
	}{
		{"consumers of a queue offset by 138", `{"ticks":600,"target":{"type":"constant","value":116},
			"plant":{"type":"queue","initial":64,"arrival_per_tick":11,"items_per_run":1,"run_lifetime_ticks":5,"lag_ticks":13,"metric_sign":-1,"metric_offset":138},
			"relay":{"warmer":true,"cooler":false,"lookback":30},"controller":{"tolerance":1}}`},
		{"consumers that live two ticks", `{"ticks":200,"target":{"type":"constant","value":-15},
			"plant":{"type":"queue","initial":78,"arrival_per_tick":14,"items_per_run":3,"run_lifetime_ticks":2,"lag_ticks":15,"metric_sign":-1},
			"relay":{"warmer":true,"cooler":false,"lookback":200},"controller":{"tolerance":1}}`},
		// Warmers that are consumers empty the queue (read as 11), and producers named coolers
		// are the only way up; jitter there taught the consumers to raise the metric by 0.06,
		// or 0.16, a unit. Up to 1000 a tick were launched (cost up to 27260 in 250 ticks) in 3
		// of these 10 sequences, until an effect within two standard errors of nothing was no
		// longer taken at its word with a noise band set (loop's decide); at most 54 a tick since.
		{"consumers named warmers, learned from jitter at the empty queue", `{"ticks":250,"target":{"type":"square","low":48,"high":69,"period":252},
			"plant":{"type":"queue","initial":11,"arrival_per_tick":0,"items_per_run":1,"run_lifetime_ticks":11,"lag_ticks":11,"metric_sign":1,"metric_offset":11},
			"relay":{"warmer":true,"cooler":true,"lookback":128},"controller":{"tolerance":1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clean, err := Evaluate(mustParse(t, tc.scenario))
			if err != nil {
				t.Fatal(err)
			}
			for seed := uint64(1); seed <= 10; seed++ {
				s := mustParse(t, tc.scenario)
				s.Plant.noiseAt = jitterOf(seed, 1)
				rows, f := runMine(t, s)
				most := 0
				for _, r := range rows {
					most = max(most, r.WarmersGranted, r.CoolersGranted)
				}
				t.Logf("jitter %d: at most %d a tick; cost %d (limit %.0f); IAE %.0f (limit %.0f, %d more for the jitter)", seed, most, f.Cost, clean.CostLimit, f.IAE, clean.IAELimit, s.Ticks)
				if most > 150 {
					t.Errorf("jitter %d: %d units launched in one tick, want <= 150", seed, most)
				}
				if float64(f.Cost) > clean.CostLimit {
					t.Errorf("jitter %d: cost %d, want <= %.0f", seed, f.Cost, clean.CostLimit)
				}
			}
		})
	}
}

// jitterOf is a uniform integer jitter of -j..j for the metric read at tick t: the same for a
// seed and a tick, whoever else reads the plant (the bench's judge plans on copies of it).
func jitterOf(seed uint64, j int) func(t int) float64 {
	return func(t int) float64 {
		return float64(rand.New(rand.NewPCG(seed, 7<<32|uint64(t))).IntN(2*j+1) - j)
	}
}

// poisson draws a Poisson count of mean l: the number of items that arrive at a queue in a
// tick when they arrive independently (Knuth's method; a rounded normal above 30).
func poisson(rng *rand.Rand, l float64) float64 {
	if l > 30 {
		return math.Max(0, math.Round(l+math.Sqrt(l)*rng.NormFloat64()))
	}
	limit, k, p := math.Exp(-l), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// poissonArrivals returns an arrival function of mean a, drawn once per tick from seed, so that
// every policy run on the scenario meets the same arrivals.
func poissonArrivals(seed uint64, a float64, ticks int) func(int) float64 {
	rng := rand.New(rand.NewPCG(seed, 9))
	arr := make([]float64, ticks+1)
	for i := range arr {
		arr[i] = poisson(rng, a)
	}
	return perTick(arr)
}

// perTick is a plant's arrivalAt from the items arriving at each tick (the last for any later).
func perTick(arr []float64) func(int) float64 {
	return func(t int) float64 { return arr[min(max(t, 0), len(arr)-1)] }
}

// Items arrive at a queue independently: 8 a tick on average, the count varying by about 3
// from tick to tick. Consumers (1 item a tick for 3 ticks, 2 ticks to start) hold it at 54
// items. With the model right, the queue's tick-to-tick moves are that noise; taken as
// surprises (a move of more than one item from the model's expectation), most ticks were
// skipped, the error grew and bursts of consumers overshot: IAE over ticks 60-300 of 5 runs
// was 8595 (7.2 a tick); with the noise no surprise once its estimate has settled, 5355 (4.5
// a tick, about what 3 ticks of unforeseen arrivals leave: their deviation is 4.9).
func TestRandomArrivalsAreNoSurprise(t *testing.T) {
	const js = `{"ticks":300,"target":{"type":"constant","value":-54},
		"plant":{"type":"queue","initial":87,"arrival_per_tick":8,"items_per_run":1,"run_lifetime_ticks":3,"lag_ticks":2,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":true}}`
	total := 0.0
	for seed := uint64(1); seed <= 5; seed++ {
		s := mustParse(t, js)
		s.Plant.arrivalAt = poissonArrivals(seed, 8, s.Ticks)
		rows, err := Run(s, Project)
		if err != nil {
			t.Fatal(err)
		}
		iae := 0.0
		for _, r := range rows[60:] {
			iae += math.Abs(r.SP - r.PV)
		}
		t.Logf("seed %d: IAE over ticks 60-300 %.0f (%.1f a tick)", seed, iae, iae/240)
		total += iae
	}
	t.Logf("IAE over ticks 60-300 of 5 runs: %.0f", total)
	if total > 6500 {
		t.Errorf("IAE over ticks 60-300 of 5 runs %.0f, want <= 6500", total)
	}
}

// Items arrive in a burst once every 10 ticks (6 items, or 2 to 10), as they do when the
// controller ticks ten times a second and the producers put items in once a second, or when
// a metric is refreshed less often than it is read (a Prometheus series scraped every 15 s,
// read every second). Consumers take 0.1 item a tick for 100 ticks, 5 ticks after their
// launch; the queue is held at 20 items (0.6 items arrive a tick: 6 consumers running hold
// it). Each burst was taken for a new arrival rate (the recent-disturbance estimate moved
// by 0.3 of it, about 1.6 items a tick, and was extrapolated over the 24 ticks a consumer is
// judged by): 40 consumers (max-in-flight) were launched after every burst that found none
// running, the queue was held empty, and over ticks 1800-5400 the mean error was 19.5 (6-item
// bursts) and 19.4 (2 to 10), with 1280 and 1190 consumers launched where 216 hold it. A
// residual beyond the metric's unexplained noise (where that is more than one of its units)
// now moves the estimate by less: 3.6 and 7.0, 243 and 267 launched.
func TestPeriodicBurstsAreNotTakenForANewRate(t *testing.T) {
	const js = `{"ticks":5400,"target":{"type":"constant","value":-20},
		"plant":{"type":"queue","initial":150,"arrival_per_tick":0.6,"items_per_run":0.1,"run_lifetime_ticks":100,"lag_ticks":5,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":false},"controller":{"max-in-flight":40}}`
	for _, tc := range []struct {
		name    string
		burst   func(rng *rand.Rand) float64
		maxMean float64
	}{
		{"6 items", func(*rand.Rand) float64 { return 6 }, 6},
		{"2 to 10 items", func(rng *rand.Rand) float64 { return float64(2 + rng.IntN(9)) }, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, js)
			rng := rand.New(rand.NewPCG(1, 2))
			arr := make([]float64, s.Ticks+1)
			for i := 0; i < len(arr); i += 10 {
				arr[i] = tc.burst(rng)
			}
			s.Plant.arrivalAt = perTick(arr)
			rows, err := Run(s, Project)
			if err != nil {
				t.Fatal(err)
			}
			sum, launched, most := 0.0, 0, 0
			for _, r := range rows[1800:] {
				sum += math.Abs(r.SP - r.PV)
				launched += r.WarmersGranted
				most = max(most, r.WarmersGranted)
			}
			mean := sum / float64(len(rows)-1800)
			t.Logf("ticks 1800-5400: mean error %.1f, %d consumers launched (most in a tick %d)", mean, launched, most)
			if mean > tc.maxMean || launched > 400 {
				t.Errorf("mean error %.1f (want <= %.0f), %d consumers launched (want <= 400)", mean, tc.maxMean, launched)
			}
		})
	}
}

// A metric that moves in large steps (a consumer of 11.4 items a tick for 3 ticks) has a large
// noise estimate; while it then sits still away from its target, the recent-disturbance
// estimate left by the last steps must still fade at DriftGain. Damped by the noise on every
// tick (as bursts now are), it stayed, predicted the metric's return to the target, and
// nothing was launched for 50 ticks: wider seeds 1854 and 2912 deadlocked (FORMAT.md's test)
// at ticks 69 and 56.
func TestAStillMetricLeavesNoStaleDisturbance(t *testing.T) {
	for _, seed := range []uint64{1854, 2912} {
		s, err := Parse(WiderScenario(seed))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Evaluate(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Failed {
			if strings.HasPrefix(f, "deadlock") {
				t.Errorf("wider seed %d: %s (IAE %.0f)", seed, f, r.Mine.IAE)
			}
		}
	}
}
