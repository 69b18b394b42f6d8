package framework

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// scalar is one scalar resource entry; role "" is unreserved.
func scalar(name string, v float64, alloc, reservedFor string) mesos.Resource {
	typ := mesos.SCALAR
	r := mesos.Resource{Name: name, Type: &typ, Scalar: &mesos.Value_Scalar{Value: v}}
	if alloc != "" {
		r.AllocationInfo = &mesos.Resource_AllocationInfo{Role: &alloc}
	}
	if reservedFor != "" {
		r.Reservations = []mesos.Resource_ReservationInfo{{Role: &reservedFor}}
	}
	return r
}

func textAttr(name, v string) mesos.Attribute {
	typ := mesos.TEXT
	return mesos.Attribute{Name: name, Type: typ, Text: &mesos.Value_Text{Value: v}}
}

func testOffer(id, agent string, res ...mesos.Resource) mesos.Offer {
	return mesos.Offer{ID: mesos.OfferID{Value: id}, AgentID: mesos.AgentID{Value: agent}, Hostname: agent + ".example", Resources: res}
}

// sum of the entries of name.
func sum(rs []mesos.Resource, name string) float64 {
	var s float64
	for _, r := range rs {
		if r.GetName() == name {
			s += r.GetScalar().GetValue()
		}
	}
	return s
}

func TestOfferPool(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		role string
		res  []mesos.Resource
		need Resources
		fits int
	}{
		{"unreserved and reserved entries are summed", "relay",
			[]mesos.Resource{scalar("cpus", 0.5, "relay", ""), scalar("cpus", 0.5, "relay", "relay"), scalar("mem", 1024, "relay", "")},
			Resources{CPUs: 0.4, Mem: 100}, 2}, // 1.0 cpus / 0.4
		{"mem limits", "*",
			[]mesos.Resource{scalar("cpus", 4, "", ""), scalar("mem", 250, "", "")},
			Resources{CPUs: 0.1, Mem: 100}, 2},
		{"disk limits", "*",
			[]mesos.Resource{scalar("cpus", 4, "", ""), scalar("mem", 4096, "", ""), scalar("disk", 50, "", "")},
			Resources{CPUs: 0.1, Mem: 10, Disk: 20}, 2},
		{"another role's allocation is not ours", "relay",
			[]mesos.Resource{scalar("cpus", 4, "other", ""), scalar("mem", 4096, "other", ""), scalar("cpus", 0.2, "relay", ""), scalar("mem", 4096, "relay", "")},
			Resources{CPUs: 0.1, Mem: 10}, 2},
		{"fixed-point three decimals", "*",
			[]mesos.Resource{scalar("cpus", 0.3, "", ""), scalar("mem", 96, "", "")},
			Resources{CPUs: 0.1, Mem: 32}, 3},
		{"nothing", "*", nil, Resources{CPUs: 0.1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOffer("o1", "a1", tc.res...)
			p := newOfferPool(&o, tc.role)
			if got := p.fits(tc.need); got != tc.fits {
				t.Fatalf("fits = %d, want %d", got, tc.fits)
			}
			for i := 0; i < tc.fits; i++ {
				got := p.take(tc.need)
				for _, x := range []struct {
					name string
					v    float64
				}{{"cpus", tc.need.CPUs}, {"mem", tc.need.Mem}, {"disk", tc.need.Disk}} {
					if s := sum(got, x.name); math.Abs(s-x.v) > 1e-9 {
						t.Errorf("unit %d: %s %v, want %v (%v)", i, x.name, s, x.v, got)
					}
				}
				for _, r := range got {
					if tc.role != "*" && r.GetAllocationInfo().GetRole() != tc.role {
						t.Errorf("unit %d takes %v, allocated to another role", i, r)
					}
				}
			}
			if got := p.fits(tc.need); got != 0 {
				t.Errorf("after taking %d units, %d more fit", tc.fits, got)
			}
		})
	}
	// A unit spanning a reserved and an unreserved entry keeps each entry's reservation.
	o := testOffer("o1", "a1", scalar("cpus", 0.3, "relay", ""), scalar("cpus", 0.3, "relay", "relay"), scalar("mem", 100, "relay", ""))
	p := newOfferPool(&o, "relay")
	p.take(Resources{CPUs: 0.2, Mem: 10})
	got := p.take(Resources{CPUs: 0.2, Mem: 10})
	var reserved, unreserved float64
	for _, r := range got {
		if r.GetName() != "cpus" {
			continue
		}
		if len(r.Reservations) > 0 {
			reserved += r.GetScalar().GetValue()
		} else {
			unreserved += r.GetScalar().GetValue()
		}
	}
	if math.Abs(reserved-0.1) > 1e-9 || math.Abs(unreserved-0.1) > 1e-9 {
		t.Errorf("second unit takes %v reserved and %v unreserved cpus, want 0.1 and 0.1", reserved, unreserved)
	}
}

