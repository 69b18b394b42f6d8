package chaos

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// PlantNumbers is what the metric checks know of the controlled queue; every bound of
// LimitsFor is derived from them.
type PlantNumbers struct {
	// Target is the queue length the replicas hold.
	Target float64
	// Rate is how many items arrive per second.
	Rate float64
	// TakePerRound and Rounds: a warmer task takes TakePerRound items once a second, Rounds
	// times.
	TakePerRound, Rounds int
	// Delay is the controller's tick.
	Delay time.Duration
}

// PlantOf is the plant of a cluster config (defaults filled in).
func PlantOf(c ClusterConfig) PlantNumbers {
	c.defaults()
	return PlantNumbers{Target: c.Target, Rate: c.Plant.Rate, TakePerRound: c.TakePerRound, Rounds: c.Rounds,
		Delay: time.Duration(c.Delay * float64(time.Second))}
}

// TaskCapacity is how many items one task takes at most (30 by default).
func (p PlantNumbers) TaskCapacity() float64 { return float64(p.TakePerRound * p.Rounds) }

// TaskLife is how long a task runs (Rounds seconds).
func (p PlantNumbers) TaskLife() time.Duration { return time.Duration(p.Rounds) * time.Second }

// TaskNet is how far one task moves the queue: what it takes less what arrives while it runs
// (30 - 2*3 = 24 by default). A controller that acts in whole tasks cannot promise to hold
// the queue closer to the target than this.
func (p PlantNumbers) TaskNet() float64 { return p.TaskCapacity() - p.Rate*p.TaskLife().Seconds() }

// DeadTime is how long after an error appears a healthy controller's first task is taking
// items: a tick to decide, a tick for the launch, about a second for the task to start.
func (p PlantNumbers) DeadTime() time.Duration { return 2*p.Delay + time.Second }

// LimitsFor derives the checks' bounds from the plant (the numbers in brackets are the
// default plant's: 2 items/s arrive, a task takes 10 items/s for 3 s, target 20, tick 0.5 s):
//
//   - Band = TaskNet [24]: the metric is within one task's net effect of the target. With
//     whole tasks the queue saws by about one task's worth (a task empties 24 more items than
//     arrive); the old band of 10 was narrower than one task's quantum, so even the
//     fault-free baseline was out of it 70% of the time.
//   - Grace = 1 s: after a fault window (which lasts until the new leader decides, if there
//     is a failover) the clocks below start a second later: a tick or two for the observer
//     and the controller to see the fault gone. Not longer: the harness's gaps between
//     faults are 2-6 s, and every second of grace is a second a stall can hide in.
//   - Recovery = 3 x 2 x (TaskLife + DeadTime) [30 s] of time outside fault windows: the worst
//     excess at a fault's end is about two tasks' worth (the band's top plus ~12 s of arrivals
//     in the longest leaderless gap), which one task at a time removes in 2 x (3 + 2) s; the
//     bound gives that three times over. Time inside later fault windows does not count, so
//     a stall cannot hide behind the next fault, and a fault cannot be blamed on another.
//   - StallAfter = Band / Rate [12 s] outside fault windows: the metric out of band with no
//     task launched or running for as long as arrivals alone need to add another task's worth.
//   - InBandShare 0.6 of the samples outside fault windows are in band. Weak on purpose: the
//     schedule injects about 8 faults a minute with 2-6 s between them, and a recovery from
//     two tasks' worth legitimately fills such a gap; the first 4.5 minutes of the
//     2026-11-25 run 3 (no stall) were in band 78% of that time, the stalled rest 43%, the
//     stalled run 2 11%. The recovery and stall checks are the precise ones.
//   - IAERatio 3, IAEFloor = 2 x Band x 60 [2880 per minute]: the faulted phase's IAE per
//     minute may be at most 3x the fault-free one, or a mean error of two tasks' worth,
//     whichever is larger (the floor keeps a short or lucky baseline from making the limit
//     meaningless). A run in which the faults only cost recoveries stays near 1.5x (the
//     healthy first 4.5 minutes of the 2026-11-25 run 3); a stall grows the error by Rate
//     per second and passes 3x within minutes (run 3: 10x, run 2: 109x).
//   - Windup: after a starvation or a leaderless gap ends, the launches in the next
//     WindupWindow [3 s] may take at most the error then plus the arrivals until they end
//     (queue - target + Rate x (window + task life)), plus WindupSlack [2] tasks' worth (one
//     for rounding to whole tasks, one for the controller's learned effect being off). What
//     the burst would take beyond that is the overshoot of the target it causes (measured in
//     items, since the real queue stops at 0). The same bound holds for a burst at any other
//     time outside fault windows (check "overshoot").
//
// The windup bound of before (2 x ceil(excess / 30) + 4 launches in 3 s) allowed 4 tasks,
// 120 items, with no excess at all, and did not count the arrivals; it flagged run 2's 11
// launches with the queue at 7, which this bound flags too (0 justified, 330 taken).
func LimitsFor(p PlantNumbers) Limits {
	net := p.TaskNet()
	dead := p.DeadTime()
	return Limits{
		Plant:        p,
		Band:         net,
		Grace:        time.Second,
		Recovery:     3 * 2 * (p.TaskLife() + dead),
		StallAfter:   time.Duration(net / p.Rate * float64(time.Second)),
		InBandShare:  0.6,
		IAERatio:     3,
		IAEFloor:     2 * net * 60,
		WindupWindow: 3 * time.Second,
		WindupSlack:  2,
		CarryOverRel: 0.3, CarryOverAbs: 1.0,
	}
}

