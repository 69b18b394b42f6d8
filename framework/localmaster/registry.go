package localmaster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// registryVersion is the format of WorkDir/registry.json.
const registryVersion = 1

// registry is what survives a restart of the master process: frameworks (ids, FrameworkInfo,
// failover timeouts, subscriptions), removed framework ids, live tasks with their pids and
// unacknowledged updates, and the bounded completed-task and launches logs.
type registry struct {
	Version             int                  `json:"version"`
	MasterID            string               `json:"master_id"`
	FrameworkSeq        int                  `json:"framework_seq"`
	OfferSeq            int                  `json:"offer_seq"`
	Frameworks          []regFramework       `json:"frameworks"`
	Removed             map[string]time.Time `json:"removed"`
	CompletedFrameworks []FrameworkState     `json:"completed_frameworks"`
	Tasks               []regTask            `json:"tasks"`
	Completed           []TaskState          `json:"completed_tasks"`
	Launches            []Launch             `json:"launches"`
}

type regFramework struct {
	ID             string          `json:"id"`
	Info           json.RawMessage `json:"info"` // mesos.FrameworkInfo as JSON
	Subscriptions  []Subscription  `json:"subscriptions"`
	Suppressed     []string        `json:"suppressed_roles"`
	RegisteredAt   time.Time       `json:"registered_at"`
	DisconnectedAt time.Time       `json:"disconnected_at"`
}

type regTask struct {
	ID           string            `json:"id"`
	FrameworkID  string            `json:"framework_id"`
	Info         json.RawMessage   `json:"info"` // mesos.TaskInfo as JSON
	ExecutorID   string            `json:"executor_id"`
	Group        string            `json:"group,omitempty"`
	State        string            `json:"state"`
	Message      string            `json:"message,omitempty"`
	Sandbox      string            `json:"sandbox"`
	LaunchedAt   time.Time         `json:"launched_at"`
	EndedAt      time.Time         `json:"ended_at"`
	Stream       string            `json:"stream"`
	Subscription int               `json:"subscription"`
	PID          int               `json:"pid"`
	ProcStart    uint64            `json:"proc_start"`
	Killing      bool              `json:"killing,omitempty"`
	Pending      []json.RawMessage `json:"pending_updates,omitempty"` // mesos.TaskStatus as JSON
}

// persistDelay coalesces registry writes while Run serves: a burst of launches and updates is
// written once, not once per change (a write is O(tasks), so per-change writes made a burst
// of N launches cost O(N^2)). When a write takes longer than persistDelay/persistDuty (a big
// registry on a loaded machine), the delay grows to that multiple of the last write's time,
// so that the writer never takes more than about a tenth of the master's time. A kill -9 of
// the master loses at most that much of the latest changes.
const (
	persistDelay = 25 * time.Millisecond
	persistDuty  = 10
)

// persistLocked asks for the registry to be written: at once before Run starts and after it
// stops, within persistDelay while it serves.
func (m *Master) persistLocked() {
	if m.persistKick == nil {
		m.writeRegistryLocked()
		return
	}
	m.persistDirty = true
	select {
	case m.persistKick <- struct{}{}:
	default:
	}
}

// persistLoop is Run's registry writer.
func (m *Master) persistLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.persistKick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(persistDelay, persistDuty*m.lastWrite)):
		}
		m.mu.Lock()
		if m.persistDirty {
			m.persistDirty = false
			start := time.Now()
			m.writeRegistryLocked()
			m.lastWrite = time.Since(start)
		}
		m.mu.Unlock()
	}
}

