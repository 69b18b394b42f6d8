package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// wideFirstSeed is the default first seed of the wide set: far from the committed random (1-30)
// and held-out (1001-1020) scenarios. Controller fixes have since been found on seeds 2001-2200
// and 3001-3300; RELAY_SIM_WIDE_FIRST starts elsewhere for a figure nothing was tuned on.
const wideFirstSeed = 2001

// TestWideRandomBench runs the controller on RELAY_SIM_WIDE scenarios drawn by the random
// generator (seeds from RELAY_SIM_WIDE_FIRST, default 2001; `make bench-control-wide` runs 200). It prints every miss with why,
// split into the misses that the greedy reference, which knows the plant, also makes or cannot
// avoid (a plant that the only action can make worse: any probe costs more than the references'
// 0 units; a post-starvation overshoot the reference also has; a starved window's own shortfall
// that shows after the window through the plant's lag, see StarveFigure.Late) and the others, and the pass
// rate. It fails when fewer than RELAY_SIM_WIDE_FLOOR percent (default 80) pass.
// RELAY_SIM_WIDE_GEN=wider draws the scenarios from WiderScenario (plants drawn wider than the
// ones the controller was tuned on) instead of RandomScenario (random, the default).
// RELAY_SIM_WIDE_UNITS=F runs only the queue plants, read in other units (metric and target
// times F), each judged against the targets of its own units (IAE divided by F).
// RELAY_SIM_WIDE_JITTER=J reads the metric with a uniform integer jitter of -J..J added (a
// production metric is noisy; the scenarios are not) and sets the controller's tolerance to J
// (its noise band, as README says to), judged against the targets without jitter,
// the IAE allowed J a tick more, and counts floods. Deadlocks are then not judged.
// RELAY_SIM_WIDE_ARRIVALS=random runs only the queue plants with a constant arrival of at least
// one item a tick, their items arriving independently (a Poisson count of that mean each tick),
// judged against the targets of steady arrivals with the IAE allowed the count's deviation
// (the square root of the mean) a tick more; it counts floods as the jitter does.
// RELAY_SIM_WIDE_HOLD=N has the metric the controller reads refreshed only every N ticks (a
// Prometheus series scraped less often than it is read), judged on the true metric; the run
// then only reports (the controller is known to fail there, README says how often): neither
// the pass floor nor deadlocks fail it.
func TestWideRandomBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RELAY_SIM_WIDE"))
	if n <= 0 {
		t.Skip("set RELAY_SIM_WIDE=N to run the controller on N generated scenarios")
	}
	floor := 80.0
	if v, err := strconv.ParseFloat(os.Getenv("RELAY_SIM_WIDE_FLOOR"), 64); err == nil {
		floor = v
	}
	first := uint64(wideFirstSeed)
	if v, err := strconv.ParseUint(os.Getenv("RELAY_SIM_WIDE_FIRST"), 10, 64); err == nil {
		first = v
	}
	units, _ := strconv.ParseFloat(os.Getenv("RELAY_SIM_WIDE_UNITS"), 64)
	jitter, _ := strconv.Atoi(os.Getenv("RELAY_SIM_WIDE_JITTER"))
	arrivals := os.Getenv("RELAY_SIM_WIDE_ARRIVALS") == "random"
	hold, _ := strconv.Atoi(os.Getenv("RELAY_SIM_WIDE_HOLD"))
	gen := RandomScenario
	switch g := os.Getenv("RELAY_SIM_WIDE_GEN"); g {
	case "", "random":
	case "wider":
		gen = WiderScenario
	default:
		t.Fatalf("RELAY_SIM_WIDE_GEN=%q: want random or wider", g)
	}
	passed, refToo, deadlocks, runs, floods, passedSame, refTooSame := 0, 0, 0, 0, 0, 0, 0
	logRatio, ratios := 0.0, 0
	for seed := first; seed < first+uint64(n); seed++ {
		raw := gen(seed)
		s, err := Parse(raw)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		s.Plant.holdEvery = hold
		r, err := Evaluate(s)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if units > 0 {
			if r, err = inOtherUnits(r, raw, units); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if r == nil {
				continue // a tasks plant
			}
		}
		if jitter > 0 || arrivals {
			var n *noisy
			if jitter > 0 {
				n, err = withJitter(r, raw, jitter, seed)
			} else {
				n, err = withRandomArrivals(r, seed)
			}
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if n == nil {
				continue // not a queue with arrivals
			}
			r = n.r
			if n.flood != "" {
				floods++
				t.Logf("seed %d: flood: %s", seed, n.flood)
			}
			if n.same.Pass() {
				passedSame++
			} else {
				why := missedByReferenceToo(n.same)
				if why != "" {
					refTooSame++
				}
				t.Logf("seed %d: against the references in the same noise: %s (IAE %.0f limit %.0f, cost %d limit %.0f, reference IAE %.0f cost %d) %s",
					seed, strings.Join(n.same.Failed, ","), n.same.Mine.IAE, n.same.IAELimit, n.same.Mine.Cost, n.same.CostLimit, n.same.Ref.IAE, n.same.Ref.Cost, why)
			}
		}
		runs++
		if r.Mine.IAE > 0 && r.Ref.IAE > 0 {
			logRatio += math.Log(r.Mine.IAE / r.Ref.IAE)
			ratios++
		}
		if r.Pass() {
			passed++
			continue
		}
		if r.Mine.Deadlock {
			deadlocks++
		}
		why := missedByReferenceToo(r)
		if why != "" {
			refToo++
		}
		t.Logf("seed %d: %s (IAE %.0f limit %.0f, cost %d limit %.0f, reference IAE %.0f cost %d) %s",
			seed, strings.Join(r.Failed, ","), r.Mine.IAE, r.IAELimit, r.Mine.Cost, r.CostLimit, r.Ref.IAE, r.Ref.Cost, why)
	}
	rate := 100 * float64(passed) / float64(runs)
	t.Logf("%d of %d passed (%.1f%%); of the %d misses, %d are ones the reference also makes or that no probe or controller can avoid; %d deadlocks",
		passed, runs, rate, runs-passed, refToo, deadlocks)
	if ratios > 0 {
		t.Logf("IAE / the reference's IAE, geometric mean over %d runs: %.4f", ratios, math.Exp(logRatio/float64(ratios)))
	}
	if jitter > 0 || arrivals {
		t.Logf("judged against the original and the reference run in the same noise (the reference plans on the mean arrival and the true queue): %d of %d passed; of the %d misses, %d are ones that reference also makes or that no probe or controller can avoid",
			passedSame, runs, runs-passedSame, refTooSame)
	}
	if jitter > 0 {
		t.Logf("with the metric read with ±%d of jitter: %d floods (a kind launched more than 200 units in a tick, and 5 times the most the run without jitter launched)", jitter, floods)
	}
	if arrivals {
		t.Logf("with random (Poisson) arrivals: %d floods (a kind launched more than 200 units in a tick, and 5 times the most the run with steady arrivals launched)", floods)
	}
	if hold > 1 {
		return
	}
	if rate < floor {
		t.Errorf("pass rate %.1f%% < %.0f%%", rate, floor)
	}
	if deadlocks > 0 {
		t.Errorf("%d deadlocks", deadlocks)
	}
}