func TestConstraints(t *testing.T) {
	t.Parallel()
	o := testOffer("o1", "a1")
	o.Hostname = "node-7.rack2"
	typ := mesos.SCALAR
	o.Attributes = []mesos.Attribute{textAttr("rack", "r2"), textAttr("zone", "eu-west-1a"),
		{Name: "gen", Type: typ, Scalar: &mesos.Value_Scalar{Value: 3}}}
	for _, tc := range []struct {
		spec string
		want bool
	}{
		{"rack:EQ:r2", true},
		{"rack:EQ:r1", false},
		{"rack:eq:r2", true}, // operators in any case
		{"missing:EQ:x", false},
		{"zone:LIKE:eu-.*", true},
		{"zone:LIKE:eu", false}, // whole value
		{"zone:UNLIKE:us-.*", true},
		{"zone:UNLIKE:eu-.*", false},
		{"missing:UNLIKE:x", true},
		{"hostname:LIKE:node-[0-9]+\\.rack2", true},
		{"gen:EQ:3", true},
		{"rack:EQ:r2,zone:LIKE:us-.*", false}, // all must hold
		{"rack:EQ:r2,zone:LIKE:eu-.*", true},
		{"", true},
	} {
		cs, err := ParseConstraints(tc.spec)
		if err != nil {
			t.Fatalf("ParseConstraints(%q): %v", tc.spec, err)
		}
		if got := matches(&o, cs); got != tc.want {
			t.Errorf("%q matches = %v, want %v", tc.spec, got, tc.want)
		}
	}
}

// Every parse error is ErrConfig and names the bad entry.
func TestParseErrorsNameTheEntry(t *testing.T) {
	t.Parallel()
	envDir := t.TempDir()
	envFile := func(content string) string {
		p := filepath.Join(envDir, "env")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		parse func() error
		bad   string
	}{
		{"resources not a number", func() error { _, err := ParseResources("cpus:0.1;mem:lots"); return err }, "mem:lots"},
		{"resources negative", func() error { _, err := ParseResources("cpus:-1"); return err }, "cpus:-1"},
		{"resources NaN", func() error { _, err := ParseResources("cpus:NaN;mem:32"); return err }, "cpus:NaN"},
		{"resources Inf", func() error { _, err := ParseResources("mem:+Inf"); return err }, "mem:+Inf"},
		{"resources no value", func() error { _, err := ParseResources("cpus"); return err }, "cpus"},
		{"resources unknown", func() error { _, err := ParseResources("cpus:1;gpus:1"); return err }, "gpus"},
		{"constraint fields", func() error { _, err := ParseConstraints("rack:EQ:r1,zone:EQ"); return err }, "zone:EQ"},
		{"constraint op", func() error { _, err := ParseConstraints("rack:GT:1"); return err }, "rack:GT:1"},
		{"constraint regexp", func() error { _, err := ParseConstraints("rack:LIKE:r[1"); return err }, "rack:LIKE:r[1"},
		{"volume fields", func() error { _, err := ParseVolumes("/a:/b:RO,/c"); return err }, "/c"},
		{"volume mode", func() error { _, err := ParseVolumes("/a:/b:XX"); return err }, "/a:/b:XX"},
		{"parameter", func() error { _, err := ParseParameters("a=1,oops"); return err }, "oops"},
		{"env line", func() error { return ParseEnvFile(envFile("A=1\n# c\nNOT A PAIR\n"), map[string]string{}) }, "NOT A PAIR"},
		{"env line number", func() error { return ParseEnvFile(envFile("A=1\n\n=x\n"), map[string]string{}) }, "line 3"},
		{"env missing", func() error { return ParseEnvFile(filepath.Join(envDir, "none"), map[string]string{}) }, "none"},
	} {
		err := tc.parse()
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%s: %q does not name %q", tc.name, err, tc.bad)
		}
	}
	// And what is right parses.
	r, err := ParseResources("cpus=0.5,mem=64")
	if err != nil || r != (Resources{CPUs: 0.5, Mem: 64}) {
		t.Errorf("ParseResources original syntax = %+v, %v", r, err)
	}
	env := map[string]string{}
	if err := ParseEnvFile(envFile("export A=1\nB = 'two'\n# c\n\nC=\"x=y\"\n"), env); err != nil || env["A"] != "1" || env["B"] != "two" || env["C"] != "x=y" {
		t.Errorf("ParseEnvFile = %v, %v", env, err)
	}
	v, err := ParseVolumes("/a:/b:ro, /c:/d")
	if err != nil || len(v) != 2 || !v[0].ReadOnly || v[1].ReadOnly {
		t.Errorf("ParseVolumes = %+v, %v", v, err)
	}
}

