package localmaster

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// task is one launched task: the master's record and the agent's process.
type task struct {
	id         string
	fwID       string
	info       mesos.TaskInfo
	executorID string // the task id (command executor) or the LAUNCH_GROUP executor id
	group      string // executor id of its task group, "" for LAUNCH
	res        resSet
	state      mesos.TaskState
	message    string
	sandbox    string
	launchedAt time.Time
	endedAt    time.Time
	stream     string
	subNumber  int

	pid       int
	procStart uint64 // /proc start time, guards against pid reuse for adopted tasks
	adopted   bool   // recovered after a master restart; watched by polling
	cancel    context.CancelFunc
	killing   bool
	killGrace time.Duration
	removed   bool // its framework is gone: no updates, straight to completed
	terminal  bool // a terminal state was reached; resources are free

	pending []mesos.TaskStatus // agent updates not yet acknowledged, oldest first
	backoff time.Duration
	retryAt time.Time

	// The registry record as last written, and what it was made from (see registryJSON).
	infoJSON []byte
	regJSON  []byte
	regKey   regKey
}

func (fw *framework) sortedTasks() []*task {
	out := make([]*task, 0, len(fw.tasks))
	for _, t := range fw.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].launchedAt.Equal(out[j].launchedAt) {
			return out[i].launchedAt.Before(out[j].launchedAt)
		}
		return out[i].id < out[j].id
	})
	return out
}

func isTerminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_ERROR,
		mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR, mesos.TASK_LOST:
		return true
	}
	return false
}

func secondsOf(t time.Time) *float64 { return ptr(float64(t.UnixNano()) / 1e9) }

// masterUpdateLocked sends a master-generated update (no uuid, never retried).
func (m *Master) masterUpdateLocked(fw *framework, taskID string, state mesos.TaskState, reason mesos.TaskStatus_Reason, msg string, withAgent bool) {
	st := mesos.TaskStatus{
		TaskID:    mesos.TaskID{Value: taskID},
		State:     ptr(state),
		Message:   ptr(msg),
		Source:    ptr(mesos.SOURCE_MASTER),
		Reason:    ptr(reason),
		Timestamp: secondsOf(m.now()),
	}
	if withAgent {
		st.AgentID = &mesos.AgentID{Value: m.agentID}
	}
	if fw.stream != nil {
		fw.stream.send(&scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: st}})
	}
}

// agentUpdateLocked records a state change reported by the agent and queues the reliable
// update (with a uuid) that the framework must acknowledge.
func (m *Master) agentUpdateLocked(fw *framework, t *task, state mesos.TaskState, source mesos.TaskStatus_Source, reason *mesos.TaskStatus_Reason, msg string) {
	if t.terminal {
		return
	}
	now := m.now()
	t.state = state
	if msg != "" {
		t.message = msg
	}
	if isTerminal(state) {
		t.terminal = true
		t.endedAt = now
		m.wakeAllocator()
	}
	if t.removed || fw == nil {
		if t.terminal {
			m.completeTaskLocked(fw, t)
		}
		return
	}
	st := mesos.TaskStatus{
		TaskID:     mesos.TaskID{Value: t.id},
		State:      ptr(state),
		Source:     ptr(source),
		Reason:     reason,
		AgentID:    &mesos.AgentID{Value: m.agentID},
		ExecutorID: &mesos.ExecutorID{Value: t.executorID},
		Timestamp:  secondsOf(now),
		UUID:       uuidBytes(),
	}
	if msg != "" {
		st.Message = ptr(msg)
	}
	t.pending = append(t.pending, st)
	if len(t.pending) == 1 {
		m.forwardLocked(fw, t)
	}
	m.persistLocked()
	m.log.Info("task status", "framework_id", fw.id, "task_id", t.id, "state", state.String(), "message", msg)
	if t.group != "" && isTerminal(state) && state != mesos.TASK_FINISHED {
		for _, o := range fw.tasks {
			if o != t && o.group == t.group && !o.terminal {
				m.killLocked(fw, o, 0)
			}
		}
	}
}

// forwardLocked sends t's oldest unacknowledged update if its framework is connected.
func (m *Master) forwardLocked(fw *framework, t *task) {
	if len(t.pending) == 0 {
		return
	}
	if t.backoff == 0 {
		t.backoff = m.cfg.UpdateRetry
	}
	t.retryAt = m.now().Add(t.backoff)
	if fw.stream == nil {
		return
	}
	fw.stream.send(&scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: t.pending[0]}})
}