// missedByReferenceToo says why a miss is one that the reference also makes or that no
// controller which must learn the sign of its actions can avoid, or a starved window's own
// shortfall that shows after the window (StarveFigure.Late) ("" if none of these).
func missedByReferenceToo(r *Result) string {
	late := false
	for _, f := range r.Failed {
		switch {
		case f == "cost" && r.Ref.Cost == 0 && r.Orig.Cost == 0:
			// Both references launch nothing: the one action that exists only makes it worse;
			// learning that takes at least one unit.
		case strings.HasPrefix(f, "post-starvation"):
			// Every window missed is one the reference misses too, or the window's own
			// shortfall shown after it through the plant's lag (StarveFigure.Late).
			for i, w := range r.Mine.PostStarve {
				switch {
				case w.OK():
				case i < len(r.Ref.PostStarve) && !r.Ref.PostStarve[i].OK():
				case w.Late:
					late = true
				default:
					return ""
				}
			}
		default:
			return ""
		}
	}
	if late {
		return "[a starved window's own shortfall, shown after it through the lag: no unit pushed the metric that way, none granted after the window could act in time]"
	}
	return "[the reference misses it too, or no probe can avoid it]"
}

// withJitter runs the controller on r's scenario with the metric read with a uniform integer
// jitter of -j..j added (the same for a seed) and its tolerance set to j, judged against r's
// limits with the IAE allowed j a tick more; see inNoise.
func withJitter(r *Result, raw []byte, j int, seed uint64) (*noisy, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["controller"] = map[string]any{"tolerance": j} // the noise band, as README says to set it
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, err
	}
	s.Plant.noiseAt = jitterOf(seed, j)
	return inNoise(r, s, float64(j))
}

