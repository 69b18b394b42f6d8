package loop

import (
	"math"
	"testing"
	"time"
)

// No deadlock, ever: a controller that learned warmers raise the metric, on a plant whose
// warmers now lower it (the workload changed: they became consumers) while the metric drifts
// away from the target, must try the warmer again rather than wait for ever.
func TestAWrongBeliefIsRetriedNotKeptForEver(t *testing.T) {
	c := New(DefaultConfig())
	l := launches{lag: 1, life: 5}
	start := time.Unix(1_700_000_000, 0)
	metric, effect, drift := 0.0, 1.0, 0.0
	sp := 20.0
	lateLaunches, lastErr := 0, 0.0
	for tick := 0; tick < 900; tick++ {
		if tick == 280 { // the work ends: every unit finishes before the plant changes, so no
			sp = 0 // unit in flight shows the change by itself
		}
		if tick == 300 { // the plant changes: each running unit now lowers the metric by 2
			effect, drift, sp = -2, 1, 10
		}
		pending, running := l.ledger(tick)
		if tick < 300 {
			metric = float64(running)
		} else {
			metric += drift + effect*float64(running)
			metric = max(metric, 0)
		}
		d := c.Step(Input{Now: start.Add(time.Duration(tick) * time.Second),
			Metric: Sample{Value: metric, OK: true}, Target: Sample{Value: sp, OK: true},
			Ledger: Ledger{Warmer: KindCounts{Pending: pending, Running: running}}})
		l.n[tick%Ring] = d.Warmers
		if tick >= 300 {
			lateLaunches += d.Warmers
		}
		lastErr = metric - sp
	}
	t.Logf("launches after the change: %d; metric - target at the end: %.1f", lateLaunches, lastErr)
	if lateLaunches == 0 {
		t.Fatal("the controller never tried the warmer again: the metric drifted away for ever")
	}
	if math.Abs(lastErr) > 5 {
		t.Fatalf("metric %.1f off the target at the end: the warmer was not relearned", lastErr)
	}
	// The metric sits on its wall (0) below the target while the warmers, believed to raise it,
	// lower it: every tick there is censored, so the model alone never learns better. Units
	// that run a whole life with the metric pinned must end that belief, not grow into a flood
	// (before: 1000 units a tick, up to MaxInFlight, for the rest of the run).
	if lateLaunches > 1000 {
		t.Fatalf("%d launches after the change, want a bounded number (<= 1000)", lateLaunches)
	}
}

// A re-probe asked while the cluster grants nothing (a starved window) is asked again once
// resources return, not a whole re-probe interval later. A warmer-only controller believes,
// wrongly, that its warmers lower the metric (learned under noise from a few units); the metric
// falls away from its target, and the warmer is re-probed after the re-probe interval. The
// cluster is starved from the tick of that re-probe for 10 ticks: the first warmer asked after
// the window must come within ProbeAfter ticks of its end (before: about 100 ticks after it,
// while the metric fell by one a tick).
func TestAProbeNeverGrantedIsAskedAgainAfterTheWindow(t *testing.T) {
	run := func(starveFrom, starveTo int) (asks []int) {
		c := New(DefaultConfig())
		st := c.State()
		st.Theta[pWarmStart], st.Theta[pWarmEnd], st.Theta[pWarmRun] = 0, 0, -1 // the wrong belief
		st.Kinds[Warmer].Seen, st.Kinds[Warmer].Moved = 10, 10
		c.Restore(st)
		l := launches{lag: 1, life: 5}
		start := time.Unix(1_700_000_000, 0)
		metric, asked := 500.0, 0
		for tick := 0; tick < 400; tick++ {
			ungranted := 0
			if tick > starveFrom && tick <= starveTo { // the previous tick's ask was not granted
				ungranted, l.n[(tick-1+Ring)%Ring] = asked, 0
			}
			pending, running := l.ledger(tick)
			metric += -1 + float64(running) // falls by one a tick; a running warmer raises it by one
			d := c.Step(Input{Now: start.Add(time.Duration(tick) * time.Second),
				Metric: Sample{Value: metric, OK: true}, Target: Sample{Value: 500, OK: true},
				Ledger: Ledger{Warmer: KindCounts{Ungranted: ungranted, Pending: pending, Running: running}}})
			l.n[tick%Ring], asked = d.Warmers, d.Warmers
			if d.Warmers > 0 {
				asks = append(asks, tick)
			}
		}
		return asks
	}
	asks := run(-1, -1)
	if len(asks) == 0 {
		t.Fatal("the warmer was never tried again: a deadlock")
	}
	from, to := asks[0]-1, asks[0]+10
	after := -1
	for _, a := range run(from, to) {
		if a > to {
			after = a
			break
		}
	}
	t.Logf("first re-probe unstarved at tick %d; starved over ticks (%d, %d]: first warmer after at tick %d", asks[0], from, to, after)
	if after < 0 || after-to > DefaultConfig().ProbeAfter {
		t.Errorf("first warmer after the starved window at tick %d, want within %d ticks of %d", after, DefaultConfig().ProbeAfter, to)
	}
}

// launches remembers the warmers a test plant was granted over the last Ring ticks; each is
// pending for lag ticks, then runs for life.
type launches struct {
	n         [Ring]int
	lag, life int
}

