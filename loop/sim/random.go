package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// RandomScenario returns a random scenario file (JSON) for bench coverage: queue or tasks
// plants, effects per unit other than 1, lags 0-20, lifetimes, several target shapes,
// supply caps and starved windows, warmer-only, cooler-only or both. The same seed gives the
// same file.
func RandomScenario(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(vs ...float64) float64 { return vs[r.IntN(len(vs))] }
	ticks := 150 + r.IntN(10)*50
	lag := r.IntN(21)
	sc := map[string]any{"ticks": ticks}
	warmer, cooler := true, r.IntN(2) == 0
	var lo, hi float64 // target range in metric units
	if r.IntN(2) == 0 {
		k := pick(0.5, 1, 2, 3, 5, 10)
		life := 1 + r.IntN(12)
		if r.IntN(3) == 0 {
			life = 1
		}
		sign := pick(-1, -1, 1)
		arrival := float64(r.IntN(15))
		if r.IntN(5) == 0 && !cooler {
			warmer, cooler = false, true // cooler-only: items are added, nothing drains but workers
			arrival = 0
		}
		offset := 0.0
		if r.IntN(3) == 0 {
			offset = float64(r.IntN(200))
		}
		plant := map[string]any{"type": "queue", "initial": r.IntN(150), "arrival_per_tick": arrival,
			"items_per_run": k, "run_lifetime_ticks": life, "lag_ticks": lag, "metric_sign": sign}
		if offset != 0 {
			plant["metric_offset"] = offset
		}
		sc["plant"] = plant
		// Targets as queue lengths 0..120, in metric units.
		q1, q2 := float64(r.IntN(60)), float64(r.IntN(120))
		lo, hi = sign*q1+offset, sign*q2+offset
	} else {
		initial := r.IntN(20)
		if r.IntN(5) == 0 && !cooler {
			warmer, cooler = false, true // cooler-only: kill the for-ever tasks
			initial = 30 + r.IntN(60)
		}
		sc["plant"] = map[string]any{"type": "tasks", "initial": initial, "task_duration_ticks": 5 + r.IntN(80), "lag_ticks": lag}
		lo, hi = float64(r.IntN(40)), float64(10+r.IntN(70))
		if !warmer {
			lo, hi = float64(r.IntN(initial)), float64(r.IntN(initial))
		}
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	switch r.IntN(5) {
	case 0:
		sc["target"] = map[string]any{"type": "constant", "value": hi}
	case 1:
		var steps [][2]float64
		for t := 0; t < ticks; t += 40 + r.IntN(120) {
			steps = append(steps, [2]float64{float64(t), lo + float64(r.IntN(int(hi-lo)+1))})
		}
		sc["target"] = map[string]any{"type": "steps", "steps": steps}
	case 2:
		sc["target"] = map[string]any{"type": "square", "low": lo, "high": hi, "period": 2 * (40 + r.IntN(100))}
	case 3:
		sc["target"] = map[string]any{"type": "sine", "mean": (lo + hi) / 2, "amp": (hi - lo) / 2, "period": 100 + r.IntN(300)}
	default:
		var vals []float64
		v := lo
		for t := 0; t < ticks; t += 30 + r.IntN(60) {
			if r.IntN(2) == 0 {
				v = lo + float64(r.IntN(int(hi-lo)+1))
			}
			for j := 0; j < 30; j++ {
				vals = append(vals, v)
			}
		}
		sc["target"] = map[string]any{"type": "list", "values": vals}
	}
	supply := map[string]any{}
	if r.IntN(3) == 0 {
		supply["max_units_per_tick"] = 3 + r.IntN(30)
	}
	if r.IntN(2) == 0 {
		start := 20 + r.IntN(ticks/2)
		supply["starved"] = [][2]int{{start, min(start+10+r.IntN(60), ticks-1)}}
	}
	if len(supply) > 0 {
		sc["supply"] = supply
	}
	lookback := []int{1000, 1000, 64, 100, 128, 200, 30}[r.IntN(7)]
	sc["relay"] = map[string]any{"lookback": lookback, "ramp": 1, "warmer": warmer, "cooler": cooler}
	return scenarioJSON(sc)
}

// WiderScenario returns a random scenario file (JSON) drawn wider than RandomScenario, whose
// scenarios the controller was tuned on: effects per unit from 0.1 to 30 items (log-uniform),
// lifetimes up to 40 ticks, lags 1-30, fractional arrivals up to 30 items a tick, metric
// offsets up to 1000 (so metrics that the controller reads scaled by ten), tasks of 2-201
// ticks, up to two starved windows, supply caps of 1-60, lookbacks of 10-1000, the original's
// ramp of 3 on a quarter, and a quarter each warmer-only and cooler-only. It checks that what
// was tuned on one generator holds on plants it never drew. The same seed gives the same file.
func WiderScenario(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0xa17))
	ticks := 200 + r.IntN(13)*50
	lag := 1 + r.IntN(30)
	if r.IntN(3) == 0 {
		lag = 1 + r.IntN(4)
	}
	sc := map[string]any{"ticks": ticks}
	warmer, cooler := true, true
	switch r.IntN(4) {
	case 0:
		cooler = false
	case 1:
		warmer = false
	}
	var lo, hi float64 // target range in metric units
	if r.IntN(2) == 0 {
		k := math.Max(0.1, math.Round(math.Exp(math.Log(0.1)+r.Float64()*math.Log(300))*10)/10)
		life := 1 + r.IntN(40)
		if r.IntN(3) == 0 {
			life = 1
		}
		sign := []float64{-1, 1}[r.IntN(2)]
		arrival := 0.0
		if r.IntN(3) > 0 {
			arrival = math.Round(r.Float64()*300) / 10
		}
		offset := 0.0
		if r.IntN(3) == 0 {
			offset = float64(r.IntN(1000))
		}
		sc["plant"] = map[string]any{"type": "queue", "initial": r.IntN(500), "arrival_per_tick": arrival,
			"items_per_run": k, "run_lifetime_ticks": life, "lag_ticks": lag, "metric_sign": sign, "metric_offset": offset}
		q1, q2 := float64(r.IntN(100)), float64(r.IntN(300))
		lo, hi = sign*q1+offset, sign*q2+offset
	} else {
		initial := r.IntN(60)
		plant := map[string]any{"type": "tasks", "initial": initial, "task_duration_ticks": 2 + r.IntN(200), "lag_ticks": lag}
		lo, hi = float64(r.IntN(50)), float64(5+r.IntN(150))
		if !warmer {
			initial = 20 + r.IntN(100) // cooler-only: kill the for-ever tasks
			plant["initial"] = initial
			lo, hi = float64(r.IntN(initial)), float64(r.IntN(initial))
		}
		sc["plant"] = plant
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	switch r.IntN(5) {
	case 0:
		sc["target"] = map[string]any{"type": "constant", "value": lo + math.Round(r.Float64()*(hi-lo))}
	case 1:
		var steps [][2]float64
		for t := 0; t < ticks; t += 30 + r.IntN(200) {
			steps = append(steps, [2]float64{float64(t), lo + math.Round(r.Float64()*(hi-lo))})
		}
		sc["target"] = map[string]any{"type": "steps", "steps": steps}
	case 2:
		sc["target"] = map[string]any{"type": "square", "low": lo, "high": hi, "period": 2 * (20 + r.IntN(200))}
	case 3:
		sc["target"] = map[string]any{"type": "sine", "mean": (lo + hi) / 2, "amp": (hi - lo) / 2, "period": 50 + r.IntN(500)}
	default:
		var vals []float64
		for t := 0; t < ticks; t += 10 + r.IntN(100) {
			v := lo + math.Round(r.Float64()*(hi-lo))
			for j := 0; j < 10+r.IntN(50); j++ {
				vals = append(vals, v)
			}
		}
		sc["target"] = map[string]any{"type": "list", "values": vals}
	}
	supply := map[string]any{}
	if r.IntN(5) < 2 {
		supply["max_units_per_tick"] = 1 + r.IntN(60)
	}
	var windows [][2]int
	for i := r.IntN(3); i > 0; i-- {
		start := 10 + r.IntN(ticks-20)
		windows = append(windows, [2]int{start, min(start+5+r.IntN(80), ticks-1)})
	}
	sort.Slice(windows, func(i, j int) bool { return windows[i][0] < windows[j][0] })
	var starved [][2]int // at least 50 ticks apart, so each window's aftermath is judged alone
	for _, w := range windows {
		if len(starved) > 0 && w[0] <= starved[len(starved)-1][1]+50 {
			continue
		}
		starved = append(starved, w)
	}
	if len(starved) > 0 {
		supply["starved"] = starved
	}
	if len(supply) > 0 {
		sc["supply"] = supply
	}
	lookback := []int{10, 30, 100, 300, 1000}[r.IntN(5)]
	sc["relay"] = map[string]any{"lookback": lookback, "ramp": []int{1, 1, 1, 3}[r.IntN(4)], "warmer": warmer, "cooler": cooler}
	return scenarioJSON(sc)
}

// scenarioJSON encodes a generated scenario as a file would hold it.
func scenarioJSON(sc map[string]any) []byte {
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("random scenario: %v", err)) // only plain maps, numbers and slices
	}
	return append(b, '\n')
}
