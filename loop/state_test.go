package loop

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// learnedOnTasks returns a controller (ticking every second) that has held a task plant (lag 5,
// life 20) at 30 tasks for 150 ticks, the plant, and the controller's checkpoint.
func learnedOnTasks(t *testing.T) (Config, *Controller, *taskPlant, []byte) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Delay = time.Second
	a := New(cfg)
	p := newTaskPlant(5, 20)
	epoch := time.Unix(1e9, 0)
	for i := 0; i < 150; i++ {
		p.tick(a, epoch.Add(time.Duration(i)*time.Second), 30)
	}
	st := a.State()
	b, err := MarshalState(&st)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, a, p, b
}

func TestStateRoundTripResumesTheSameDecisions(t *testing.T) {
	cfg, a, p, b := learnedOnTasks(t)
	epoch := time.Unix(1e9, 0)
	if len(b) > 16<<10 {
		t.Fatalf("state is %d bytes; it must stay small (checkpointed every few ticks)", len(b))
	}
	// Same plant, two controllers from the same state: identical decisions.
	resumedAlike(t, cfg, a, b, p, epoch, 150, 200, func(int) float64 { return 30 })
}

// resumedAlike restores a controller from the checkpoint b and runs it beside the leader a,
// each on its own copy of the plant p, over ticks [from, to) with targets sp: the restored one
// must hold the leader's learned terms and take the leader's decisions, which it returns.
// The terms are held to 1e-12 of their size, not to the bit: a checkpoint holds the model in
// metric units, and a metric read at a scale of 10 comes back from x*10/10, which may be one
// bit off x.
func resumedAlike(t *testing.T, cfg Config, a *Controller, b []byte, p *taskPlant, epoch time.Time, from, to int, sp func(int) float64) []Decision {
	t.Helper()
	restored, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	c := New(cfg)
	c.Restore(restored)
	if !sameTerms(c.Terms(), a.Terms()) {
		t.Fatalf("terms differ after restore: %+v vs %+v", c.Terms(), a.Terms())
	}
	p2 := *p
	var ds []Decision
	for i := from; i < to; i++ {
		now := epoch.Add(time.Duration(i) * time.Second)
		da, db := p.tick(a, now, sp(i)), p2.tick(c, now, sp(i))
		if !sameDecision(da, db) {
			t.Fatalf("tick %d: the leader decided %+v, the restored one %+v", i, da, db)
		}
		ds = append(ds, da)
	}
	return ds
}

// near reports whether u and v agree to 1e-12 of their size (of 1, below it).
func near(u, v float64) bool {
	return math.Abs(u-v) <= 1e-12*math.Max(1, math.Max(math.Abs(u), math.Abs(v)))
}

// sameTerms reports whether two sets of terms agree: lags and lives exactly, the rest nearly.
func sameTerms(x, y Terms) bool {
	return near(x.Drift, y.Drift) && near(x.WarmerPerUnit, y.WarmerPerUnit) && near(x.CoolerPerUnit, y.CoolerPerUnit) &&
		x.WarmerLag == y.WarmerLag && x.WarmerLife == y.WarmerLife && x.CoolerLag == y.CoolerLag && x.CoolerLife == y.CoolerLife
}

// sameDecision reports whether two decisions agree: the units and flags exactly, the error,
// prediction and aim nearly.
func sameDecision(x, y Decision) bool {
	return x.Warmers == y.Warmers && x.Coolers == y.Coolers && x.Starved == y.Starved && x.Miss == y.Miss &&
		near(x.Error, y.Error) && near(x.Predicted, y.Predicted) && near(x.Aimed, y.Aimed)
}

