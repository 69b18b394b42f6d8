package framework

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/relay-mesos/relay-mesos/loop"
)

// Task states as the ledger keeps them. Intent: recorded (and checkpointed) before the
// ACCEPT that launches it is sent; Staging: ACCEPT sent; the rest follow Mesos.
const (
	StateIntent   = "intent"
	StateStaging  = "staging"
	StateStarting = "starting"
	StateRunning  = "running"
	StateKilling  = "killing"
)

// TaskRecord is one task the framework launched (or adopted).
type TaskRecord struct {
	ID    string    `json:"id"`
	Kind  loop.Kind `json:"k"`
	State string    `json:"s"`
	Agent string    `json:"a,omitempty"`
	// Term is the fencing token of the leader that launched it.
	Term int64 `json:"t"`
	// Created and Updated are unix milliseconds.
	Created int64 `json:"c"`
	Updated int64 `json:"u"`
	// Kill: a KILL was sent (a cooler unit in --cooler kill mode, or an adoption refused).
	Kill bool `json:"x,omitempty"`
}

// LedgerSnapshot is the ledger as checkpointed: the live tasks, the ID sequence, the
// failure streak and the kinds in launch backoff. Ended tasks are not kept, so its size is
// bounded by the tasks in flight.
type LedgerSnapshot struct {
	Seq      uint64       `json:"seq"`
	Failures int          `json:"failures"`
	Tasks    []TaskRecord `json:"tasks"`
	// Backoff: the kinds in launch backoff (added within payload version 1; an older
	// checkpoint has none, and an older binary ignores it).
	Backoff []KindBackoff `json:"backoff,omitempty"`
}

// KindBackoff is one kind's launch backoff as checkpointed: the delay after its last failed
// task, and the time before which no task of it is launched, both in milliseconds (the time
// since the Unix epoch, by the clock of the leader that wrote it).
type KindBackoff struct {
	Kind  loop.Kind `json:"k"`
	Delay int64     `json:"d"`
	Until int64     `json:"u"`
}

// Ledger is the task ledger: every live task's ID, kind, agent, state and times. It is safe
// for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	seq      uint64
	failures int
	tasks    map[string]*TaskRecord
	ended    map[string]string // recently ended task -> terminal state, to ignore repeats
	endedQ   []string
	// backoff: per kind, the launch delay after its last failed task (0: none) and the time
	// before which no task of it is launched (see Scheduler). Kept here so that it is
	// checkpointed with the tasks and a new leader goes on with it.
	backoffDelay [2]time.Duration
	backoffUntil [2]time.Time
}

const endedKeep = 512

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{tasks: map[string]*TaskRecord{}, ended: map[string]string{}}
}

// RestoreLedger rebuilds a ledger from a checkpoint.
func RestoreLedger(s LedgerSnapshot) *Ledger {
	l := NewLedger()
	l.seq, l.failures = s.Seq, s.Failures
	for _, t := range s.Tasks {
		t := t
		l.tasks[t.ID] = &t
	}
	for _, b := range s.Backoff {
		if (b.Kind == loop.Warmer || b.Kind == loop.Cooler) && b.Delay > 0 {
			l.backoffDelay[b.Kind] = time.Duration(b.Delay) * time.Millisecond
			l.backoffUntil[b.Kind] = time.UnixMilli(b.Until)
		}
	}
	return l
}

// Snapshot returns the live tasks, sorted by ID, for a checkpoint.
func (l *Ledger) Snapshot() LedgerSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LedgerSnapshot{Seq: l.seq, Failures: l.failures, Tasks: make([]TaskRecord, 0, len(l.tasks))}
	for _, t := range l.tasks {
		s.Tasks = append(s.Tasks, *t)
	}
	sort.Slice(s.Tasks, func(i, j int) bool { return s.Tasks[i].ID < s.Tasks[j].ID })
	for k, d := range l.backoffDelay {
		if d > 0 {
			s.Backoff = append(s.Backoff, KindBackoff{Kind: loop.Kind(k), Delay: d.Milliseconds(), Until: l.backoffUntil[k].UnixMilli()})
		}
	}
	return s
}

