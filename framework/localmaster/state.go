package localmaster

import (
	"sort"
	"time"
)

// State is what GET /state returns and Snapshot gives: frameworks, live and completed
// tasks, the agent's resources, outstanding offers and the launches log.
type State struct {
	MasterID            string           `json:"master_id"`
	Version             string           `json:"version"`
	URL                 string           `json:"url"`
	StartedAt           time.Time        `json:"started_at"`
	Agent               AgentState       `json:"agent"`
	Frameworks          []FrameworkState `json:"frameworks"`
	CompletedFrameworks []FrameworkState `json:"completed_frameworks"`
	Tasks               []TaskState      `json:"tasks"`
	CompletedTasks      []TaskState      `json:"completed_tasks"`
	Offers              []OfferState     `json:"offers"`
	Launches            []Launch         `json:"launches"`
}

// AgentState is the single agent. Scalars by name; ranges (ports) as their count of values.
type AgentState struct {
	ID       string             `json:"id"`
	Hostname string             `json:"hostname"`
	Total    map[string]float64 `json:"total"`
	Used     map[string]float64 `json:"used"`
	Offered  map[string]float64 `json:"offered"`
	Spec     string             `json:"spec"` // the total in Config.Resources syntax
}

// FrameworkState is one framework.
type FrameworkState struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	User            string         `json:"user"`
	Roles           []string       `json:"roles"`
	Active          bool           `json:"active"`    // connected and offered resources
	Connected       bool           `json:"connected"` // has a live subscription stream
	Suppressed      []string       `json:"suppressed_roles"`
	FailoverTimeout float64        `json:"failover_timeout"` // seconds
	StreamID        string         `json:"stream_id,omitempty"`
	Subscriptions   []Subscription `json:"subscriptions"`
	RegisteredAt    time.Time      `json:"registered_at"`
	DisconnectedAt  *time.Time     `json:"disconnected_at,omitempty"`
	RemovedAt       *time.Time     `json:"removed_at,omitempty"`
	Filters         int            `json:"active_filters"`
}

// Subscription is one SUBSCRIBE that got a stream: number 1 is the first.
type Subscription struct {
	StreamID string    `json:"stream_id"`
	Number   int       `json:"number"`
	At       time.Time `json:"at"`
}

// TaskState is one task.
type TaskState struct {
	ID                     string             `json:"id"`
	FrameworkID            string             `json:"framework_id"`
	Name                   string             `json:"name"`
	State                  string             `json:"state"`
	Message                string             `json:"message,omitempty"`
	AgentID                string             `json:"agent_id"`
	ExecutorID             string             `json:"executor_id"`
	Labels                 map[string]string  `json:"labels,omitempty"`
	Resources              map[string]float64 `json:"resources"`
	LaunchedAt             time.Time          `json:"launched_at"`
	EndedAt                *time.Time         `json:"ended_at,omitempty"`
	LaunchedByStream       string             `json:"launched_by_stream"`
	LaunchedBySubscription int                `json:"launched_by_subscription"`
	PID                    int                `json:"pid"`
	Sandbox                string             `json:"sandbox"`
	Adopted                bool               `json:"adopted,omitempty"`
	UnackedUpdates         int                `json:"unacked_updates"`
}

// OfferState is one outstanding offer.
type OfferState struct {
	ID          string             `json:"id"`
	FrameworkID string             `json:"framework_id"`
	Role        string             `json:"role"`
	Resources   map[string]float64 `json:"resources"`
	At          time.Time          `json:"at"`
}

// Launch is one entry of the launches log: which subscription launched which task.
type Launch struct {
	TaskID       string    `json:"task_id"`
	FrameworkID  string    `json:"framework_id"`
	StreamID     string    `json:"stream_id"`
	Subscription int       `json:"subscription"`
	At           time.Time `json:"at"`
}

// Snapshot returns the same data as GET /state.
func (m *Master) Snapshot() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{
		MasterID:  m.masterID,
		Version:   Version,
		URL:       m.URL(),
		StartedAt: m.startedAt,
		Agent: AgentState{
			ID: m.agentID, Hostname: m.cfg.Hostname, Spec: m.total.String(),
			Total: m.total.amounts(), Used: m.usedLocked().amounts(), Offered: m.offeredLocked().amounts(),
		},
		Frameworks:          []FrameworkState{},
		CompletedFrameworks: append([]FrameworkState{}, m.completedFw...),
		Tasks:               []TaskState{},
		CompletedTasks:      append([]TaskState{}, m.completed.items...),
		Offers:              []OfferState{},
		Launches:            append([]Launch{}, m.launches.items...),
	}
	ids := make([]string, 0, len(m.frameworks))
	for id := range m.frameworks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fw := m.frameworks[id]
		st.Frameworks = append(st.Frameworks, m.frameworkStateLocked(fw))
		for _, t := range fw.sortedTasks() {
			st.Tasks = append(st.Tasks, m.taskStateLocked(t))
		}
	}
	for _, o := range m.offersByAgeLocked() {
		st.Offers = append(st.Offers, OfferState{ID: o.id, FrameworkID: o.fwID, Role: o.role, Resources: o.res.amounts(), At: o.at})
	}
	return st
}

func (m *Master) frameworkStateLocked(fw *framework) FrameworkState {
	fs := FrameworkState{
		ID: fw.id, Name: fw.info.Name, User: fw.info.User, Roles: fw.roles(),
		Connected: fw.stream != nil, FailoverTimeout: fw.info.GetFailoverTimeout(),
		Subscriptions: append([]Subscription{}, fw.subs...), RegisteredAt: fw.registeredAt,
		Suppressed: []string{},
	}
	fs.Active = fs.Connected && fw.offerRole() != ""
	if fw.stream != nil {
		fs.StreamID = fw.stream.id
	} else if !fw.disconnectedAt.IsZero() {
		fs.DisconnectedAt = ptr(fw.disconnectedAt)
	}
	for r := range fw.suppressed {
		fs.Suppressed = append(fs.Suppressed, r)
	}
	sort.Strings(fs.Suppressed)
	now := m.now()
	for _, f := range fw.filters {
		if now.Before(f.until) {
			fs.Filters++
		}
	}
	return fs
}

func (m *Master) taskStateLocked(t *task) TaskState {
	ts := TaskState{
		ID: t.id, FrameworkID: t.fwID, Name: t.info.Name, State: t.state.String(), Message: t.message,
		AgentID: m.agentID, ExecutorID: t.executorID, Resources: t.res.amounts(), LaunchedAt: t.launchedAt,
		LaunchedByStream: t.stream, LaunchedBySubscription: t.subNumber, PID: t.pid, Sandbox: t.sandbox,
		Adopted: t.adopted, UnackedUpdates: len(t.pending),
	}
	if !t.endedAt.IsZero() {
		ts.EndedAt = ptr(t.endedAt)
	}
	if t.info.Labels != nil && len(t.info.Labels.Labels) > 0 {
		ts.Labels = map[string]string{}
		for _, l := range t.info.Labels.Labels {
			ts.Labels[l.Key] = l.GetValue()
		}
	}
	return ts
}