// retryUpdates resends unacknowledged updates whose backoff expired, doubling it up to 10 min.
func (m *Master) retryUpdates() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	now := m.now()
	for _, fw := range m.frameworks {
		if fw.stream == nil {
			continue
		}
		for _, t := range fw.tasks {
			if len(t.pending) > 0 && !now.Before(t.retryAt) {
				t.backoff = min(2*t.backoff, maxUpdateBackoff)
				m.forwardLocked(fw, t)
			}
		}
	}
}

func (m *Master) acknowledgeLocked(fw *framework, a *scheduler.Call_Acknowledge) {
	t := fw.tasks[a.TaskID.Value]
	if t == nil || len(t.pending) == 0 || !bytes.Equal(t.pending[0].UUID, a.UUID) {
		m.log.Debug("acknowledgement ignored", "framework_id", fw.id, "task_id", a.TaskID.Value)
		return
	}
	t.pending = t.pending[1:]
	t.backoff = 0
	switch {
	case len(t.pending) > 0:
		m.forwardLocked(fw, t)
	case t.terminal:
		m.completeTaskLocked(fw, t)
	}
	m.persistLocked()
}

// completeTaskLocked moves a terminal task to the completed list.
func (m *Master) completeTaskLocked(fw *framework, t *task) {
	if fw != nil && fw.tasks[t.id] == t {
		delete(fw.tasks, t.id)
	}
	m.completed.add(m.taskStateLocked(t))
	m.persistLocked()
}

// reconcileLocked answers RECONCILE: explicit for the named tasks, implicit (every task the
// master knows for fw) when none are named. Answers carry no uuid, as in Mesos.
func (m *Master) reconcileLocked(fw *framework, r *scheduler.Call_Reconcile) {
	if len(r.Tasks) == 0 {
		for _, t := range fw.sortedTasks() {
			m.reconcileAnswerLocked(fw, t)
		}
		return
	}
	for _, rt := range r.Tasks {
		if t := fw.tasks[rt.TaskID.Value]; t != nil {
			m.reconcileAnswerLocked(fw, t)
			continue
		}
		m.reconcileUnknownLocked(fw, rt.TaskID.Value, rt.AgentID)
	}
}

func (m *Master) reconcileAnswerLocked(fw *framework, t *task) {
	st := mesos.TaskStatus{
		TaskID:     mesos.TaskID{Value: t.id},
		State:      ptr(t.state),
		Message:    ptr("Reconciliation: Latest task state"),
		Source:     ptr(mesos.SOURCE_MASTER),
		Reason:     ptr(mesos.REASON_RECONCILIATION),
		AgentID:    &mesos.AgentID{Value: m.agentID},
		ExecutorID: &mesos.ExecutorID{Value: t.executorID},
		Timestamp:  secondsOf(m.now()),
	}
	if fw.stream != nil {
		fw.stream.send(&scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: st}})
	}
}

