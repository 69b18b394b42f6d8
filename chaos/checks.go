package chaos

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Violation is one broken invariant.
type Violation struct {
	Check  string
	At     time.Time
	Detail string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s at %s: %s", v.Check, v.At.Format("15:04:05.000"), v.Detail)
}

// Limits are the bounds the checks hold the run to (LimitsFor derives them from the plant).
type Limits struct {
	// Plant is the queue the bounds were derived from.
	Plant PlantNumbers
	// Band: |metric - target| <= Band counts as in band.
	Band float64
	// Grace: after a fault window (or the new leader deciding, if later) the checks wait this
	// long before time counts as outside the fault.
	Grace time.Duration
	// Recovery: after each fault the metric is back in band within this much time outside
	// fault windows.
	Recovery time.Duration
	// StallAfter: the metric out of band with no task launched or running for longer than this
	// outside fault windows is a stall.
	StallAfter time.Duration
	// InBandShare: outside fault windows at least this share of samples is in band.
	InBandShare float64
	// IAERatio and IAEFloor: the faulted phase's IAE per minute is at most
	// max(IAERatio x the baseline's, IAEFloor).
	IAERatio, IAEFloor float64
	// WindupWindow and WindupSlack: the launches in the window after a starvation or a
	// leaderless gap ends take at most what the error and the arrivals justify plus
	// WindupSlack tasks' worth.
	WindupWindow time.Duration
	WindupSlack  int
	// CarryOver: a new leader's learned per-unit effect, lag and life are within
	// CarryOverRel*|old| + CarryOverAbs of the old leader's last.
	CarryOverRel, CarryOverAbs float64
}

// FaultResult is one fault with what was measured around it.
type FaultResult struct {
	Fault
	// Failover: from injection to a new term leading and deciding (0 with Failed false: no
	// leadership change happened).
	Failover   time.Duration
	FailedOver bool
	NewTerm    int64
	// Launches while the fault was in force.
	Launches int
	// Recovered: time from the fault's end to the metric back in band (-1: not seen);
	// RecoveredFree the part of it outside fault windows; Overdue: not back within
	// Limits.Recovery.
	Recovered, RecoveredFree time.Duration
	Overdue                  bool
}

// Evaluation is the outcome of the checks over one run.
type Evaluation struct {
	Faults     []FaultResult
	Violations []Violation
	// IAE is the integral of |metric - target| over the faulted phase (metric units x
	// seconds), IAERate the same per minute; BaselineRate per minute of the fault-free phase.
	IAE, IAERate, BaselineRate float64
	// InBand is the share of samples outside fault windows within the band.
	InBand       float64
	FrameworkIDs []string
	Launches     int
	Terms        int
}