// fakeCaller answers every call 202 and keeps them.
type fakeCaller struct {
	mu    sync.Mutex
	calls []*scheduler.Call
}

func (f *fakeCaller) Call(_ context.Context, c *scheduler.Call) (mesos.Response, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return nil, nil
}

func (f *fakeCaller) of(ct scheduler.Call_Type) []*scheduler.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*scheduler.Call
	for _, c := range f.calls {
		if c.GetType() == ct {
			out = append(out, c)
		}
	}
	return out
}

// offerSched is a Scheduler ready to place units, with a fake caller.
func offerSched(t testing.TB, cfg Config) (*Scheduler, *subscription, *fakeCaller) {
	t.Helper()
	if cfg.Master == "" {
		cfg.Master = "127.0.0.1:5050"
	}
	if cfg.Warmer == "" {
		cfg.Warmer = "true"
	}
	s, err := New(cfg, "fw-1", nil, Hooks{}, newRecorder(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.markReady()
	fc := &fakeCaller{}
	return s, &subscription{s: s, caller: fc, endpoint: "http://127.0.0.1:5050", log: s.log}, fc
}

// Several units go on one offer; the offers of one agent go in one ACCEPT; offers that do
// not match the constraints, or are not needed, are declined in one call.
func TestOffersPlacement(t *testing.T) {
	t.Parallel()
	cons, err := ParseConstraints("rack:EQ:r1")
	if err != nil {
		t.Fatal(err)
	}
	s, sub, fc := offerSched(t, Config{Task: Resources{CPUs: 1, Mem: 100}, Constraints: cons, Cooler: "true"})
	mk := func(id, agent, rack string, cpus float64) mesos.Offer {
		o := testOffer(id, agent, scalar("cpus", cpus, "*", ""), scalar("mem", 10000, "*", ""))
		o.Attributes = []mesos.Attribute{textAttr("rack", rack)}
		return o
	}
	offers := []mesos.Offer{
		mk("o1", "a1", "r1", 3),   // 3 units
		mk("o2", "a1", "r1", 2.5), // 2 more on the same agent
		mk("o3", "a2", "r2", 8),   // wrong rack
		mk("o4", "a3", "r1", 2),   // 2
		mk("o5", "a4", "r1", 4),   // not needed
	}
	s.Demand(5, 2)
	if err := sub.offers(context.Background(), offers); err != nil {
		t.Fatal(err)
	}
	acc := fc.of(scheduler.Call_ACCEPT)
	if len(acc) != 2 {
		t.Fatalf("%d ACCEPTs, want 2 (agents a1 and a3)", len(acc))
	}
	perAgent := map[string]int{}
	kinds := map[string]int{}
	for _, c := range acc {
		ids := c.GetAccept().GetOfferIDs()
		for _, op := range c.GetAccept().GetOperations() {
			for _, ti := range op.GetLaunch().GetTaskInfos() {
				perAgent[ti.AgentID.Value]++
				kinds[strings.Split(ti.TaskID.Value, "-")[1]]++
			}
		}
		if len(ids) == 0 {
			t.Errorf("ACCEPT without offers")
		}
	}
	if perAgent["a1"] != 5 || perAgent["a3"] != 2 || len(perAgent) != 2 {
		t.Errorf("units per agent %v, want a1:5 a3:2", perAgent)
	}
	if kinds["warmer"] != 5 || kinds["cooler"] != 2 {
		t.Errorf("kinds %v, want 5 warmers and 2 coolers", kinds)
	}
	dec := fc.of(scheduler.Call_DECLINE)
	if len(dec) != 1 {
		t.Fatalf("%d DECLINEs, want 1", len(dec))
	}
	var declined []string
	for _, id := range dec[0].GetDecline().GetOfferIDs() {
		declined = append(declined, id.Value)
	}
	if strings.Join(declined, ",") != "o3,o5" {
		t.Errorf("declined %v, want o3,o5", declined)
	}
	if l := s.Withdraw(); l.Warmer.Pending != 5 || l.Cooler.Pending != 2 || l.Warmer.Ungranted+l.Cooler.Ungranted != 0 {
		t.Errorf("Withdraw = %+v, want 5+2 pending", l)
	}
}