// writeRegistryLocked writes the registry atomically (temporary file + rename), so a kill -9
// of the master process at any moment leaves either the old or the new registry. There is no
// fsync: the registry survives a process crash, not a machine crash.
//
// It is written while Run serves every persistDelay during a burst of changes, and it holds
// every live task and the bounded logs: the entries that did not change since the last write
// (each task's record, every completed task and launch) are not encoded again.
func (m *Master) writeRegistryLocked() {
	var b bytes.Buffer
	b.Grow(m.lastSize + m.lastSize/8)
	field := func(name string, v any) error {
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		b.Write(enc)
		return nil
	}
	list := func(name string, items [][]byte) {
		b.WriteByte(',')
		b.WriteString(strconv.Quote(name))
		b.WriteString(":[")
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(it)
		}
		b.WriteByte(']')
	}
	var frameworks []regFramework
	var tasks [][]byte
	for _, id := range m.fwOrder {
		fw := m.frameworks[id]
		if fw == nil {
			continue
		}
		info, err := json.Marshal(&fw.info)
		if err != nil {
			m.persistFailed(err)
			return
		}
		rf := regFramework{ID: fw.id, Info: info, Subscriptions: fw.subs, RegisteredAt: fw.registeredAt, DisconnectedAt: fw.disconnectedAt}
		for r := range fw.suppressed {
			rf.Suppressed = append(rf.Suppressed, r)
		}
		frameworks = append(frameworks, rf)
		for _, t := range fw.sortedTasks() {
			enc, err := t.registryJSON(fw.id)
			if err != nil {
				m.persistFailed(err)
				return
			}
			tasks = append(tasks, enc)
		}
	}
	// The fields in the order of the registry struct, which reads them back.
	for _, f := range []struct {
		name string
		v    any
	}{
		{"version", registryVersion}, {"master_id", m.masterID}, {"framework_seq", m.fwSeq}, {"offer_seq", m.offerSeq},
		{"frameworks", frameworks}, {"removed", m.removed}, {"completed_frameworks", m.completedFw},
	} {
		if err := field(f.name, f.v); err != nil {
			m.persistFailed(err)
			return
		}
	}
	list("tasks", tasks)
	list("completed_tasks", m.completed.enc)
	list("launches", m.launches.enc)
	b.WriteByte('}')

	m.lastSize = b.Len()
	tmp := m.regPath + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		m.persistFailed(err)
		return
	}
	if err := os.Rename(tmp, m.regPath); err != nil {
		m.persistFailed(err)
		return
	}
	m.persistErr = nil
}

// regKey is what may change in a task's registry record after its launch.
type regKey struct {
	state       mesos.TaskState
	message     string
	endedAt     time.Time
	pid         int
	procStart   uint64
	killing     bool
	pending     int
	first, last string // uuids of the oldest and newest unacknowledged update
}

// registryJSON is the task's registry record, encoded again only when it has changed.
func (t *task) registryJSON(fwID string) ([]byte, error) {
	key := regKey{state: t.state, message: t.message, endedAt: t.endedAt, pid: t.pid, procStart: t.procStart,
		killing: t.killing, pending: len(t.pending)}
	if n := len(t.pending); n > 0 {
		key.first, key.last = string(t.pending[0].UUID), string(t.pending[n-1].UUID)
	}
	if t.regJSON != nil && t.regKey == key {
		return t.regJSON, nil
	}
	if t.infoJSON == nil {
		ti, err := json.Marshal(&t.info) // immutable after launch
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t.id, err)
		}
		t.infoJSON = ti
	}
	rt := regTask{
		ID: t.id, FrameworkID: fwID, Info: t.infoJSON, ExecutorID: t.executorID, Group: t.group,
		State: t.state.String(), Message: t.message, Sandbox: t.sandbox, LaunchedAt: t.launchedAt,
		EndedAt: t.endedAt, Stream: t.stream, Subscription: t.subNumber, PID: t.pid,
		ProcStart: t.procStart, Killing: t.killing,
	}
	for i := range t.pending {
		b, err := json.Marshal(&t.pending[i])
		if err != nil {
			return nil, fmt.Errorf("task %s update: %w", t.id, err)
		}
		rt.Pending = append(rt.Pending, b)
	}
	enc, err := json.Marshal(&rt)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", t.id, err)
	}
	t.regJSON, t.regKey = enc, key
	return enc, nil
}

// jsonLog is a bounded log (the oldest entries dropped beyond max) that keeps each entry's
// JSON beside it, encoded once when it is added.
type jsonLog[T any] struct {
	items []T
	enc   [][]byte
	max   int
}