// Backoff returns kind k's launch backoff: the delay after its last failed task (0: none)
// and the time before which no task of it is launched.
func (l *Ledger) Backoff(k loop.Kind) (time.Duration, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.backoffDelay[k], l.backoffUntil[k]
}

// setBackoff sets kind k's launch backoff (a delay of 0 clears it).
func (l *Ledger) setBackoff(k loop.Kind, delay time.Duration, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if delay <= 0 {
		delay, until = 0, time.Time{}
	}
	l.backoffDelay[k], l.backoffUntil[k] = delay, until
}

// Live is the number of tasks not known to have ended.
func (l *Ledger) Live() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tasks)
}

// Failures is the current streak of failed tasks.
func (l *Ledger) Failures() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures
}

// Counts is the ledger as the controller sees it. With coolerKill, cooler units are the
// warmer tasks with a KILL sent and not yet ended (pending).
func (l *Ledger) Counts(coolerKill bool) loop.Ledger {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out loop.Ledger
	for _, t := range l.tasks {
		c := &out.Warmer
		if t.Kind == loop.Cooler {
			c = &out.Cooler
		}
		switch t.State {
		case StateIntent, StateStaging, StateStarting:
			c.Pending++
		default:
			c.Running++
		}
		if coolerKill && t.Kill && t.Kind == loop.Warmer {
			out.Cooler.Pending++
		}
	}
	return out
}

// runningSince reports whether a live task of kind k has been running since cutoff or before
// (its last update, RUNNING, came then).
func (l *Ledger) runningSince(k loop.Kind, cutoff time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.tasks {
		if t.Kind == k && t.State == StateRunning && t.Updated <= cutoff.UnixMilli() {
			return true
		}
	}
	return false
}

// Tasks returns a copy of the live records.
func (l *Ledger) Tasks() []TaskRecord {
	return l.Snapshot().Tasks
}

// newID returns a task ID that no leader reuses: kind, term and a sequence.
func (l *Ledger) newIDLocked(k loop.Kind, term int64) string {
	l.seq++
	return fmt.Sprintf("relay-%s-t%d-%d", k, term, l.seq)
}

// idSeq reads the sequence number at the end of a task ID this framework made (0 if none).
func idSeq(id string) uint64 {
	i := strings.LastIndexByte(id, '-')
	n, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// kindOf reads the kind from a task ID this framework made.
func kindOf(id string) (loop.Kind, bool) {
	switch {
	case strings.HasPrefix(id, "relay-warmer-"):
		return loop.Warmer, true
	case strings.HasPrefix(id, "relay-cooler-"):
		return loop.Cooler, true
	}
	return loop.Warmer, false
}

// addIntents records n new tasks of kind k on agent as intents and returns them.
func (l *Ledger) addIntents(k loop.Kind, n int, agent string, term int64, now time.Time) []TaskRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]TaskRecord, 0, n)
	for i := 0; i < n; i++ {
		t := &TaskRecord{ID: l.newIDLocked(k, term), Kind: k, State: StateIntent, Agent: agent, Term: term, Created: now.UnixMilli(), Updated: now.UnixMilli()}
		l.tasks[t.ID] = t
		out = append(out, *t)
	}
	return out
}

// setState moves live tasks to state (e.g. intent -> staging) unless they moved on already.
func (l *Ledger) setState(ids []string, from, to string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if t, ok := l.tasks[id]; ok && t.State == from {
			t.State, t.Updated = to, now.UnixMilli()
		}
	}
}

// drop removes tasks that were never launched (their intent was refused before ACCEPT).
func (l *Ledger) drop(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		delete(l.tasks, id)
		l.rememberEndedLocked(id, "dropped")
	}
}

func (l *Ledger) rememberEndedLocked(id, state string) {
	if _, ok := l.ended[id]; ok {
		l.ended[id] = state
		return
	}
	l.ended[id] = state
	l.endedQ = append(l.endedQ, id)
	if len(l.endedQ) > endedKeep {
		delete(l.ended, l.endedQ[0])
		l.endedQ = l.endedQ[1:]
	}
}

