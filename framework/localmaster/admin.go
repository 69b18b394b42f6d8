package localmaster

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// POST /admin/resources?spec=cpus:0;mem:0 sets the agent's resources (see SetResources).
func (m *Master) handleAdminResources(w http.ResponseWriter, r *http.Request) {
	if !adminPost(w, r) {
		return
	}
	// Go's URL parsing drops a query pair holding a raw ';' (cpus:0;mem:0 as users type it),
	// which left the spec empty and took every resource away; the raw query is read instead.
	spec := r.URL.Query().Get("spec")
	if raw, ok := strings.CutPrefix(r.URL.RawQuery, "spec="); spec == "" && ok {
		if v, err := url.QueryUnescape(raw); err == nil {
			spec = v
		}
	}
	if spec == "" {
		writeText(w, http.StatusBadRequest, "spec: required (e.g. spec=cpus:0;mem:0)")
		return
	}
	if err := m.SetResources(spec); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	m.mu.Lock()
	now := m.total.String()
	m.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"resources": now})
}

// POST /admin/lose-tasks?n=N kills -9 up to N running tasks (oldest first) and reports each
// TASK_LOST (REASON_AGENT_DISCONNECTED, from the master, no uuid: not retried), as if
// their agent had been lost.
func (m *Master) handleAdminLoseTasks(w http.ResponseWriter, r *http.Request) {
	if !adminPost(w, r) {
		return
	}
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 {
		writeText(w, http.StatusBadRequest, "n: want a non-negative integer")
		return
	}
	lost := m.LoseTasks(n)
	writeJSON(w, http.StatusOK, map[string]any{"lost": lost})
}

// LoseTasks is POST /admin/lose-tasks: it kills -9 up to n running tasks and reports them
// TASK_LOST. It returns the ids of the lost tasks.
func (m *Master) LoseTasks(n int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	lost := []string{}
	var cands []*task
	for _, id := range m.fwOrder {
		fw := m.frameworks[id]
		if fw == nil {
			continue
		}
		for _, t := range fw.sortedTasks() {
			if !t.terminal && t.pid > 0 {
				cands = append(cands, t)
			}
		}
	}
	for _, t := range cands {
		if len(lost) >= n {
			break
		}
		fw := m.frameworks[t.fwID]
		t.signal(true)
		t.state = mesos.TASK_LOST
		t.message = "Task lost: agent disconnected (admin fault hook)"
		t.terminal = true
		t.endedAt = m.now()
		t.pending = nil
		m.masterUpdateLocked(fw, t.id, mesos.TASK_LOST, mesos.REASON_AGENT_DISCONNECTED, t.message, true)
		m.completeTaskLocked(fw, t)
		lost = append(lost, t.id)
		m.log.Info("task lost by admin hook", "framework_id", fw.id, "task_id", t.id)
	}
	m.wakeAllocator()
	return lost
}

// POST /admin/drop-streams closes every subscriber's connection abruptly, as if the network
// broke: the frameworks become disconnected and their failover timers start.
func (m *Master) handleAdminDropStreams(w http.ResponseWriter, r *http.Request) {
	if !adminPost(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"dropped": m.DropStreams()})
}

// DropStreams is POST /admin/drop-streams; it returns how many streams were dropped.
func (m *Master) DropStreams() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for s := range m.streams {
		s.close(true)
		n++
	}
	m.log.Info("streams dropped by admin hook", "count", n)
	return n
}

func adminPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeText(w, http.StatusMethodNotAllowed, "405 Method Not Allowed. Expecting one of { 'POST' }, but received '"+r.Method+"'.")
		return false
	}
	return true
}
