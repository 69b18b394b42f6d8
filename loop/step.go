package loop

import "math"

// Step runs one controller tick: it reads s and in, updates s in place and returns the decision.
// Placeholder proportional law (to be replaced by the learning controller).
func Step(cfg *Config, s *State, in Input) Decision {
	s.Ticks++
	if !in.Metric.OK || !in.Target.OK {
		s.LastWarmers, s.LastCoolers = 0, 0
		return Decision{Miss: true}
	}
	e := in.Target.Value - in.Metric.Value
	d := Decision{Error: e}
	if math.Abs(e) <= cfg.Tolerance {
		return d
	}
	inflight := float64(in.Ledger.Warmer.InFlight() - in.Ledger.Cooler.InFlight())
	u := int(math.Round(e - inflight))
	if u > 0 && cfg.HasWarmer {
		d.Warmers = min(u, cfg.MaxPerTick)
	} else if u < 0 && cfg.HasCooler {
		d.Coolers = min(-u, cfg.MaxPerTick)
	}
	s.LastWarmers, s.LastCoolers = d.Warmers, d.Coolers
	return d
}