// Phases are the stretches of a run the checks look at.
type Phases struct {
	// BaseFrom..BaseTo is the fault-free baseline (zero: none); FaultsFrom..FaultsTo the
	// faulted phase. Samples after FaultsTo (the final drain starves the agent) are ignored.
	BaseFrom, BaseTo, FaultsFrom, FaultsTo time.Time
}

// Span is a time interval [From, To).
type Span struct{ From, To time.Time }

// Trace is what the metric checks read: the samples, the faults with their failovers, the
// task activity and the launches.
type Trace struct {
	Samples []Sample
	Faults  []FaultResult
	// Active are the spans during which some task ran (launch to end); Launches the launch
	// times. Without task data (ActivityKnown false) a span where the queue shrank stands in
	// for a running task (only a task's take makes it shrink).
	Active        []Span
	Launches      []time.Time
	ActivityKnown bool
	LaunchesKnown bool
}

// MetricEval is the outcome of the metric checks.
type MetricEval struct {
	Violations []Violation
	// Recovered[i] and RecoveredFree[i] are fault i's time from its end to the metric back in
	// band, wall time and time outside fault windows (-1: not seen before the run ended).
	Recovered, RecoveredFree []time.Duration
	// Overdue[i]: fault i's metric was not back within Limits.Recovery.
	Overdue []bool
	// InBand is the share of samples outside fault windows that were in band.
	InBand float64
	// IAE over the faulted phase, per minute, and per minute over the baseline.
	IAE, IAERate, BaselineRate float64
}

// TraceOf builds the metric checks' input from an observer snapshot.
func TraceOf(s Snapshot, faults []FaultResult, p PlantNumbers) Trace {
	tr := Trace{Samples: s.Samples, Faults: faults, ActivityKnown: true, LaunchesKnown: true}
	// A warmer takes items for TaskLife and exits: a task the master still counts as running
	// long after that (or one ended without an end time) is not taking items, and must not
	// hide a stall. Startup and fetching get the slack.
	longest := 4 * p.TaskLife()
	for _, t := range s.Tasks {
		if t.LaunchedAt.IsZero() {
			continue
		}
		end := t.LaunchedAt.Add(longest)
		if t.EndedAt != nil && t.EndedAt.Before(end) {
			end = *t.EndedAt
		}
		tr.Active = append(tr.Active, Span{t.LaunchedAt, end})
	}
	for _, l := range s.Launches {
		tr.Launches = append(tr.Launches, l.At)
		if _, ok := s.Tasks[l.TaskID]; !ok {
			tr.Active = append(tr.Active, Span{l.At, l.At.Add(p.TaskLife())})
		}
	}
	sort.Slice(tr.Launches, func(i, j int) bool { return tr.Launches[i].Before(tr.Launches[j]) })
	return tr
}

