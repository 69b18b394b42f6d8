package loop

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// emptyQueue models the README's first example (deploy/examples/queue) event by event, within
// and across the controller's 0.5 s ticks: a producer adds 40 items, then 4 a second; each
// consumer starts some milliseconds after the decision that launched it, takes up to 5 items
// at once, works 0.2 s on each and exits, or exits at once if it finds the queue empty. The
// metric is the items waiting, read at the tick (a little late on a loaded machine); the
// target is 0, the queue's empty wall. Arrivals come in lumps, and the phase between them, the
// reads and the consumers' starts drifts, so consumers launched to meet the next arrival
// sometimes start just before it and find nothing.
type emptyQueue struct {
	rng                 *rand.Rand
	startDelay, readLag float64 // seconds, upper bounds of uniform delays
	arrivalSlip         float64 // the producer's second is up to this much longer
	queue               int
	nextArrival         float64
	waiting             []float64 // start times of consumers launched and not yet started
	running             []float64 // end times of consumers started
}

func newEmptyQueue(seed uint64, startDelay, readLag, arrivalSlip float64) *emptyQueue {
	rng := rand.New(rand.NewPCG(seed, 1))
	return &emptyQueue{rng: rng, startDelay: startDelay, readLag: readLag, arrivalSlip: arrivalSlip,
		queue: 40, nextArrival: rng.Float64()}
}

// advance runs the plant's events up to time now, in time order.
func (q *emptyQueue) advance(now float64) {
	for {
		first := -1
		for i, at := range q.waiting {
			if first < 0 || at < q.waiting[first] {
				first = i
			}
		}
		if first < 0 || q.nextArrival <= q.waiting[first] {
			if q.nextArrival > now {
				return
			}
			q.queue += 4
			q.nextArrival += 1 + q.arrivalSlip*q.rng.Float64()
			continue
		}
		at := q.waiting[first]
		if at > now {
			return
		}
		q.waiting = append(q.waiting[:first], q.waiting[first+1:]...)
		took := min(5, q.queue)
		q.queue -= took
		q.running = append(q.running, at+0.01+0.2*float64(took))
	}
}

// ledger counts the consumers pending and running at now.
func (q *emptyQueue) ledger(now float64) Ledger {
	run := 0
	for _, end := range q.running {
		if end > now {
			run++
		}
	}
	return Ledger{Warmer: KindCounts{Pending: len(q.waiting), Running: run}}
}

// drive runs a controller on the plant for ticks ticks (target 0, 0.5 s ticks), calling after
// with each tick's decision once its consumers are launched.
func (q *emptyQueue) drive(ticks int, after func(k int, d Decision)) {
	cfg := DefaultConfig()
	cfg.Delay = 500 * time.Millisecond
	c := New(cfg)
	epoch := time.Unix(1_700_000_000, 0)
	for k := 0; k < ticks; k++ {
		now := 0.5*float64(k) + q.readLag*q.rng.Float64()
		q.advance(now)
		d := c.Step(Input{Now: epoch.Add(time.Duration(k) * cfg.Delay),
			Metric: Sample{Value: float64(q.queue), OK: true}, Target: Sample{Value: 0, OK: true},
			Ledger: q.ledger(now)})
		for range d.Warmers {
			q.waiting = append(q.waiting, now+0.005+q.startDelay*q.rng.Float64())
		}
		after(k, d)
	}
}

// run returns the queue's mean and largest size over the last tail of ticks ticks and the
// consumers launched in them.
func (q *emptyQueue) run(ticks, tail int) (mean, largest float64, launched int) {
	q.drive(ticks, func(k int, d Decision) {
		if k >= ticks-tail {
			mean += float64(q.queue) / float64(tail)
			largest = math.Max(largest, float64(q.queue))
			launched += d.Warmers
		}
	})
	return mean, largest, launched
}

// longestAbove returns the longest run of ticks, after the initial burst, that the queue
// stayed above n items.
func (q *emptyQueue) longestAbove(ticks, n int) int {
	run, longest := 0, 0
	q.drive(ticks, func(k int, _ Decision) {
		if k > 30 && q.queue > n {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	})
	return longest
}

// Consumers that found the queue empty and exited at once, just before items arrived, must not
// be learned to do little or to fill the queue: they met the wall. Learned so, the README's
// example (TestExampleQueue, deploy/examples) failed in 2 of 14 full suites: the model came to
// credit consumers with raising the queue, and none was launched for the last 30 s while the
// queue grew past 100 items. Here, before the change, 5 of these 3000 runs were left undrained;
// after it, none.
func TestConsumersThatFindAnEmptyQueueAreNotLearnedToFillIt(t *testing.T) {
	settings := []struct{ startDelay, readLag, slip float64 }{
		{0.15, 0, 0.005}, {0.15, 0, 0.05}, {0.15, 0.1, 0.005}, {0.15, 0.1, 0.05}, {0.15, 0.3, 0.005}, {0.15, 0.3, 0.05},
	}
	const seeds, ticks, tail = 500, 90, 30 // the example test's 45 s and its last 15 s
	runs, left, consumers := 0, 0, 0
	for _, st := range settings {
		for seed := uint64(1); seed <= seeds; seed++ {
			q := newEmptyQueue(seed, st.startDelay, st.readLag, st.slip)
			mean, largest, launched := q.run(ticks, tail)
			runs++
			consumers += launched
			// The example test's own bounds: drained means a few items waiting on average and
			// never a backlog, with consumers still being started.
			if mean > 5 || largest > 15 || launched < 3 {
				left++
				if left <= 5 {
					t.Logf("start delay %.2fs, read lag %.2fs, slip %.3fs, seed %d: last %d ticks mean %.1f items, largest %.0f, %d consumers launched",
						st.startDelay, st.readLag, st.slip, seed, tail, mean, largest, launched)
				}
			}
		}
	}
	t.Logf("%d of %d runs left the queue undrained; %.1f consumers a run in the last %d ticks", left, runs, float64(consumers)/float64(runs), tail)
	if left > 1 {
		t.Errorf("%d of %d runs left the queue undrained at the end, want at most 1", left, runs)
	}
}

// A learned effect that turned round since the controller last acted on it is tried again
// sooner than a belief it has never acted against. Over 11000 runs of the example's model (11
// settings of start delay up to 0.3 s, read lag and arrival slip; 1000 seeds each), these two
// were the only ones whose queue stayed above 15 items for more than 20 ticks: consumers had
// been learned to fill it, and none was tried again until the re-probe, 151 and 160 ticks.
func TestAnEffectThatTurnedRoundIsRetriedSooner(t *testing.T) {
	tests := []struct {
		seed                      uint64
		startDelay, readLag, slip float64
	}{
		{372, 0.3, 0.3, 0.005}, // 151 ticks above 15 items before the change, 62 after
		{787, 0.05, 0.3, 0.05}, // 160 before, 72 after
	}
	for _, tc := range tests {
		q := newEmptyQueue(tc.seed, tc.startDelay, tc.readLag, tc.slip)
		longest := q.longestAbove(300, 15)
		t.Logf("seed %d: the queue stayed above 15 items for at most %d ticks", tc.seed, longest)
		if longest > 100 {
			t.Errorf("seed %d (start delay %.2fs, read lag %.2fs, slip %.3fs): the queue stayed above 15 items for %d ticks, want at most 100",
				tc.seed, tc.startDelay, tc.readLag, tc.slip, longest)
		}
	}
}
