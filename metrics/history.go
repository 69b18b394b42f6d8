package metrics

import "time"

// KindUnits is a number of units (tasks) per kind.
type KindUnits struct {
	Warmer int `json:"warmer"`
	Cooler int `json:"cooler"`
}

// TaskCounts is the ledger of one kind, in units.
type TaskCounts struct {
	// Ungranted: asked for by the previous decision and not launched by this tick.
	Ungranted int `json:"ungranted"`
	// Pending: launched, not yet running.
	Pending int `json:"pending"`
	// Running: running now.
	Running int `json:"running"`
}

// Ledger is the task ledger per kind (the shape of loop.Ledger).
type Ledger struct {
	Warmer TaskCounts `json:"warmer"`
	Cooler TaskCounts `json:"cooler"`
}

// Point is one tick in the history served by /api/history. Metric and Target are null on a
// miss: a chart draws a gap there, never a zero.
type Point struct {
	// Time in Unix milliseconds.
	Time   int64    `json:"t"`
	Metric *float64 `json:"metric"`
	Target *float64 `json:"target"`
	// Requested: units this tick's decision asked for.
	Requested KindUnits `json:"requested"`
	// Granted: units of the previous tick's request that were launched before this tick.
	Granted KindUnits `json:"granted"`
	Pending KindUnits `json:"pending"`
	Running KindUnits `json:"running"`
	Starved bool      `json:"starved"`
	// Token is the fencing token of the leader that ran the tick (0 when standalone).
	Token int64 `json:"token"`
}

// Event kinds in the recent events.
const (
	EventLeadership = "leadership"
	EventFailover   = "failover"
	EventStarvation = "starvation"
	EventMiss       = "source_miss"
	EventZooKeeper  = "zookeeper"
	EventMesos      = "mesos"
	EventCheckpoint = "checkpoint"
	EventError      = "error"
)

// Event is one notable thing that happened, for the dashboard and /status.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	// Count > 1 when the same event repeated back to back (Time is the latest).
	Count int `json:"count"`
}

// ErrorNote is one recent error.
type ErrorNote struct {
	Time    time.Time `json:"time"`
	Where   string    `json:"where"`
	Message string    `json:"message"`
}

// ring is a bounded FIFO: once full, each push drops the oldest element. Not safe for
// concurrent use (Metrics.mu guards it).
type ring[T any] struct {
	buf   []T
	start int
	n     int
}

func newRing[T any](size int) *ring[T] { return &ring[T]{buf: make([]T, size)} }

func (r *ring[T]) push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// last returns a pointer to the newest element, or nil when empty.
func (r *ring[T]) last() *T {
	if r.n == 0 {
		return nil
	}
	return &r.buf[(r.start+r.n-1)%len(r.buf)]
}

// items returns a copy, oldest first.
func (r *ring[T]) items() []T {
	out := make([]T, r.n)
	for i := range out {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out
}

// event appends an event, folding a repeat of the newest one into its count.
func (m *Metrics) event(at time.Time, kind, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.eventLocked(at, kind, msg)
}

func (m *Metrics) eventLocked(at time.Time, kind, msg string) {
	if l := m.st.events.last(); l != nil && l.Kind == kind && l.Message == msg {
		l.Count++
		l.Time = at
		return
	}
	m.st.events.push(Event{Time: at, Kind: kind, Message: msg, Count: 1})
}

// Event records a notable event of the caller's (kind: one of the Event* constants or a
// short word of its own) in the recent events.
func (m *Metrics) Event(kind, message string) { m.event(m.now(), kind, message) }

// Error records an error of component where in the recent errors and events. Messages are
// shown on the dashboard and in /status: pass no secrets.
func (m *Metrics) Error(where string, err error) {
	if err == nil {
		return
	}
	at := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.errs.push(ErrorNote{Time: at, Where: where, Message: err.Error()})
	m.eventLocked(at, EventError, where+": "+err.Error())
}

// History returns the recent ticks, oldest first (a copy).
func (m *Metrics) History() []Point {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.history.items()
}

// Events returns the recent events, oldest first (a copy).
func (m *Metrics) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.events.items()
}

// Errors returns the recent errors, oldest first (a copy).
func (m *Metrics) Errors() []ErrorNote {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.errs.items()
}
