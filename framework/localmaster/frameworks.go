package localmaster

import (
	"fmt"
	"net"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// framework is the master's view of one framework.
type framework struct {
	id              string
	info            mesos.FrameworkInfo
	stream          *stream // current subscription; nil while disconnected
	subs            []Subscription
	suppressed      map[string]bool
	filters         []refuseFilter
	tasks           map[string]*task
	registeredAt    time.Time
	disconnectedAt  time.Time
	timer           *time.Timer
	disconnectEpoch int
}

func (fw *framework) failoverTimeout() time.Duration {
	return time.Duration(fw.info.GetFailoverTimeout() * float64(time.Second))
}

func (fw *framework) hasCap(c mesos.FrameworkInfo_Capability_Type) bool {
	for _, x := range fw.info.Capabilities {
		if x.Type == c {
			return true
		}
	}
	return false
}

func (fw *framework) partitionAware() bool {
	return fw.hasCap(mesos.FrameworkInfo_Capability_PARTITION_AWARE)
}

// roles are the framework's roles: FrameworkInfo.roles with MULTI_ROLE, else its role ("*").
func (fw *framework) roles() []string {
	if fw.hasCap(mesos.FrameworkInfo_Capability_MULTI_ROLE) && len(fw.info.Roles) > 0 {
		return fw.info.Roles
	}
	if fw.info.Role != nil && *fw.info.Role != "" {
		return []string{*fw.info.Role}
	}
	return []string{"*"}
}

// offerRole is the first unsuppressed role, or "" when every role is suppressed.
func (fw *framework) offerRole() string {
	for _, r := range fw.roles() {
		if !fw.suppressed[r] {
			return r
		}
	}
	return ""
}

func (fw *framework) setSuppressed(roles []string) {
	fw.suppressed = map[string]bool{}
	for _, r := range roles {
		fw.suppressed[r] = true
	}
}

func (m *Master) masterInfo() *mesos.MasterInfo {
	host, portS, _ := net.SplitHostPort(m.Addr())
	port, _ := strconv.Atoi(portS)
	ip := net.ParseIP(host).To4()
	var ipNum uint32
	if ip != nil {
		// Mesos packs the IPv4 address in network byte order into a little-endian uint32.
		ipNum = uint32(ip[0]) | uint32(ip[1])<<8 | uint32(ip[2])<<16 | uint32(ip[3])<<24
	}
	return &mesos.MasterInfo{
		ID:       m.masterID,
		IP:       ipNum,
		Port:     ptr(uint32(port)),
		PID:      ptr("master@" + m.Addr()),
		Hostname: ptr(m.cfg.Hostname),
		Version:  ptr(Version),
		Address:  &mesos.Address{Hostname: ptr(m.cfg.Hostname), IP: ptr(host), Port: int32(port)},
		Capabilities: []mesos.MasterInfo_Capability{
			{Type: mesos.MasterInfo_Capability_AGENT_UPDATE},
			{Type: mesos.MasterInfo_Capability_AGENT_DRAINING},
		},
	}
}

// subscribe registers or re-registers a framework and returns its new stream, whose first
// events are SUBSCRIBED and HEARTBEAT (or a single ERROR for a removed framework).
func (m *Master) subscribe(sub *scheduler.Call_Subscribe, contentType string) (*stream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return nil, errStopped
	}
	info := *sub.FrameworkInfo
	id := info.GetID().GetValue()
	if id != "" {
		if _, gone := m.removed[id]; gone {
			s := newStream(id, contentType, 0)
			s.send(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: "Framework has been removed"}})
			s.close(false)
			m.log.Warn("subscribe of a removed framework refused", "framework_id", id)
			return s, nil
		}
	}
	now := m.now()
	fw := m.frameworks[id]
	if fw == nil {
		if id == "" {
			m.fwSeq++
			id = fmt.Sprintf("%s-%04d", m.masterID, m.fwSeq)
		}
		fw = &framework{id: id, tasks: map[string]*task{}, registeredAt: now}
		m.frameworks[id] = fw
		m.fwOrder = append(m.fwOrder, id)
	}
	info.ID = frameworkID(id)
	fw.info = info
	fw.setSuppressed(sub.SuppressedRoles)
	if fw.timer != nil {
		fw.timer.Stop()
		fw.timer = nil
	}
	fw.disconnectEpoch++
	m.dropOffersLocked(fw)
	if old := fw.stream; old != nil {
		old.send(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: "Framework failed over"}})
		old.close(false)
		m.log.Info("framework failed over", "framework_id", id, "old_stream_id", old.id)
	} else {
		fw.filters = nil
	}
	number := 1
	if n := len(fw.subs); n > 0 {
		number = fw.subs[n-1].Number + 1
	}
	s := newStream(id, contentType, number)
	fw.stream = s
	m.streams[s] = struct{}{}
	fw.subs = append(fw.subs, Subscription{StreamID: s.id, Number: number, At: now})
	if len(fw.subs) > maxSubscriptions {
		fw.subs = fw.subs[len(fw.subs)-maxSubscriptions:]
	}
	hb := m.cfg.Heartbeat.Seconds()
	s.send(&scheduler.Event{Type: scheduler.Event_SUBSCRIBED, Subscribed: &scheduler.Event_Subscribed{
		FrameworkID: frameworkID(id), HeartbeatIntervalSeconds: &hb, MasterInfo: m.masterInfo(),
	}})
	s.send(&scheduler.Event{Type: scheduler.Event_HEARTBEAT})
	for _, t := range fw.sortedTasks() {
		if len(t.pending) > 0 {
			m.forwardLocked(fw, t)
		}
	}
	m.persistLocked()
	m.log.Info("framework subscribed", "framework_id", id, "name", info.Name, "stream_id", s.id,
		"subscription", number, "failover_timeout", fw.failoverTimeout())
	m.wakeAllocator()
	return s, nil
}