// ledger returns the warmers pending and running at tick t.
func (l *launches) ledger(t int) (pending, running int) {
	sum := func(from, to int) int {
		n := 0
		for s := max(from, 0); s <= to; s++ {
			if t-s < Ring {
				n += l.n[s%Ring]
			}
		}
		return n
	}
	return sum(t-l.lag+1, t-1), sum(t-l.lag-l.life+1, t-l.lag)
}

// A kind whose units act from the first tick the model learns from was never seen apart from
// the metric's own drift: it is marked blind (and re-probed sooner if it is learned to work
// against its name). One whose units start after a tick of the drift alone is not. A blind
// kind learned to work against its name whose first units still run is joined by as many
// again, once, so that the model sees their number change (and is no longer blind).
func TestAKindActingFromTheFirstLearnedTickIsBlind(t *testing.T) {
	for _, tc := range []struct {
		lag  int
		want bool
	}{{1, true}, {3, false}} {
		c := New(DefaultConfig())
		l := launches{lag: tc.lag, life: 40}
		start := time.Unix(1_700_000_000, 0)
		metric := 400.0
		blind := false
		for tick := 0; tick < 20; tick++ {
			pending, running := l.ledger(tick)
			if tick > 0 {
				metric += -12 + 0.5*float64(running)
			}
			d := c.Step(Input{Now: start.Add(time.Duration(tick) * time.Second),
				Metric: Sample{Value: metric, OK: true}, Target: Sample{Value: 520, OK: true},
				Ledger: Ledger{Warmer: KindCounts{Pending: pending, Running: running}}})
			l.n[tick%Ring] = d.Warmers
			if tick == 4 {
				blind = c.state.Kinds[Warmer].Blind
			}
		}
		if tick0 := l.n[0]; tick0 == 0 {
			t.Fatalf("lag %d: no warmer launched at the first tick; the test needs one", tc.lag)
		}
		if blind != tc.want {
			t.Errorf("lag %d: warmers blind = %v at tick 4, want %v", tc.lag, blind, tc.want)
		}
		if !tc.want {
			continue
		}
		again := -1
		for tick := 1; tick < 20; tick++ {
			if l.n[tick] > 0 {
				again = tick
				break
			}
		}
		if again < 0 {
			t.Errorf("lag %d: %d warmers at tick 0 and none after; want as many again while they run", tc.lag, l.n[0])
			continue
		}
		if l.n[again] != l.n[0] {
			t.Errorf("lag %d: %d warmers at tick 0, %d at tick %d; want as many again while they run", tc.lag, l.n[0], l.n[again], again)
		}
		if c.state.Kinds[Warmer].Blind {
			t.Errorf("lag %d: still blind after the second launch", tc.lag)
		}
		t.Logf("lag %d: %d warmers at tick 0, %d more at tick %d", tc.lag, l.n[0], l.n[again], again)
	}
}

// A re-probing round whose clear answer confirms the belief it checks (the only kind pushes
// the metric further from its target) doubles the wait before the next round, as one that
// told nothing does. A warmer-only controller on a metric 100 below its target whose warmers
// lower it (by 0.2 a tick each, nothing else moves it) re-probes after the error has persisted,
// and each round's units clearly lower the metric. Before, the rounds came every 386 ticks for
// ever: 17 rounds in 6000 ticks, each pushing the metric further away. With the wait doubling,
// the gaps between rounds grow and no more than 6 come in 6000 ticks.
func TestAConfirmedBeliefIsRecheckedLessOften(t *testing.T) {
	c := New(DefaultConfig())
	l := launches{lag: 1, life: 5}
	start := time.Unix(1_700_000_000, 0)
	metric, last := 150.0, -1000
	var rounds []int // first tick of each run of launches (ticks within 50 of each other)
	for tick := 0; tick < 6000; tick++ {
		pending, running := l.ledger(tick)
		metric = max(metric-0.2*float64(running), 0)
		d := c.Step(Input{Now: start.Add(time.Duration(tick) * time.Second),
			Metric: Sample{Value: metric, OK: true}, Target: Sample{Value: 250, OK: true},
			Ledger: Ledger{Warmer: KindCounts{Pending: pending, Running: running}}})
		l.n[tick%Ring] = d.Warmers
		if d.Warmers > 0 {
			if tick-last > 50 {
				rounds = append(rounds, tick)
			}
			last = tick
		}
	}
	t.Logf("rounds of warmers at ticks %v; metric %.1f at the end", rounds, metric)
	if len(rounds) < 3 {
		t.Fatalf("%d rounds of warmers, want the re-probes that keep a belief from lasting for ever", len(rounds))
	}
	if len(rounds) > 6 {
		t.Errorf("%d rounds of warmers in 6000 ticks, want at most 6: each confirmed round should double the wait", len(rounds))
	}
	for i := 3; i < len(rounds); i++ {
		if a, b := rounds[i-1]-rounds[i-2], rounds[i]-rounds[i-1]; b < 2*a-DefaultConfig().ProbeAfter {
			t.Errorf("rounds at %v: the gap after round %d (%d ticks) is not twice the one before (%d)", rounds, i, b, a)
			break
		}
	}
}