// withRandomArrivals runs the controller on r's scenario, a queue with a constant arrival of at
// least one item a tick, with the items arriving independently instead (a Poisson count of
// that mean each tick, the same for a seed), judged against r's limits with the IAE allowed the
// count's deviation a tick more; nil for other plants. See inNoise.
func withRandomArrivals(r *Result, seed uint64) (*noisy, error) {
	p := r.Scenario.Plant
	if p.Type != "queue" || p.Arrival < 1 {
		return nil, nil
	}
	s := *r.Scenario
	s.Plant.arrivalAt = poissonArrivals(seed, p.Arrival, s.Ticks)
	return inNoise(r, &s, math.Sqrt(p.Arrival))
}

// noisy is a run with noise added: r judged against the noise-free run's limits with an
// allowance, same judged against the original and the reference run in the same noise, and a
// flood ("" if none).
type noisy struct {
	r, same *Result
	flood   string
}

// inNoise runs the controller on s, r's scenario with noise added. It judges it two ways:
// against r's limits with the IAE allowed perTick a tick more, and against the limits that the
// original and the reference make in the same noise (the reference knows the queue but plans
// on the mean arrival; it does not foresee the noise). It describes a flood: a kind launched
// more than 200 units in one tick and 5 times the most r's run without the noise launched.
func inNoise(r *Result, s *Scenario, perTick float64) (*noisy, error) {
	rows, err := Run(s, Project)
	if err != nil {
		return nil, err
	}
	clean, err := Run(r.Scenario, Project)
	if err != nil {
		return nil, err
	}
	most := func(rows []Row) (n, at int) {
		for _, row := range rows {
			if m := max(row.WarmersGranted, row.CoolersGranted); m > n {
				n, at = m, row.Tick
			}
		}
		return n, at
	}
	out := *r
	out.Mine = Compute(s, rows)
	out.Mine.Deadlock = false
	out.IAELimit += perTick * float64(s.Ticks)
	out.judge()
	same := out
	for pol, f := range map[Policy]*Figures{OriginalRelay: &same.Orig, Reference: &same.Ref} {
		rows, err := Run(s, pol)
		if err != nil {
			return nil, err
		}
		*f = Compute(s, rows)
	}
	same.IAELimit, same.CostLimit = Limits(s.Ticks, same.Orig, same.Ref)
	same.judge()
	n := &noisy{r: &out, same: &same}
	if m, at := most(rows); m > 200 {
		if c, _ := most(clean); m > 5*c {
			n.flood = fmt.Sprintf("%d units of a kind at tick %d (without the noise at most %d a tick); IAE %.0f, cost %d", m, at, c, out.Mine.IAE, out.Mine.Cost)
		}
	}
	return n, nil
}

// Both generators give, for a seed, the same file every time, and a file that parses: the
// figures quoted for a seed range stay reproducible, and a bench run does not stop on a
// scenario it drew.
func TestGeneratedScenariosParseAndRepeat(t *testing.T) {
	for name, gen := range map[string]func(uint64) []byte{"random": RandomScenario, "wider": WiderScenario} {
		for seed := uint64(1); seed <= 300; seed++ {
			raw := gen(seed)
			if again := gen(seed); string(again) != string(raw) {
				t.Fatalf("%s seed %d: two different files", name, seed)
			}
			if _, err := Parse(raw); err != nil {
				t.Fatalf("%s seed %d: %v", name, seed, err)
			}
		}
	}
}
