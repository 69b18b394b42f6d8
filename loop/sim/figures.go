package sim

import "math"

// Figures are the control figures of one run (FORMAT.md, "Figures computed from the CSV").
type Figures struct {
	// IAE is the sum over ticks of |SP - PV|.
	IAE float64
	// Overshoot is the largest excursion of PV past SP in the direction of the last approach,
	// over all target steps; Overshoots has one value per target step.
	Overshoot  float64
	Overshoots []float64
	// PostStarve has one entry per starved window that ends inside the run.
	PostStarve []StarveFigure
	// Cost is the units executed (granted), both kinds.
	Cost int
	// Deadlock: a run of DeadlockTicks+ ticks with |SP - PV| > 1, nothing executed, supply
	// available, and an action that exists able to move the metric toward SP.
	Deadlock   bool
	DeadlockAt int // first tick of the first deadlocked run (-1 = none)
}

// StarveFigure is the overshoot after one starved window.
type StarveFigure struct {
	Start, End int
	// ErrorLeft is |SP - PV| at the window's end (tick End).
	ErrorLeft float64
	// Overshoot is the largest excursion of PV past SP, away from the side PV was on at the
	// window's end, over the 50 ticks from End (cut at the first target step in that time),
	// measured against SP at each tick. With a moving target (sine) PV may be past SP only
	// because SP moved while the plant answered (normal tracking): at each tick the excursion
	// counts only beyond the tracking band, how far SP moved over the plant's response time.
	Overshoot float64
	// Band is the largest tracking band over the measured ticks (0 for a stepwise target).
	Band float64
	// At is the tick of the largest excursion (End when PV never went past SP).
	At int
	// Late: the largest excursion came before a unit granted after the window could act
	// (At < End + lag) and no unit of the kind that moves the metric that way was granted from
	// the plant's response time before the window's start to At - lag (a unit granted later
	// had not acted by At). It is the window's own
	// shortfall showing after the window through the plant's lag (tasks that ended while
	// nothing could be started): no unit of the controller's pushed the metric that way, and
	// none granted after the window could have acted in time. The figure counts it all the
	// same; the wide benchmark reports it apart.
	Late bool
}

// OK reports whether the overshoot is at most 10% of the error left.
func (f StarveFigure) OK() bool { return f.Overshoot <= 0.1*f.ErrorLeft+1e-9 }

// Figure windows, in ticks.
const (
	PostStarveTicks = 50
	DeadlockTicks   = 50
)

// Compute derives the figures from a run's rows.
func Compute(s *Scenario, rows []Row) Figures {
	var f Figures
	f.DeadlockAt = -1
	dir := 0.0 // direction of the last approach: +1 from below, -1 from above
	segOver := 0.0
	inSeg := false
	run := 0
	for i, r := range rows {
		e := r.SP - r.PV
		f.IAE += math.Abs(e)
		f.Cost = addSat(addSat(f.Cost, r.WarmersGranted), r.CoolersGranted)
		// Overshoot per target step.
		if i == 0 || r.SP != rows[i-1].SP {
			if inSeg {
				f.Overshoots = append(f.Overshoots, segOver)
			}
			inSeg, segOver = true, 0
			if e != 0 {
				dir = math.Copysign(1, e)
			}
		}
		if dir != 0 {
			segOver = math.Max(segOver, -e*dir)
		}
		// Deadlock.
		stuck := math.Abs(e) > 1 && r.WarmersGranted+r.CoolersGranted == 0 && s.Supply.available(r.Tick) && r.CanHelp
		if stuck {
			run++
			if run >= DeadlockTicks && !f.Deadlock {
				f.Deadlock, f.DeadlockAt = true, r.Tick-run+1
			}
		} else {
			run = 0
		}
	}
	if inSeg {
		f.Overshoots = append(f.Overshoots, segOver)
	}
	for _, o := range f.Overshoots {
		f.Overshoot = math.Max(f.Overshoot, o)
	}
	for _, w := range s.Supply.Starved {
		if w[1] <= w[0] || w[1] >= len(rows) {
			continue
		}
		end := rows[w[1]]
		sf := StarveFigure{Start: w[0], End: w[1], ErrorLeft: math.Abs(end.SP - end.PV), At: w[1]}
		side := math.Copysign(1, end.SP-end.PV) // +1: PV below SP; past SP is PV - SP > 0
		for t := w[1]; t < len(rows) && t < w[1]+PostStarveTicks; t++ {
			band := 0.0
			if s.Target.stepwise() {
				if rows[t].SP != end.SP {
					break
				}
			} else {
				band = trackingBand(rows, t, s.Plant.responseTicks())
				sf.Band = math.Max(sf.Band, band)
			}
			if o := (rows[t].PV-rows[t].SP)*side - band; o > sf.Overshoot {
				sf.Overshoot, sf.At = o, t
			}
		}
		sf.Late = sf.Overshoot > 0 && sf.At < w[1]+s.Plant.Lag && !pushedPast(s, rows, w[0], sf.At, side)
		f.PostStarve = append(f.PostStarve, sf)
	}
	return f
}

// pushedPast reports whether units that move the metric in direction side (+1 up) were granted
// from the plant's response time before tick start up to the lag before tick at: a unit
// granted later had not acted by then (two coolers granted three and five ticks after a starved
// window, each 17 ticks before it could act, were taken for the push behind tasks that ended
// eight ticks after the window; random seed 10590).
func pushedPast(s *Scenario, rows []Row, start, at int, side float64) bool {
	// A warmer raises a task count and, read with metric_sign -1, a queue's metric.
	warmerUp := s.Plant.Type != "queue" || s.Plant.MetricSign < 0
	for t := max(start-s.Plant.responseTicks(), 0); t <= at-max(s.Plant.Lag, 1) && t < len(rows); t++ {
		n := rows[t].CoolersGranted
		if (side > 0) == warmerUp {
			n = rows[t].WarmersGranted
		}
		if n > 0 {
			return true
		}
	}
	return false
}

// trackingBand is how far SP moved over the r ticks up to tick t: a controller that put PV
// exactly on the target it saw when it decided, r ticks earlier, is that far from SP now.
func trackingBand(rows []Row, t, r int) float64 {
	b := 0.0
	for j := 1; j <= r && t-j >= 0; j++ {
		b = math.Max(b, math.Abs(rows[t].SP-rows[t-j].SP))
	}
	return b
}

// addSat adds two non-negative counts, stopping at math.MaxInt rather than wrapping.
func addSat(a, b int) int {
	if b > math.MaxInt-a {
		return math.MaxInt
	}
	return a + b
}
