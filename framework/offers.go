package framework

import (
	"fmt"
	"strconv"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/relay-mesos/relay-mesos/loop"
)

// offerPool is what is left of one offer while tasks are placed on it: the scalar resource
// entries usable by the framework's role, in the offer's own form (role, reservation and
// allocation info kept, as ACCEPT requires).
type offerPool struct {
	offer   *mesos.Offer
	entries []mesos.Resource // scalar cpus/mem/disk entries, Scalar values decremented as used
}

func newOfferPool(o *mesos.Offer, role string) *offerPool {
	p := &offerPool{offer: o}
	for _, r := range o.GetResources() {
		switch r.GetName() {
		case "cpus", "mem", "disk":
		default:
			continue
		}
		if r.GetScalar() == nil || r.GetRevocable() != nil || r.GetShared() != nil || r.GetDisk() != nil {
			continue
		}
		if ai := r.GetAllocationInfo(); ai != nil && ai.GetRole() != "" && role != "" && ai.GetRole() != role && role != "*" {
			continue
		}
		p.entries = append(p.entries, r)
	}
	return p
}

// available sums the scalar entries of name across roles.
func (p *offerPool) available(name string) float64 {
	var sum float64
	for _, r := range p.entries {
		if r.GetName() == name {
			sum += r.GetScalar().GetValue()
		}
	}
	return sum
}

// fits reports how many units of need fit in what is left.
func (p *offerPool) fits(need Resources) int {
	n := 1 << 30
	for _, x := range []struct {
		name string
		v    float64
	}{{"cpus", need.CPUs}, {"mem", need.Mem}, {"disk", need.Disk}} {
		if x.v <= 0 {
			continue
		}
		// A small epsilon: Mesos scalars are fixed-point with three decimals.
		n = min(n, int((p.available(x.name)+1e-4)/x.v))
	}
	return n
}

// take removes one unit of need from the pool and returns the resources to put in a
// TaskInfo. Call only when fits(need) >= 1.
func (p *offerPool) take(need Resources) []mesos.Resource {
	var out []mesos.Resource
	for _, x := range []struct {
		name string
		v    float64
	}{{"cpus", need.CPUs}, {"mem", need.Mem}, {"disk", need.Disk}} {
		left := x.v
		for i := range p.entries {
			if left <= 1e-9 {
				break
			}
			e := &p.entries[i]
			if e.GetName() != x.name {
				continue
			}
			have := e.GetScalar().GetValue()
			if have <= 1e-9 {
				continue
			}
			use := min(have, left)
			r := *e
			r.Scalar = &mesos.Value_Scalar{Value: use}
			out = append(out, r)
			e.Scalar = &mesos.Value_Scalar{Value: have - use}
			left -= use
		}
	}
	return out
}

// attributes returns the offer's attributes as text, with "hostname" added.
func attributes(o *mesos.Offer) map[string]string {
	out := map[string]string{"hostname": o.GetHostname()}
	for _, a := range o.GetAttributes() {
		switch {
		case a.GetText() != nil:
			out[a.GetName()] = a.GetText().GetValue()
		case a.GetScalar() != nil:
			out[a.GetName()] = strconv.FormatFloat(a.GetScalar().GetValue(), 'f', -1, 64)
		default:
			out[a.GetName()] = a.String()
		}
	}
	return out
}

// matches reports whether the offer's agent satisfies every constraint.
func matches(o *mesos.Offer, cs []Constraint) bool {
	if len(cs) == 0 {
		return true
	}
	attrs := attributes(o)
	for _, c := range cs {
		if !c.Match(attrs) {
			return false
		}
	}
	return true
}

// taskInfo builds the TaskInfo of one unit.
func (s *Scheduler) taskInfo(rec TaskRecord, agent mesos.AgentID, res []mesos.Resource) mesos.TaskInfo {
	cmd := s.cfg.Warmer
	if rec.Kind == loop.Cooler {
		cmd = s.cfg.Cooler
	}
	shell := true
	ci := &mesos.CommandInfo{Value: &cmd, Shell: &shell}
	vars := []mesos.Environment_Variable{
		envVar("RELAY_MESOS_KIND", rec.Kind.String()),
		envVar("RELAY_MESOS_TERM", strconv.FormatInt(rec.Term, 10)),
	}
	for _, k := range sortedKeys(s.cfg.Env) {
		vars = append(vars, envVar(k, s.cfg.Env[k]))
	}
	ci.Environment = &mesos.Environment{Variables: vars}
	for _, u := range s.cfg.URIs {
		ci.URIs = append(ci.URIs, mesos.CommandInfo_URI{Value: u})
	}
	kind, term := rec.Kind.String(), strconv.FormatInt(rec.Term, 10)
	ti := mesos.TaskInfo{
		Name:      fmt.Sprintf("%s %s", s.cfg.Name, rec.Kind),
		TaskID:    mesos.TaskID{Value: rec.ID},
		AgentID:   agent,
		Resources: res,
		Command:   ci,
		Labels: &mesos.Labels{Labels: []mesos.Label{
			{Key: "relay-mesos/kind", Value: &kind},
			{Key: "relay-mesos/term", Value: &term},
		}},
	}
	if s.cfg.KillGrace > 0 {
		ti.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: s.cfg.KillGrace.Nanoseconds()}}
	}
	if d := s.cfg.Docker; d != nil && d.Image != "" {
		typ := mesos.ContainerInfo_DOCKER
		net := mesos.ContainerInfo_DockerInfo_BRIDGE
		switch d.Network {
		case "HOST":
			net = mesos.ContainerInfo_DockerInfo_HOST
		case "NONE":
			net = mesos.ContainerInfo_DockerInfo_NONE
		case "USER":
			net = mesos.ContainerInfo_DockerInfo_USER
		}
		force := d.ForcePull
		di := &mesos.ContainerInfo_DockerInfo{Image: d.Image, Network: &net, ForcePullImage: &force}
		for _, k := range sortedKeys(d.Parameters) {
			di.Parameters = append(di.Parameters, mesos.Parameter{Key: k, Value: d.Parameters[k]})
		}
		c := &mesos.ContainerInfo{Type: &typ, Docker: di}
		for _, v := range d.Volumes {
			mode := mesos.RW
			if v.ReadOnly {
				mode = mesos.RO
			}
			hp := v.HostPath
			c.Volumes = append(c.Volumes, mesos.Volume{Mode: &mode, ContainerPath: v.ContainerPath, HostPath: &hp})
		}
		ti.Container = c
	}
	return ti
}

func envVar(k, v string) mesos.Environment_Variable {
	return mesos.Environment_Variable{Name: k, Value: &v}
}