func (l *jsonLog[T]) add(v T) {
	b, err := json.Marshal(v)
	if err != nil {
		// Launch and TaskState hold strings, numbers and times only; this cannot happen.
		panic("localmaster: encode registry entry: " + err.Error())
	}
	l.items = append(l.items, v)
	l.enc = append(l.enc, b)
	if l.max > 0 && len(l.items) > l.max {
		l.items = l.items[len(l.items)-l.max:]
		l.enc = l.enc[len(l.enc)-l.max:]
	}
}

func (m *Master) persistFailed(err error) {
	if m.persistErr == nil {
		m.log.Error("registry write failed", "path", m.regPath, "error", err)
	}
	m.persistErr = err
}

// recover loads the registry if there is one. Frameworks come back disconnected (they may
// re-subscribe with their id; their failover timers restart when Run starts). Live tasks are
// adopted by pid and watched by polling; tasks that were still launching (no pid) end
// TASK_FAILED, since their launch was cut short.
func (m *Master) recover() error {
	b, err := os.ReadFile(m.regPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var reg registry
	if err := json.Unmarshal(b, &reg); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if reg.Version != registryVersion {
		return fmt.Errorf("registry version %d, want %d", reg.Version, registryVersion)
	}
	m.masterID, m.fwSeq, m.offerSeq = reg.MasterID, reg.FrameworkSeq, reg.OfferSeq
	m.agentID = m.masterID + "-S0"
	for id, at := range reg.Removed {
		m.removed[id] = at
	}
	m.completedFw = reg.CompletedFrameworks
	for _, c := range reg.Completed {
		m.completed.add(c)
	}
	for _, l := range reg.Launches {
		m.launches.add(l)
	}
	now := m.now()
	for _, rf := range reg.Frameworks {
		fw := &framework{id: rf.ID, tasks: map[string]*task{}, subs: rf.Subscriptions, registeredAt: rf.RegisteredAt, disconnectedAt: now}
		if err := json.Unmarshal(rf.Info, &fw.info); err != nil {
			return fmt.Errorf("framework %s: %w", rf.ID, err)
		}
		fw.setSuppressed(rf.Suppressed)
		m.frameworks[fw.id] = fw
		m.fwOrder = append(m.fwOrder, fw.id)
	}
	adopted := 0
	for _, rt := range reg.Tasks {
		fw := m.frameworks[rt.FrameworkID]
		if fw == nil {
			continue
		}
		t := &task{
			id: rt.ID, fwID: fw.id, executorID: rt.ExecutorID, group: rt.Group, message: rt.Message,
			sandbox: rt.Sandbox, launchedAt: rt.LaunchedAt, endedAt: rt.EndedAt, stream: rt.Stream,
			subNumber: rt.Subscription, pid: rt.PID, procStart: rt.ProcStart, killing: rt.Killing, adopted: true,
		}
		if err := json.Unmarshal(rt.Info, &t.info); err != nil {
			return fmt.Errorf("task %s: %w", rt.ID, err)
		}
		t.res = fromProto(t.info.Resources)
		if v, ok := mesos.TaskState_value[rt.State]; ok {
			t.state = mesos.TaskState(v)
		}
		t.terminal = isTerminal(t.state)
		for _, p := range rt.Pending {
			var st mesos.TaskStatus
			if err := json.Unmarshal(p, &st); err != nil {
				return fmt.Errorf("task %s update: %w", rt.ID, err)
			}
			t.pending = append(t.pending, st)
		}
		fw.tasks[t.id] = t
		switch {
		case t.terminal:
		case t.pid == 0:
			m.agentUpdateLocked(fw, t, mesos.TASK_FAILED, mesos.SOURCE_AGENT, ptr(mesos.REASON_AGENT_RESTARTED),
				"launch interrupted: the master stopped before the task process started")
		default:
			adopted++
		}
	}
	m.log.Info("registry recovered", "master_id", m.masterID, "frameworks", len(m.frameworks), "adopted_tasks", adopted)
	return nil
}