// reconcileUnknownLocked answers for a task the master does not know, as Mesos 1.11 does:
// with our agent's id, the agent does not know it either (TASK_GONE for PARTITION_AWARE
// frameworks, else TASK_LOST); with no or another agent id, TASK_UNKNOWN or TASK_LOST.
func (m *Master) reconcileUnknownLocked(fw *framework, taskID string, agent *mesos.AgentID) {
	pa := fw.partitionAware()
	if agent != nil && agent.Value == m.agentID {
		state := mesos.TASK_LOST
		if pa {
			state = mesos.TASK_GONE
		}
		m.masterUpdateLocked(fw, taskID, state, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unknown to the agent", true)
		return
	}
	state := mesos.TASK_LOST
	if pa {
		state = mesos.TASK_UNKNOWN
	}
	m.masterUpdateLocked(fw, taskID, state, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unknown", false)
}

func (m *Master) killCallLocked(fw *framework, k *scheduler.Call_Kill) {
	t := fw.tasks[k.TaskID.Value]
	if t == nil || t.terminal {
		if t == nil {
			m.log.Warn("kill of an unknown task, reconciling", "framework_id", fw.id, "task_id", k.TaskID.Value)
			m.reconcileUnknownLocked(fw, k.TaskID.Value, k.AgentID)
		}
		return
	}
	grace := time.Duration(0)
	if k.KillPolicy != nil && k.KillPolicy.GracePeriod != nil {
		grace = time.Duration(k.KillPolicy.GracePeriod.Nanoseconds)
		if grace <= 0 {
			grace = time.Millisecond
		}
	}
	if t.group != "" {
		for _, o := range fw.tasks {
			if o.group == t.group {
				m.killLocked(fw, o, grace)
			}
		}
		return
	}
	m.killLocked(fw, t, grace)
}

// killLocked starts killing t: SIGTERM to its process group, SIGKILL after the grace period
// (the KILL call's, else the task's kill_policy, else 3 s). TASK_KILLED follows the exit.
func (m *Master) killLocked(fw *framework, t *task, grace time.Duration) {
	if t.terminal {
		return
	}
	if grace <= 0 {
		grace = defaultKillGrace
		if kp := t.info.KillPolicy; kp != nil && kp.GracePeriod != nil && kp.GracePeriod.Nanoseconds > 0 {
			grace = time.Duration(kp.GracePeriod.Nanoseconds)
		}
	}
	if t.killing {
		return
	}
	t.killing = true
	t.killGrace = grace
	if fw != nil && !t.removed && fw.hasCap(mesos.FrameworkInfo_Capability_TASK_KILLING_STATE) &&
		(t.state == mesos.TASK_RUNNING || t.state == mesos.TASK_STARTING) {
		m.agentUpdateLocked(fw, t, mesos.TASK_KILLING, mesos.SOURCE_EXECUTOR, nil, "Command is being killed")
	}
	if t.pid == 0 {
		if t.cancel != nil {
			// Still fetching or starting: the launcher sees killing and reports TASK_KILLED,
			// or kills the process it has just started.
			t.cancel()
		}
		return
	}
	m.signalKillLocked(t)
}

// signalKillLocked sends SIGTERM to a killing task's process group now and SIGKILL after
// its grace period, unless the process has ended by then.
func (m *Master) signalKillLocked(t *task) {
	t.signal(false)
	pid, start := t.pid, t.procStart
	time.AfterFunc(t.killGrace, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !t.terminal && t.pid == pid && t.procStart == start {
			t.signal(true)
		}
	})
}

func (m *Master) shutdownLocked(fw *framework, s *scheduler.Call_Shutdown) {
	for _, t := range fw.sortedTasks() {
		if t.executorID == s.ExecutorID.Value {
			m.killLocked(fw, t, 0)
		}
	}
}

// invalidID mirrors Mesos' ID validation.
func invalidID(id string) string {
	switch {
	case id == "":
		return "ID must not be empty"
	case id == "." || id == "..":
		return "'.' and '..' are reserved"
	case strings.ContainsAny(id, "/\\"):
		return "'/' and '\\' are not allowed"
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f {
			return "control characters are not allowed"
		}
	}
	return ""
}

// validateTask returns why a TaskInfo must be refused with TASK_ERROR, or "".
func (m *Master) validateTask(fw *framework, ti *mesos.TaskInfo, avail resSet, seen map[string]bool) string {
	if why := invalidID(ti.TaskID.Value); why != "" {
		return fmt.Sprintf("Task ID '%s' is invalid: %s", ti.TaskID.Value, why)
	}
	if t := fw.tasks[ti.TaskID.Value]; (t != nil && !t.terminal) || seen[ti.TaskID.Value] {
		return "Task has duplicate ID: " + ti.TaskID.Value
	}
	if ti.AgentID.Value != m.agentID {
		return fmt.Sprintf("Task uses agent ID %s, but the offer is from agent %s", ti.AgentID.Value, m.agentID)
	}
	if (ti.Command == nil) == (ti.Executor == nil) {
		return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
	}
	if ti.Command != nil && ti.Command.GetShell() && ti.Command.GetValue() == "" {
		return "Task's CommandInfo has no 'value' to run"
	}
	res := fromProto(ti.Resources)
	if res.empty() {
		return "Task uses no resources"
	}
	if !avail.contains(res) {
		return fmt.Sprintf("Task uses more resources %s than available %s", res, avail)
	}
	return ""
}

// acceptLocked handles ACCEPT: offers are checked and consumed, LAUNCH and LAUNCH_GROUP
// operations run in order against them, and what is left is declined under the call's filters.
func (m *Master) acceptLocked(fw *framework, a *scheduler.Call_Accept, streamID string, subNumber int) {
	avail := newResSet()
	var bad string
	seen := map[string]bool{}
	for _, id := range a.OfferIDs {
		o := m.offers[id.Value]
		switch {
		case seen[id.Value]:
			bad = "Duplicate offer " + id.Value + " in offer list"
		case o == nil || o.fwID != fw.id:
			if bad == "" {
				bad = "Offer " + id.Value + " is no longer valid"
			}
		default:
			delete(m.offers, o.id)
			avail = avail.add(o.res)
		}
		seen[id.Value] = true
	}
	if len(a.OfferIDs) == 0 {
		bad = "No offers specified"
	}
	if bad != "" {
		state := mesos.TASK_LOST
		if fw.partitionAware() {
			state = mesos.TASK_DROPPED
		}
		for _, op := range a.Operations {
			for _, ti := range launchTasks(&op) {
				m.masterUpdateLocked(fw, ti.TaskID.Value, state, mesos.REASON_INVALID_OFFERS, "Task launched with invalid offers: "+bad, false)
			}
		}
		m.log.Warn("accept with invalid offers", "framework_id", fw.id, "error", bad)
		m.wakeAllocator()
		return
	}
	launched := map[string]bool{}
	for i := range a.Operations {
		op := &a.Operations[i]
		switch op.Type {
		case mesos.Offer_Operation_LAUNCH:
			if op.Launch == nil {
				continue
			}
			for j := range op.Launch.TaskInfos {
				ti := &op.Launch.TaskInfos[j]
				if why := m.validateTask(fw, ti, avail, launched); why != "" {
					m.masterUpdateLocked(fw, ti.TaskID.Value, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID, why, false)
					continue
				}
				launched[ti.TaskID.Value] = true
				res := fromProto(ti.Resources)
				avail = avail.sub(res)
				m.launchLocked(fw, ti, res, ti.TaskID.Value, "", streamID, subNumber)
			}
		case mesos.Offer_Operation_LAUNCH_GROUP:
			if op.LaunchGroup == nil {
				continue
			}
			m.launchGroupLocked(fw, op.LaunchGroup, &avail, launched, streamID, subNumber)
		default:
			m.log.Warn("offer operation not supported by the embedded agent, skipped", "framework_id", fw.id, "type", op.Type.String())
		}
	}
	m.addFilterLocked(fw, avail, a.Filters)
	m.wakeAllocator()
}

func launchTasks(op *mesos.Offer_Operation) []mesos.TaskInfo {
	switch {
	case op.Type == mesos.Offer_Operation_LAUNCH && op.Launch != nil:
		return op.Launch.TaskInfos
	case op.Type == mesos.Offer_Operation_LAUNCH_GROUP && op.LaunchGroup != nil:
		return op.LaunchGroup.TaskGroup.Tasks
	}
	return nil
}

func (m *Master) launchGroupLocked(fw *framework, lg *mesos.Offer_Operation_LaunchGroup, avail *resSet, launched map[string]bool, streamID string, subNumber int) {
	execID := lg.Executor.ExecutorID.Value
	need := fromProto(lg.Executor.Resources)
	var why string
	if e := invalidID(execID); e != "" {
		why = fmt.Sprintf("Executor ID '%s' is invalid: %s", execID, e)
	}
	seen := map[string]bool{}
	for k := range launched {
		seen[k] = true
	}
	for j := range lg.TaskGroup.Tasks {
		ti := &lg.TaskGroup.Tasks[j]
		if why != "" {
			break
		}
		if ti.Executor != nil {
			why = "Task '" + ti.TaskID.Value + "' in a task group must not have an ExecutorInfo"
			break
		}
		if ti.Command == nil {
			ti.Command = &mesos.CommandInfo{}
		}
		if w := m.validateTask(fw, ti, (*avail).sub(need), seen); w != "" {
			why = w
			break
		}
		seen[ti.TaskID.Value] = true
		need = need.add(fromProto(ti.Resources))
	}
	if why == "" && len(lg.TaskGroup.Tasks) == 0 {
		why = "Task group is empty"
	}
	if why != "" {
		for _, ti := range lg.TaskGroup.Tasks {
			m.masterUpdateLocked(fw, ti.TaskID.Value, mesos.TASK_ERROR, mesos.REASON_TASK_GROUP_INVALID, why, false)
		}
		return
	}
	*avail = (*avail).sub(need)
	execRes := fromProto(lg.Executor.Resources)
	for j := range lg.TaskGroup.Tasks {
		ti := &lg.TaskGroup.Tasks[j]
		res := fromProto(ti.Resources)
		if j == 0 {
			res = res.add(execRes) // the executor's share rides on the first task
		}
		launched[ti.TaskID.Value] = true
		m.launchLocked(fw, ti, res, execID, execID, streamID, subNumber)
	}
}