// Evaluate runs every check over what was observed in the phases of a run.
func Evaluate(s Snapshot, faults []Fault, lim Limits, ph Phases) Evaluation {
	var ev Evaluation
	add := func(check string, at time.Time, format string, args ...any) {
		ev.Violations = append(ev.Violations, Violation{Check: check, At: at, Detail: fmt.Sprintf(format, args...)})
	}
	ev.Launches, ev.Terms = len(s.Launches), len(s.Terms)

	// 1. Never two leaders acting: no launch and no checkpoint of a term after a later term began.
	starts := make([]TermInfo, 0, len(s.Terms))
	for _, t := range s.Terms {
		if !t.Start.IsZero() {
			starts = append(starts, t)
		}
	}
	newerStarted := func(term int64, at time.Time) (TermInfo, bool) {
		for _, t := range starts {
			if t.Term > term && t.Start.Before(at) {
				return t, true
			}
		}
		return TermInfo{}, false
	}
	for _, l := range s.Launches {
		if l.Term == 0 {
			add("acting-leader", l.At, "task %s has no term in its ID", l.TaskID)
			continue
		}
		if t, ok := newerStarted(l.Term, l.At); ok {
			add("acting-leader", l.At, "task %s launched by term %d after term %d began at %s", l.TaskID, l.Term, t.Term, t.Start.Format("15:04:05.000"))
		}
	}
	var maxTok int64
	for _, cp := range s.Checkpoints {
		if cp.Token < maxTok {
			add("stale-checkpoint", cp.SeenAt, "checkpoint with token %d stored after one with token %d", cp.Token, maxTok)
		}
		maxTok = max(maxTok, cp.Token)
		if t, ok := newerStarted(cp.Token, cp.WrittenAt); ok {
			add("stale-checkpoint", cp.WrittenAt, "checkpoint of term %d written after term %d began at %s", cp.Token, t.Term, t.Start.Format("15:04:05.000"))
		}
	}

	// 2. One FrameworkID for the whole run.
	ids := map[string]bool{}
	for id := range s.FrameworkIDs {
		ids[id] = true
	}
	for _, id := range s.StoredFwIDs {
		ids[id] = true
	}
	for id := range ids {
		ev.FrameworkIDs = append(ev.FrameworkIDs, id)
	}
	sort.Strings(ev.FrameworkIDs)
	if len(ev.FrameworkIDs) > 1 {
		add("framework-id", time.Time{}, "%d FrameworkIDs in one run: %v", len(ev.FrameworkIDs), ev.FrameworkIDs)
	}

	// 3. No task killed by a failover; no task launched twice.
	lost := map[string]bool{}
	var restarts []time.Time
	for _, f := range faults {
		for _, id := range f.Lost {
			lost[id] = true
		}
		if f.Kind == FaultMasterRest {
			restarts = append(restarts, f.Start)
		}
	}
	for _, t := range sortedTasks(s.Tasks) {
		switch t.State {
		case "TASK_FINISHED", "TASK_RUNNING", "TASK_STARTING", "TASK_STAGING":
		case "TASK_LOST":
			if !lost[t.ID] {
				add("task-ended-by-failover", t.LaunchedAt, "task %s ended %s (%s), not by the harness", t.ID, t.State, t.Message)
			}
		case "TASK_FAILED":
			harness := false
			for _, r := range restarts {
				if t.LaunchedAt.Before(r) && t.LaunchedAt.After(r.Add(-5*time.Second)) {
					harness = true // still fetching when the master was killed
				}
			}
			if !harness {
				add("task-ended-by-failover", t.LaunchedAt, "task %s ended %s (%s)", t.ID, t.State, t.Message)
			}
		default:
			add("task-ended-by-failover", t.LaunchedAt, "task %s ended %s (%s)", t.ID, t.State, t.Message)
		}
	}
	seen := map[string]bool{}
	for _, id := range s.DupLaunches {
		if !seen[id] {
			seen[id] = true
			add("duplicate-launch", time.Time{}, "task %s launched more than once", id)
		}
	}

	// 4. Controller state carries over: a new leader's first terms (one tick after it starts
	// deciding) match the last checkpoint stored before its term began.
	for _, t := range s.Terms {
		if t.First == nil || t.Start.IsZero() {
			continue
		}
		var cp *CheckpointSeen
		for k := range s.Checkpoints {
			c := &s.Checkpoints[k]
			if c.Token < t.Term && c.SeenAt.Before(t.Start) && c.Terms != nil {
				cp = c
			}
		}
		if cp == nil {
			continue
		}
		if t.First.FromToken != 0 {
			// The replica says which checkpoint it restored: it must be the last one written
			// before its term (never an older one), and hold what the harness saw in it.
			if t.First.FromToken < cp.Token || (t.First.FromToken == cp.Token && t.First.WrittenAt.Before(cp.WrittenAt)) {
				add("controller-carry-over", t.First.At, "term %d resumed from the checkpoint of token %d written %s, older than the last one written before it (token %d, %s)",
					t.Term, t.First.FromToken, t.First.WrittenAt.Format("15:04:05.000"), cp.Token, cp.WrittenAt.Format("15:04:05.000"))
				continue
			}
			if t.First.FromToken != cp.Token || !t.First.WrittenAt.Equal(cp.WrittenAt) {
				continue // the harness did not see the very checkpoint it restored: nothing to compare
			}
		}
		for _, k := range []string{"warmer_per_unit", "warmer_lag", "warmer_life"} {
			a, okA := cp.Terms[k]
			b, okB := t.First.Terms[k]
			if okA && okB && math.Abs(a-b) > lim.CarryOverRel*math.Abs(a)+lim.CarryOverAbs {
				add("controller-carry-over", t.First.At, "%s: the last checkpoint before term %d (token %d) holds %.3f; term %d resumed with %.3f", k, t.Term, cp.Token, a, t.Term, b)
			}
		}
	}

	// Per fault: failover time and launches during the fault.
	for i, f := range faults {
		r := FaultResult{Fault: f, Recovered: -1, RecoveredFree: -1}
		next := ph.FaultsTo
		if i+1 < len(faults) {
			next = faults[i+1].Start
		}
		for _, sm := range s.Samples {
			if sm.At.Before(f.Start) || sm.At.After(next) {
				continue
			}
			if sm.Leader >= 0 && sm.Term > f.OldTerm && f.OldTerm > 0 {
				r.FailedOver, r.Failover, r.NewTerm = true, sm.At.Sub(f.Start), sm.Term
				break
			}
		}
		for _, l := range s.Launches {
			if !l.At.Before(f.Start) && !l.At.After(f.End) {
				r.Launches++
			}
		}
		ev.Faults = append(ev.Faults, r)
	}

	// The metric: band, recovery, stalls, IAE, windup.
	m := CheckMetric(TraceOf(s, ev.Faults, lim.Plant), lim, ph)
	for i := range ev.Faults {
		ev.Faults[i].Recovered, ev.Faults[i].RecoveredFree, ev.Faults[i].Overdue = m.Recovered[i], m.RecoveredFree[i], m.Overdue[i]
	}
	ev.Violations = append(ev.Violations, m.Violations...)
	ev.IAE, ev.IAERate, ev.BaselineRate, ev.InBand = m.IAE, m.IAERate, m.BaselineRate, m.InBand
	sort.SliceStable(ev.Violations, func(i, j int) bool { return ev.Violations[i].At.Before(ev.Violations[j].At) })
	return ev
}

func sizeAt(ss []Sample, at time.Time) float64 {
	i := sort.Search(len(ss), func(i int) bool { return !ss[i].At.Before(at) })
	if i >= len(ss) {
		i = len(ss) - 1
	}
	if i < 0 {
		return 0
	}
	return ss[i].Size
}

// iae integrates |metric - target| over [from, to]: total and per minute.
func iae(ss []Sample, from, to time.Time) (float64, float64) {
	var sum, secs float64
	for i := 1; i < len(ss); i++ {
		a, b := ss[i-1], ss[i]
		if a.At.Before(from) || b.At.After(to) {
			continue
		}
		dt := b.At.Sub(a.At).Seconds()
		sum += math.Abs(a.Size-a.Target) * dt
		secs += dt
	}
	if secs == 0 {
		return 0, 0
	}
	return sum, sum / secs * 60
}

func sortedTasks(m map[string]MasterTask) []MasterTask {
	out := make([]MasterTask, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LaunchedAt.Before(out[j].LaunchedAt) })
	return out
}