// updateResult says what a status update did to the ledger.
type updateResult struct {
	Known    bool // the task was live in the ledger
	Adopted  bool // unknown live task of ours, now in the ledger
	Ended    bool // it reached a terminal state now
	Repeat   bool // a repeat of what the ledger knew (nothing changed)
	Kind     loop.Kind
	Killed   bool // it had a KILL sent by us
	Ours     bool // its ID is one this framework makes
	Previous string
}

// update applies one status update.
func (l *Ledger) update(id, state, agent string, terminal bool, now time.Time, term int64) updateResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	kind, ours := kindOf(id)
	t, ok := l.tasks[id]
	r := updateResult{Known: ok, Kind: kind, Ours: ours}
	if !ok {
		if was, ended := l.ended[id]; ended && (terminal || !mayComeBack(was)) {
			// A repeat, or a late word about a task that is over (it ended for good, or its
			// launch was refused before the ACCEPT).
			r.Repeat = true
			return r
		}
		if terminal || !ours {
			return r
		}
		// A live task of ours the ledger does not know (e.g. a LOST task that came back):
		// adopt it.
		t = &TaskRecord{ID: id, Kind: kind, State: state, Agent: agent, Term: term, Created: now.UnixMilli()}
		l.tasks[id] = t
		delete(l.ended, id)
		r.Adopted = true
	}
	r.Kind, r.Killed, r.Previous = t.Kind, t.Kill, t.State
	if agent != "" {
		t.Agent = agent
	}
	t.Updated = now.UnixMilli()
	if terminal {
		delete(l.tasks, id)
		l.rememberEndedLocked(id, state)
		r.Ended = true
		return r
	}
	if t.State == state {
		r.Repeat = true
	}
	t.State = state
	return r
}

// mayComeBack: an end in this state is not necessarily final (the agent may come back).
func mayComeBack(state string) bool {
	switch state {
	case "lost", "unknown", "gone_by_operator", "unreachable":
		return true
	}
	return false
}

// noteOutcome keeps the failure streak: failed tasks lengthen it, finished ones end it.
func (l *Ledger) noteOutcome(failed bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if failed {
		l.failures++
	} else {
		l.failures = 0
	}
	return l.failures
}

// pickKills marks up to n of the newest running warmer tasks (not already being killed) for
// a KILL and returns them.
func (l *Ledger) pickKills(n int, now time.Time) []TaskRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var cands []*TaskRecord
	for _, t := range l.tasks {
		if t.Kind == loop.Warmer && !t.Kill && t.State == StateRunning {
			cands = append(cands, t)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].Created != cands[j].Created {
			return cands[i].Created > cands[j].Created
		}
		// Same millisecond (one ACCEPT): the later sequence number is the newer.
		si, sj := idSeq(cands[i].ID), idSeq(cands[j].ID)
		if si != sj {
			return si > sj
		}
		return cands[i].ID > cands[j].ID
	})
	var out []TaskRecord
	for _, t := range cands[:min(n, len(cands))] {
		t.Kill, t.Updated = true, now.UnixMilli()
		out = append(out, *t)
	}
	return out
}

// setKill marks one task as being killed, or not (a KILL that could not be sent).
func (l *Ledger) setKill(id string, v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.tasks[id]; ok {
		t.Kill = v
	}
}

// stale returns the live tasks not updated since before cutoff that are still waiting for
// Mesos (intent, staging, starting) or being killed: candidates for explicit reconciliation.
func (l *Ledger) stale(cutoff time.Time) map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, t := range l.tasks {
		waiting := t.State == StateIntent || t.State == StateStaging || t.State == StateStarting || t.Kill
		if waiting && t.Updated < cutoff.UnixMilli() {
			out[t.ID] = t.Agent
		}
	}
	return out
}

// liveAgents maps every live task to its agent (for explicit reconciliation).
func (l *Ledger) liveAgents() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.tasks))
	for _, t := range l.tasks {
		out[t.ID] = t.Agent
	}
	return out
}