// excusedSpans are the fault windows, merged and sorted: from each fault's start to its end
// or the new leader deciding, whichever is later, plus grace.
func excusedSpans(fs []FaultResult, grace time.Duration) []Span {
	var in []Span
	for _, f := range fs {
		end := f.End
		if f.FailedOver && f.Start.Add(f.Failover).After(end) {
			end = f.Start.Add(f.Failover)
		}
		in = append(in, Span{f.Start, end.Add(grace)})
	}
	sort.Slice(in, func(i, j int) bool { return in[i].From.Before(in[j].From) })
	var out []Span
	for _, sp := range in {
		if m := len(out); m > 0 && !sp.From.After(out[m-1].To) {
			if sp.To.After(out[m-1].To) {
				out[m-1].To = sp.To
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

// CheckMetric checks the metric against the band, the recovery and stall bounds, the IAE
// limit and windup.
func CheckMetric(tr Trace, lim Limits, ph Phases) MetricEval {
	p := lim.Plant
	ev := MetricEval{}
	add := func(check string, at time.Time, format string, args ...any) {
		ev.Violations = append(ev.Violations, Violation{Check: check, At: at, Detail: fmt.Sprintf(format, args...)})
	}
	from := ph.FaultsFrom
	if !ph.BaseFrom.IsZero() {
		from = ph.BaseFrom
	}
	var ss []Sample
	for _, s := range tr.Samples {
		if !s.At.Before(from) && !s.At.After(ph.FaultsTo) {
			ss = append(ss, s)
		}
	}
	n := len(ss)
	ev.Recovered = make([]time.Duration, len(tr.Faults))
	ev.RecoveredFree = make([]time.Duration, len(tr.Faults))
	ev.Overdue = make([]bool, len(tr.Faults))
	for i := range tr.Faults {
		ev.Recovered[i], ev.RecoveredFree[i] = -1, -1
	}
	if n < 2 {
		return ev
	}
	inBand := func(s Sample) bool { return math.Abs(s.Size-s.Target) <= lim.Band }

	// free[i]: time outside fault windows (and with a deciding leader) from ss[0] to ss[i].
	// The interval ss[i-1]..ss[i] counts when ss[i-1] is outside every window; a sampling gap
	// (the plant not answering the observer) counts at most a second.
	spans := excusedSpans(tr.Faults, lim.Grace)
	excused := make([]bool, n)
	k := 0
	for i, s := range ss {
		for k < len(spans) && !spans[k].To.After(s.At) {
			k++
		}
		excused[i] = s.Leader < 0 || (k < len(spans) && !spans[k].From.After(s.At))
	}
	free := make([]float64, n)
	for i := 1; i < n; i++ {
		free[i] = free[i-1]
		if !excused[i-1] {
			free[i] += math.Min(ss[i].At.Sub(ss[i-1].At).Seconds(), 1)
		}
	}
	// nextIn[i]: index of the first in-band sample at or after i (n: none).
	nextIn := make([]int, n+1)
	nextIn[n] = n
	for i := n - 1; i >= 0; i-- {
		nextIn[i] = nextIn[i+1]
		if inBand(ss[i]) {
			nextIn[i] = i
		}
	}
	at := func(t time.Time) int { return sort.Search(n, func(i int) bool { return !ss[i].At.Before(t) }) }
	dur := func(sec float64) time.Duration {
		return time.Duration(sec * float64(time.Second)).Round(time.Millisecond)
	}
	// overdueAt is the sample at which the free time since sample i passes d.
	overdueAt := func(i int, d time.Duration) int {
		return sort.Search(n, func(j int) bool { return j > i && free[j]-free[i] > d.Seconds() })
	}
	maxSize := func(i, j int) float64 {
		m := math.Inf(-1)
		for ; i < j && i < n; i++ {
			m = math.Max(m, ss[i].Size)
		}
		return m
	}

	// (a) Recovery: after each fault's end the metric is back in band within Recovery of time
	// outside fault windows. Faults whose metric came back at the same sample (or never) are
	// one excursion and one violation.
	type excursion struct {
		first, count int
		start, back  int
	}
	var exc []excursion
	for i, f := range tr.Faults {
		if f.End.Before(ph.FaultsFrom) || f.End.After(ph.FaultsTo) {
			continue
		}
		s := at(f.End)
		if s >= n {
			continue
		}
		b := nextIn[s]
		if b < n {
			ev.Recovered[i] = ss[b].At.Sub(f.End)
			ev.RecoveredFree[i] = dur(free[b] - free[s])
		}
		last := b
		if b >= n {
			last = n - 1
		}
		if free[last]-free[s] <= lim.Recovery.Seconds() {
			continue
		}
		ev.Overdue[i] = true
		if m := len(exc); m > 0 && exc[m-1].back == b {
			exc[m-1].count++
			continue
		}
		exc = append(exc, excursion{first: i, count: 1, start: s, back: b})
	}
	for _, e := range exc {
		f := tr.Faults[e.first]
		o := overdueAt(e.start, lim.Recovery)
		if o >= n {
			o = n - 1
		}
		more := ""
		if e.count > 1 {
			more = fmt.Sprintf("; %d later faults ended within the same excursion", e.count-1)
		}
		if e.back < n {
			add("metric-recovery", ss[o].At, "after %s (fault #%d) ended at %s the metric came back within %.0f of the target only after %v (%v outside fault windows; bound %v), reaching %.0f%s",
				f.Kind, e.first+1, f.End.Format("15:04:05.000"), lim.Band, ss[e.back].At.Sub(f.End).Round(time.Second), dur(free[e.back]-free[e.start]), lim.Recovery, maxSize(e.start, e.back), more)
		} else {
			add("metric-recovery", ss[o].At, "after %s (fault #%d) ended at %s the metric never came back within %.0f of the target (%v to the end of the faults, %v outside fault windows; bound %v); it reached %.0f, last %.0f%s",
				f.Kind, e.first+1, f.End.Format("15:04:05.000"), lim.Band, ss[n-1].At.Sub(f.End).Round(time.Second), dur(free[n-1]-free[e.start]), lim.Recovery, maxSize(e.start, n), ss[n-1].Size, more)
		}
	}

	// (b) Stall: the metric out of band while no task is launched or running, for longer than
	// StallAfter outside fault windows.
	active := activity(tr, ss)
	what := "no task launched or running"
	if !tr.ActivityKnown {
		what = "the queue never shrinking (no task data: a shrink stands in for a running task)"
	}
	for i := 0; i < n-1; {
		if inBand(ss[i]) || active[i] {
			i++
			continue
		}
		j := i
		for j < n-1 && !inBand(ss[j]) && !active[j] {
			j++
		}
		if d := free[j] - free[i]; d > lim.StallAfter.Seconds() {
			o := overdueAt(i, lim.StallAfter)
			add("metric-stall", ss[min(o, n-1)].At, "from %s the metric stayed out of band (%.0f to %.0f, target %.0f) with %s for %v (%v outside fault windows; bound %v)",
				ss[i].At.Format("15:04:05.000"), ss[i].Size, ss[j].Size, ss[i].Target, what, ss[j].At.Sub(ss[i].At).Round(time.Second), dur(d), lim.StallAfter)
		}
		i = j + 1
	}

	// (c) The metric stays in band outside fault windows.
	in, total := 0, 0
	for i, s := range ss {
		if excused[i] {
			continue
		}
		total++
		if inBand(s) {
			in++
		}
	}
	if total > 0 {
		ev.InBand = float64(in) / float64(total)
	}
	if total > 20 && ev.InBand < lim.InBandShare {
		add("metric-band", from, "metric within %.0f of the target in %.0f%% of the samples outside fault windows (want >= %.0f%%)", lim.Band, 100*ev.InBand, 100*lim.InBandShare)
	}

	// (d) IAE of the faulted phase against the baseline.
	ev.IAE, ev.IAERate = iae(tr.Samples, ph.FaultsFrom, ph.FaultsTo)
	if !ph.BaseFrom.IsZero() {
		_, ev.BaselineRate = iae(tr.Samples, ph.BaseFrom, ph.BaseTo)
		limit := math.Max(lim.IAERatio*ev.BaselineRate, lim.IAEFloor)
		if ev.BaselineRate > 0 && lim.IAERatio > 0 && ev.IAERate > limit {
			add("metric-iae", ph.FaultsTo, "IAE %.0f per minute over the faulted phase, %.1fx the fault-free %.0f per minute (limit %.0f: %gx, at least %.0f)",
				ev.IAERate, ev.IAERate/ev.BaselineRate, ev.BaselineRate, limit, lim.IAERatio, lim.IAEFloor)
		}
	}

	// (e) Windup after a starvation or a leaderless gap, and (f) an overshooting burst at any
	// other time outside fault windows: the same bound.
	if tr.LaunchesKnown {
		allowed := float64(lim.WindupSlack) * p.TaskCapacity()
		// burst: the launches in [from, to) against the queue at at.
		burst := func(from, to, at time.Time) (n int, size, justified, over, low float64) {
			for _, l := range tr.Launches {
				if !l.Before(from) && l.Before(to) {
					n++
				}
			}
			size = sizeAt(tr.Samples, at)
			justified = math.Max(0, size-p.Target+p.Rate*(to.Sub(at)+p.TaskLife()).Seconds())
			over = float64(n)*p.TaskCapacity() - justified
			low = math.Inf(1)
			for _, s := range tr.Samples {
				if !s.At.Before(at) && s.At.Before(to.Add(p.TaskLife()+time.Second)) {
					low = math.Min(low, s.Size)
				}
			}
			return n, size, justified, over, low
		}
		var flagged []Span
		for _, f := range tr.Faults {
			var resume time.Time
			switch {
			case f.Kind == FaultStarve:
				resume = f.End
			case f.FailedOver:
				resume = f.Start.Add(f.Failover)
			default:
				continue
			}
			if resume.Before(ph.FaultsFrom) || resume.After(ph.FaultsTo) {
				continue
			}
			from, to := resume.Add(-windupLead), resume.Add(lim.WindupWindow)
			n, size, justified, over, low := burst(from, to, resume)
			if n > 0 && over > allowed {
				flagged = append(flagged, Span{from, to})
				add("windup", resume, "%s: %d launches in the %v after resuming take up to %.0f items; the queue was %.0f (target %.0f), which with the arrivals justified %.0f: an overshoot of %.0f items past the target (allowed %d tasks' worth, %.0f); the queue fell to %.0f",
					f.Kind, n, lim.WindupWindow, float64(n)*p.TaskCapacity(), size, p.Target, justified, over, lim.WindupSlack, allowed, low)
			}
		}
		for i := 0; i < len(tr.Launches); i++ {
			l := tr.Launches[i]
			if l.Before(from) || l.After(ph.FaultsTo) || inSpans(spans, l) || inSpans(flagged, l) {
				continue
			}
			to := l.Add(lim.WindupWindow)
			n, size, justified, over, low := burst(l, to, l)
			if over <= allowed {
				continue
			}
			// One report per burst: launches that follow within a task's life belong to it.
			j, end := i, to
			for j+1 < len(tr.Launches) && tr.Launches[j+1].Before(end.Add(p.TaskLife())) {
				j++
				if e := tr.Launches[j].Add(lim.WindupWindow); e.After(end) {
					end = e
				}
			}
			more := ""
			if j+1-i > n {
				more = fmt.Sprintf("; %d launches in all until %s", j+1-i, tr.Launches[j].Format("15:04:05.000"))
			}
			add("overshoot", l, "%d launches in the %v from %s take up to %.0f items; the queue was %.0f (target %.0f), which with the arrivals justified %.0f: an overshoot of %.0f items past the target (allowed %d tasks' worth, %.0f); the queue fell to %.0f%s",
				n, lim.WindupWindow, l.Format("15:04:05.000"), float64(n)*p.TaskCapacity(), size, p.Target, justified, over, lim.WindupSlack, allowed, low, more)
			i = j
		}
	}
	sort.SliceStable(ev.Violations, func(i, j int) bool { return ev.Violations[i].At.Before(ev.Violations[j].At) })
	return ev
}

// inSpans reports whether t falls in one of the sorted spans (each [From, To)); unmerged
// spans are fine for the few the windup check flags.
func inSpans(spans []Span, t time.Time) bool {
	for _, sp := range spans {
		if !t.Before(sp.From) && t.Before(sp.To) {
			return true
		}
	}
	return false
}

// windupLead: launches this long before the harness saw the new leader deciding count as
// its first (the observer polls /status every 25 ms but may see a busy leader late).
const windupLead = 500 * time.Millisecond

// activity[i] says whether a task was launched or running between ss[i] and ss[i+1].
func activity(tr Trace, ss []Sample) []bool {
	n := len(ss)
	act := make([]bool, n)
	if !tr.ActivityKnown {
		for i := 0; i+1 < n; i++ {
			act[i] = ss[i+1].Size < ss[i].Size
		}
		return act
	}
	// Mark every sample interval a span overlaps.
	for _, sp := range tr.Active {
		i := sort.Search(n, func(i int) bool { return ss[i].At.After(sp.From) }) - 1
		i = max(i, 0)
		for ; i < n && ss[i].At.Before(sp.To); i++ {
			act[i] = true
		}
	}
	for _, l := range tr.Launches {
		i := sort.Search(n, func(i int) bool { return ss[i].At.After(l) }) - 1
		if i >= 0 && i < n {
			act[i] = true
		}
	}
	return act
}