func TestUnmarshalStateRefusesFutureAndCorruptStates(t *testing.T) {
	good := NewState()
	b, _ := MarshalState(&good)
	future := strings.Replace(string(b), fmt.Sprintf(`"v":%d`, StateVersion), `"v":99`, 1)
	if future == string(b) {
		t.Fatalf("no version in %s", b)
	}
	for name, tc := range map[string]string{
		"future version": future,
		"negative scale": strings.Replace(string(b), `"tick":`, `"scale":-1,"tick":`, 1),
		"not json":       "{{{",
		"no version":     `{"tick":3}`,
		"nan model":      strings.Replace(string(b), `"theta":[0,`, `"theta":["x",`, 1),
		"negative tick":  strings.Replace(string(b), `"probe":`, `"starved_at":-5,"probe":`, 1),
	} {
		if _, err := UnmarshalState([]byte(tc)); !errors.Is(err, ErrState) {
			t.Errorf("%s: got %v, want ErrState", name, err)
		}
	}
	if _, err := UnmarshalState(b); err != nil {
		t.Fatalf("a fresh state must load: %v", err)
	}
}

func TestStateSizeDoesNotGrowWithTicks(t *testing.T) {
	cfg := DefaultConfig()
	c := New(cfg)
	p := newTaskPlant(3, 10)
	epoch := time.Unix(1e9, 0)
	size := func() int {
		s := c.State()
		b, _ := json.Marshal(&s)
		return len(b)
	}
	for i := 0; i < 200; i++ {
		p.tick(c, epoch.Add(time.Duration(i)*time.Second), 10)
	}
	at200 := size()
	for i := 200; i < 5000; i++ {
		p.tick(c, epoch.Add(time.Duration(i)*time.Second), 10+float64(i%7))
	}
	// Numbers may print with more digits, never more entries.
	if at5000 := size(); at5000 > at200+512 {
		t.Fatalf("state grew from %d to %d bytes", at200, at5000)
	}
}

func TestMissIsNotANumber(t *testing.T) {
	for name, in := range map[string]Input{
		"metric miss": {Metric: Sample{}, Target: Sample{Value: 5, OK: true}},
		"target miss": {Metric: Sample{Value: 1, OK: true}, Target: Sample{}},
		"metric NaN":  {Metric: Sample{Value: math.NaN(), OK: true}, Target: Sample{Value: 5, OK: true}},
		"metric +Inf": {Metric: Sample{Value: math.Inf(1), OK: true}, Target: Sample{Value: 5, OK: true}},
		"target -Inf": {Metric: Sample{Value: 1, OK: true}, Target: Sample{Value: math.Inf(-1), OK: true}},
	} {
		c := New(DefaultConfig())
		before := c.State()
		d := c.Step(in)
		if !d.Miss || d.Warmers != 0 || d.Coolers != 0 {
			t.Errorf("%s: decided %+v, want a miss and no units", name, d)
		}
		after := c.State()
		if after.Theta != before.Theta {
			t.Errorf("%s: the model learned from a miss", name)
		}
	}
}

// A checkpoint written before the state had a scale holds metric units: a replica of this
// version that takes over must read it at scale 1, not choose a scale from the next metric and
// read the learned model a hundred times too small or large.
func TestACheckpointWithoutAScaleIsReadInMetricUnits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		seen      bool
		wantScale float64
	}{
		{"a state that has seen a metric", true, 1},
		{"a state that has seen nothing", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := NewState()
			old.HasSeen = tc.seen
			b, _ := MarshalState(&old)
			if strings.Contains(string(b), `"scale"`) {
				t.Fatalf("a state without a scale wrote one: %s", b)
			}
			got, err := UnmarshalState(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Scale != tc.wantScale {
				t.Fatalf("read at scale %v, want %v", got.Scale, tc.wantScale)
			}
		})
	}
}

