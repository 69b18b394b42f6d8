package loop

import "slices"

// refreshRuns is how many changes of the metric in a row, each after the same number of ticks
// (within refreshSlack), show that the metric is refreshed less often than it is read; the
// runs must be refreshMinRun ticks or longer.
//
// A plant can change at a regular pace of its own: a count of tasks held at its target, one
// ending and one started every other tick. Of the 1000 generated scenarios of seeds 5001-6000,
// all read fresh every tick, 85 showed such a period at some tick when 6 runs of 2 ticks or
// more were enough (36 of them of 2 ticks, 16 of 3, 10 of 4, 23 longer); with 10 runs of 3 or
// more, 22 (5 of 3 ticks, 9 of 4, 8 longer; both measured before the controller borrowed a
// never-launched kind's prior from the other kind, after which 21 did). A metric refreshed
// every 2 ticks is not reported.
const (
	refreshRuns   = 10
	refreshMinRun = 3
)

// refreshWatch tells, from the readings alone, whether the metric is refreshed less often than
// it is read: a Prometheus series scraped every 15 s and read every second holds each value for
// 15 ticks and then jumps. The controller learns the plant from each tick's move, and a held
// reading teaches it that nothing moved and then that everything moved at once: in simulation,
// with the metric refreshed every 5 or every 15 ticks, 122 and 110 of the 1000 generated
// scenarios of seeds 5001-6000 met their targets (927 read fresh every tick) and 83 and 118
// deadlocked. The runner warns about it (README: tick no faster than the metric changes).
type refreshWatch struct {
	prev    float64
	ok      bool             // prev holds a reading
	started bool             // a change has been seen: the run since then is whole
	missed  bool             // the last tick's reading was a miss
	same    int              // ticks since the reading last changed
	runs    [refreshRuns]int // ticks between the latest changes, oldest first
	n       int              // runs recorded (at most refreshRuns)
	every   int              // the refresh period found (0: every tick, or no regular period)
}

// observe takes one tick's reading (ok false: a miss) and returns the refresh period found, in
// ticks: 0 while the reading changes from tick to tick or at no regular period. The period is
// the mean of the latest runs between changes, kept while new ones stay within refreshSlack
// of it (a 15 s scrape read every 1.03 s holds for 14 or 15 ticks). A reading that has stayed
// four periods ends it (a metric that went still).
func (w *refreshWatch) observe(v float64, ok bool) int {
	if !ok || !finite(v) {
		if w.ok {
			w.same++ // a tick passed; what the metric did in it shows at the next reading
		}
		w.missed = true
		return w.every
	}
	missed := w.missed
	w.missed = false
	if !w.ok {
		w.prev, w.ok = v, true
		return w.every
	}
	if v == w.prev {
		w.same++
		if w.every > 0 && w.same >= 4*w.every {
			w.every, w.n = 0, 0
		}
		return w.every
	}
	w.prev = v
	run := w.same + 1
	w.same = 0
	if !w.started || missed {
		// The run before this change began before the watch, or this change may have come in
		// the missed tick: neither run around it is known to the tick.
		w.started = !missed
		return w.every
	}
	if w.n == refreshRuns {
		copy(w.runs[:], w.runs[1:])
		w.n--
	}
	w.runs[w.n] = run
	w.n++
	if w.n < refreshRuns {
		return w.every
	}
	lo, hi := slices.Min(w.runs[:]), slices.Max(w.runs[:])
	if lo < refreshMinRun || hi-lo > refreshSlack(lo) {
		w.every = 0
		return 0
	}
	sum := 0
	for _, r := range w.runs {
		sum += r
	}
	if mean := (2*sum + refreshRuns) / (2 * refreshRuns); w.every == 0 || abs(mean-w.every) > refreshSlack(w.every) {
		w.every = mean
	}
	return w.every
}

// refreshSlack is how far runs between changes may differ and still show one period of p ticks.
func refreshSlack(p int) int { return max(1, p/4) }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
