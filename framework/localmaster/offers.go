package localmaster

import (
	"fmt"
	"sort"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// offer is an outstanding offer of the agent's resources to one framework.
type offer struct {
	id   string
	fwID string
	role string
	res  resSet
	at   time.Time
	seq  int
}

// refuseFilter keeps resources away from a framework until it expires, as the Mesos
// allocator's refused-offer filter does: an offer is filtered when the refused resources
// contain everything that would be offered.
type refuseFilter struct {
	res   resSet
	until time.Time
}

const maxRefuse = 365 * 24 * time.Hour

// refuseDuration reads filters.refuse_seconds: unset or negative means the default 5 s,
// values above a year are capped.
func refuseDuration(f *mesos.Filters) time.Duration {
	secs := f.GetRefuseSeconds()
	if secs < 0 {
		secs = mesos.Default_Filters_RefuseSeconds
	}
	d := time.Duration(secs * float64(time.Second))
	if secs > maxRefuse.Seconds() {
		d = maxRefuse
	}
	return d
}

func (m *Master) addFilterLocked(fw *framework, res resSet, f *mesos.Filters) {
	d := refuseDuration(f)
	if d <= 0 || res.empty() {
		return
	}
	fw.filters = append(fw.filters, refuseFilter{res: res, until: m.now().Add(d)})
}

func (fw *framework) filtered(res resSet, now time.Time) bool {
	kept := fw.filters[:0]
	hit := false
	for _, f := range fw.filters {
		if !now.Before(f.until) {
			continue
		}
		kept = append(kept, f)
		if f.res.contains(res) {
			hit = true
		}
	}
	fw.filters = kept
	return hit
}

func (m *Master) usedLocked() resSet {
	used := newResSet()
	for _, fw := range m.frameworks {
		for _, t := range fw.tasks {
			if !t.terminal {
				used.addIn(t.res)
			}
		}
	}
	return used.merged()
}

func (m *Master) offeredLocked() resSet {
	off := newResSet()
	for _, o := range m.offers {
		off = off.add(o.res)
	}
	return off
}

func (m *Master) offersByAgeLocked() []*offer {
	out := make([]*offer, 0, len(m.offers))
	for _, o := range m.offers {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// allocate offers the agent's free resources to the next eligible framework (round-robin):
// connected, with an unsuppressed role, no outstanding offer and no refuse filter covering
// the resources. One offer per agent and framework at a time.
func (m *Master) allocate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || len(m.fwOrder) == 0 {
		return
	}
	free := m.total.sub(m.usedLocked()).sub(m.offeredLocked())
	if !free.allocatable() {
		return
	}
	now := m.now()
	n := len(m.fwOrder)
	for i := 0; i < n; i++ {
		idx := (m.rr + i) % n
		fw := m.frameworks[m.fwOrder[idx]]
		if fw == nil || fw.stream == nil {
			continue
		}
		role := fw.offerRole()
		if role == "" || m.hasOfferLocked(fw) || fw.filtered(free, now) {
			continue
		}
		m.offerSeq++
		o := &offer{id: fmt.Sprintf("%s-O%d", m.masterID, m.offerSeq), fwID: fw.id, role: role, res: free, at: now, seq: m.offerSeq}
		m.offers[o.id] = o
		m.rr = (idx + 1) % n
		allocRole := ""
		if fw.hasCap(mesos.FrameworkInfo_Capability_MULTI_ROLE) {
			allocRole = role
		}
		port := int32(0)
		if _, p, err := splitHostPort(m.Addr()); err == nil {
			port = int32(p)
		}
		pb := mesos.Offer{
			ID:          mesos.OfferID{Value: o.id},
			FrameworkID: mesos.FrameworkID{Value: fw.id},
			AgentID:     mesos.AgentID{Value: m.agentID},
			Hostname:    m.cfg.Hostname,
			URL: &mesos.URL{Scheme: "http", Path: ptr("/slave(1)"),
				Address: mesos.Address{Hostname: ptr(m.cfg.Hostname), IP: ptr("127.0.0.1"), Port: port}},
			Resources: free.toProto(allocRole),
		}
		if allocRole != "" {
			pb.AllocationInfo = &mesos.Resource_AllocationInfo{Role: ptr(allocRole)}
		}
		fw.stream.send(&scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: []mesos.Offer{pb}}})
		m.log.Debug("offer sent", "framework_id", fw.id, "offer_id", o.id, "resources", free.String())
		return
	}
}

func (m *Master) hasOfferLocked(fw *framework) bool {
	for _, o := range m.offers {
		if o.fwID == fw.id {
			return true
		}
	}
	return false
}

// dropOffersLocked takes back fw's offers without telling it (its stream is gone or new).
func (m *Master) dropOffersLocked(fw *framework) {
	for id, o := range m.offers {
		if o.fwID == fw.id {
			delete(m.offers, id)
		}
	}
}

// rescindLocked takes back an offer and tells its framework with RESCIND.
func (m *Master) rescindLocked(o *offer) {
	delete(m.offers, o.id)
	if fw := m.frameworks[o.fwID]; fw != nil && fw.stream != nil {
		fw.stream.send(&scheduler.Event{Type: scheduler.Event_RESCIND, Rescind: &scheduler.Event_Rescind{OfferID: mesos.OfferID{Value: o.id}}})
	}
	m.log.Info("offer rescinded", "offer_id", o.id, "framework_id", o.fwID)
}

func (m *Master) declineLocked(fw *framework, d *scheduler.Call_Decline) {
	for _, id := range d.OfferIDs {
		o := m.offers[id.Value]
		if o == nil || o.fwID != fw.id {
			m.log.Debug("decline of an unknown offer ignored", "framework_id", fw.id, "offer_id", id.Value)
			continue
		}
		delete(m.offers, o.id)
		m.addFilterLocked(fw, o.res, d.Filters)
	}
	m.wakeAllocator()
}

// reviveLocked clears fw's filters and un-suppresses roles (all when none are named).
func (m *Master) reviveLocked(fw *framework, roles []string) {
	fw.filters = nil
	if len(roles) == 0 {
		fw.suppressed = map[string]bool{}
	}
	for _, r := range roles {
		delete(fw.suppressed, r)
	}
	m.wakeAllocator()
}

func (m *Master) suppressLocked(fw *framework, roles []string) {
	if len(roles) == 0 {
		roles = fw.roles()
	}
	if fw.suppressed == nil {
		fw.suppressed = map[string]bool{}
	}
	for _, r := range roles {
		fw.suppressed[r] = true
	}
}