// disconnectLocked marks fw disconnected: its offers go back, its filters are cleared and
// the failover timer starts.
func (m *Master) disconnectLocked(fw *framework) {
	fw.stream = nil
	fw.disconnectedAt = m.now()
	fw.disconnectEpoch++
	m.dropOffersLocked(fw)
	fw.filters = nil
	if m.stopped {
		return
	}
	m.startFailoverTimerLocked(fw)
}

func (m *Master) startFailoverTimerLocked(fw *framework) {
	d := fw.failoverTimeout()
	epoch := fw.disconnectEpoch
	id := fw.id
	m.log.Info("giving framework time to fail over", "framework_id", id, "failover_timeout", d)
	if fw.timer != nil {
		fw.timer.Stop()
	}
	fw.timer = time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		fw := m.frameworks[id]
		if m.stopped || fw == nil || fw.stream != nil || fw.disconnectEpoch != epoch {
			return
		}
		m.log.Info("framework failover timeout, removing framework", "framework_id", id)
		m.removeFrameworkLocked(fw)
	})
}

// removeFrameworkLocked tears fw down: its tasks are killed, its stream closed, its id
// refused from now on.
func (m *Master) removeFrameworkLocked(fw *framework) {
	if fw.timer != nil {
		fw.timer.Stop()
	}
	m.dropOffersLocked(fw)
	for _, t := range fw.sortedTasks() {
		t.pending = nil
		if t.terminal {
			m.completeTaskLocked(fw, t)
			continue
		}
		t.removed = true
		m.killLocked(fw, t, 0)
	}
	if fw.stream != nil {
		fw.stream.close(false)
		fw.stream = nil
	}
	delete(m.frameworks, fw.id)
	for i, id := range m.fwOrder {
		if id == fw.id {
			m.fwOrder = append(m.fwOrder[:i], m.fwOrder[i+1:]...)
			break
		}
	}
	m.removed[fw.id] = m.now()
	st := m.frameworkStateLocked(fw)
	st.Active, st.Connected = false, false
	st.RemovedAt = ptr(m.now())
	m.completedFw = append(m.completedFw, st)
	if len(m.completedFw) > 100 {
		m.completedFw = m.completedFw[1:]
	}
	m.persistLocked()
	m.log.Info("framework removed", "framework_id", fw.id)
}

// updateFramework applies UPDATE_FRAMEWORK; user and checkpoint may not change.
func (m *Master) updateFrameworkLocked(fw *framework, u *scheduler.Call_UpdateFramework) error {
	info := u.FrameworkInfo
	if info.GetID().GetValue() != fw.id {
		return fmt.Errorf("'framework_info.id' differs from 'framework_id'")
	}
	if info.User != fw.info.User {
		return fmt.Errorf("Updating 'FrameworkInfo.user' is unsupported")
	}
	if info.GetCheckpoint() != fw.info.GetCheckpoint() {
		return fmt.Errorf("Updating 'FrameworkInfo.checkpoint' is unsupported")
	}
	fw.info = info
	fw.setSuppressed(u.SuppressedRoles)
	m.persistLocked()
	m.wakeAllocator()
	return nil
}