// A checkpoint holds metric units whatever the controller's scale, so a replica of a version
// before the scale (which reads the model, extremes and noise as metric units and ignores the
// scale) resumes from it right during a rolling upgrade or a rollback; this version reads it
// back to the same decisions.
func TestACheckpointHoldsMetricUnits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Delay = time.Second
	cfg.MetricScale = 10
	a := New(cfg)
	p := newTaskPlant(5, 20)
	epoch := time.Unix(1e9, 0)
	most := 0
	for i := 0; i < 150; i++ {
		p.tick(a, epoch.Add(time.Duration(i)*time.Second), 30)
		most = max(most, p.count(p.t-p.lag-p.life, p.t-1-p.lag))
	}
	st := a.State()
	if st.Scale != 10 || math.Abs(st.Hi-float64(most)/10) > 1e-12 {
		t.Fatalf("scale %v, highest %v in the controller's units; want 10 and %d/10", st.Scale, st.Hi, most)
	}
	b, err := MarshalState(&st)
	if err != nil {
		t.Fatal(err)
	}
	var old struct { // what a binary before the scale reads
		Hi    float64          `json:"hi"`
		Theta [nParams]float64 `json:"theta"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		t.Fatal(err)
	}
	if math.Abs(old.Hi-float64(most)) > 1e-9 {
		t.Fatalf("the checkpoint holds a highest metric of %v, want %d (metric units)", old.Hi, most)
	}
	if w := a.Terms().WarmerPerUnit; math.Abs(unitOf(&cfg, old.Theta, &st)-w) > 1e-9*math.Max(1, math.Abs(w)) {
		t.Fatalf("the checkpoint's model gives %v a warmer, the controller %v", unitOf(&cfg, old.Theta, &st), w)
	}
	resumedAlike(t, cfg, a, b, p, epoch, 150, 200, func(int) float64 { return 30 })
}

// unitOf is a warmer's learned effect per unit from a model theta read as metric units.
func unitOf(cfg *Config, theta [nParams]float64, s *State) float64 {
	m := *s
	m.Theta, m.Scale = theta, 1
	return TermsOf(cfg, &m).WarmerPerUnit
}

// A kind's last probe departure is a metric quantity: a checkpoint holds it in metric units,
// and a controller at another scale (or one from before the scale) reads it right.
func TestAProbesDepartureIsCheckpointedInMetricUnits(t *testing.T) {
	s := NewState()
	s.Scale = 10
	s.Kinds[Cooler].ProbeDev = -0.04 // the controller's units: -0.4 items a producer
	b, err := MarshalState(&s)
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(string(b), `"probe_dev":`); i < 0 || !strings.HasPrefix(string(b[i:]), `"probe_dev":-0.4`) {
		t.Fatalf("the checkpoint does not hold probe_dev -0.4 (metric units): %.30s", b[max(i, 0):])
	}
	back, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Kinds[Cooler].ProbeDev; math.Abs(got+0.04) > 1e-12 {
		t.Fatalf("read back %v, want -0.04", got)
	}
}

// A checkpoint written when the histories held 128 ticks (no "ring" field) resumes with every
// launch and start at its own tick: read as they lie, a task that started 100 ticks ago would
// be taken for one that started at another tick, and its end predicted at the wrong time.
func TestACheckpointWithTheOldRingKeepsItsTaskAges(t *testing.T) {
	s := NewState()
	s.Tick = 1000
	b, err := MarshalState(&s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "ring")
	at := map[int64]int32{995: 3, 900: 2} // tick -> starts
	for _, kv := range m["kinds"].([]any) {
		k := kv.(map[string]any)
		old := make([]int32, oldRing)
		for tick, n := range at {
			old[tick%oldRing] = n
		}
		k["started"], k["launched"] = old, old
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	for k := range got.Kinds {
		var sum int32
		for _, n := range got.Kinds[k].Started {
			sum += n
		}
		for tick, n := range at {
			if g := got.Kinds[k].Started[ringAt(tick)]; g != n {
				t.Errorf("kind %d: %d starts at tick %d, want %d", k, g, tick, n)
			}
		}
		if sum != 5 || got.Kinds[k].Launched != got.Kinds[k].Started {
			t.Errorf("kind %d: %d starts in all (want 5); launches moved as the starts: %v", k, sum, got.Kinds[k].Launched == got.Kinds[k].Started)
		}
	}
	if got.Ring != Ring {
		t.Errorf("Ring %d after reading, want %d", got.Ring, Ring)
	}
}
