package sim

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/relay-mesos/relay-mesos/loop"
)

func mustParse(t *testing.T, js string) *Scenario {
	t.Helper()
	s, err := Parse([]byte(js))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

// stepPlant steps a plant over ticks 0..len(grants)-1 with the given grants (warmers, coolers)
// and returns PV per tick.
func stepPlant(p plant, grants [][2]int) []float64 {
	var pvs []float64
	for t, g := range grants {
		pvs = append(pvs, p.step(t))
		p.schedule(t, g[0], g[1])
	}
	return pvs
}

func TestPlants(t *testing.T) {
	tests := []struct {
		name   string
		plant  string
		grants [][2]int
		want   []float64
	}{
		{
			// q: t0 10+2=12; t1 14-3 (the worker of t0 is active at 1 and 2) = 11; t2 13-3 = 10; t3 12.
			name:   "queue worker lag 1 life 2",
			plant:  `{"type":"queue","initial":10,"arrival_per_tick":2,"items_per_run":3,"run_lifetime_ticks":2,"lag_ticks":1}`,
			grants: [][2]int{{1, 0}, {0, 0}, {0, 0}, {0, 0}},
			want:   []float64{-12, -11, -10, -12},
		},
		{
			// The queue cannot go below 0: 5 workers of k=4 on q=3 leave 0, then arrivals refill.
			name:   "queue empties, metric sign +1 and offset",
			plant:  `{"type":"queue","initial":3,"items_per_run":4,"lag_ticks":1,"metric_sign":1,"metric_offset":7,"arrival_per_tick":1}`,
			grants: [][2]int{{5, 0}, {0, 0}, {0, 0}},
			want:   []float64{7 + 4, 7 + 0, 7 + 1},
		},
		{
			// A cooler granted at 0 with lag 2 adds k=5 items at tick 2.
			name:   "queue cooler adds items after the lag",
			plant:  `{"type":"queue","initial":0,"items_per_run":5,"lag_ticks":2}`,
			grants: [][2]int{{0, 1}, {0, 0}, {0, 0}, {0, 0}},
			want:   []float64{0, 0, -5, -5},
		},
		{
			// lag 0 is raised to the minimum of 1.
			name:   "queue lag 0 acts as 1",
			plant:  `{"type":"queue","initial":10,"items_per_run":1,"lag_ticks":0}`,
			grants: [][2]int{{4, 0}, {0, 0}},
			want:   []float64{-10, -6},
		},
		{
			// 2 tasks granted at 0 start at 2 and are counted at 2, 3, 4 (d = 3); 1 for-ever task.
			name:   "tasks start after the lag and run d ticks",
			plant:  `{"type":"tasks","initial":1,"task_duration_ticks":3,"lag_ticks":2}`,
			grants: [][2]int{{2, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}},
			want:   []float64{1, 1, 3, 3, 3, 1},
		},
		{
			// Tasks from t0 (end 5) and t1 (end 6) start at 2 and 3; a kill granted at 2 acts at 4
			// and removes the latest end (the t1 task), so 4 has 1+1+0, and at 5 the t0 task ends.
			name:   "tasks kill the latest end first",
			plant:  `{"type":"tasks","initial":1,"task_duration_ticks":3,"lag_ticks":2}`,
			grants: [][2]int{{1, 0}, {1, 0}, {0, 1}, {0, 0}, {0, 0}, {0, 0}},
			want:   []float64{1, 1, 2, 3, 2, 1},
		},
		{
			// 5 kills with 1 launched task and 2 for-ever ones: all three go, the rest do nothing.
			name:   "kills beyond the running count do nothing; for-ever tasks go last",
			plant:  `{"type":"tasks","initial":2,"task_duration_ticks":10,"lag_ticks":1}`,
			grants: [][2]int{{1, 0}, {0, 1}, {0, 0}, {0, 5}, {0, 0}},
			want:   []float64{2, 3, 2, 2, 0},
		},
		{
			// A task started at the same tick as a kill acts is killed first (latest end).
			name:   "new starts are added before kills",
			plant:  `{"type":"tasks","initial":1,"task_duration_ticks":10,"lag_ticks":1}`,
			grants: [][2]int{{1, 1}, {0, 0}},
			want:   []float64{1, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, `{"plant":`+tc.plant+`}`)
			got := stepPlant(newPlant(&s.Plant), tc.grants)
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Fatalf("PV = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestLedger(t *testing.T) {
	// Warmers: 2 granted at 0, 3 at 1; lag 2, life 2: at tick 2 the first 2 run and 3 are
	// pending; at 3 both batches run (2 from t0 at 2..3, 3 from t1 at 3..4); at 4 only 3 run.
	s := mustParse(t, `{"plant":{"type":"queue","initial":100,"lag_ticks":2,"run_lifetime_ticks":2}}`)
	p := newPlant(&s.Plant)
	want := []loop.KindCounts{{}, {Pending: 2}, {Pending: 3, Running: 2}, {Running: 5}, {Running: 3}, {}}
	for tick, w := range want {
		p.step(tick)
		got := p.ledger(tick).Warmer
		if got != w {
			t.Fatalf("tick %d: warmer ledger %+v, want %+v", tick, got, w)
		}
		p.schedule(tick, []int{2, 3, 0, 0, 0, 0}[tick], 0)
	}
}

func TestActuatorWithdrawThenDemand(t *testing.T) {
	s := mustParse(t, `{"plant":{"type":"tasks","lag_ticks":3},"supply":{"max_units_per_tick":4,"starved":[[1,2]]}}`)
	p := newPlant(&s.Plant)
	a := &actuator{p: p, sup: &s.Supply}
	p.step(0)
	if l := a.Withdraw(); l != (loop.Ledger{}) {
		t.Fatalf("first ledger %+v", l)
	}
	a.Demand(10, 0) // the cap grants 4: 6 stay demanded until the next Withdraw
	a.t = 1
	p.step(1)
	l := a.Withdraw()
	if l.Warmer.Ungranted != 6 || l.Warmer.Pending != 4 {
		t.Fatalf("ledger after a capped demand %+v, want 6 ungranted and 4 pending", l.Warmer)
	}
	a.Demand(3, 0) // tick 1 is starved: nothing granted
	a.t = 2
	p.step(2)
	if l := a.Withdraw(); l.Warmer.Ungranted != 3 || l.Warmer.Pending != 4 {
		t.Fatalf("ledger after a starved tick %+v, want 3 ungranted, 4 pending", l.Warmer)
	}
	if l := a.Withdraw(); l.Warmer.Ungranted != 0 {
		t.Fatalf("a second Withdraw still reports %d ungranted", l.Warmer.Ungranted)
	}
}

func TestTargets(t *testing.T) {
	tests := []struct {
		target string
		want   map[int]float64
	}{
		{`{"type":"constant","value":7}`, map[int]float64{0: 7, 99: 7}},
		{`{"type":"steps","steps":[[5,1],[10,-2]]}`, map[int]float64{0: 0, 4: 0, 5: 1, 9: 1, 10: -2, 500: -2}},
		{`{"type":"list","values":[1,2,3]}`, map[int]float64{0: 1, 2: 3, 50: 3}},
		{`{"type":"sine","mean":10,"amp":2,"period":8}`, map[int]float64{0: 10, 2: 12, 6: 8}},
		// period 5: high while t mod 5 < 2 (integer division), else low.
		{`{"type":"square","low":20,"high":50,"period":5}`, map[int]float64{0: 50, 1: 50, 2: 20, 4: 20, 5: 50}},
	}
	for _, tc := range tests {
		s := mustParse(t, `{"plant":{"type":"tasks"},"target":`+tc.target+`}`)
		for tick, w := range tc.want {
			if got := s.Target.At(tick); math.Abs(got-w) > 1e-9 {
				t.Errorf("%s at %d = %v, want %v", tc.target, tick, got, w)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, `{"plant":{"type":"queue"}}`)
	p := s.Plant
	if s.Ticks != 100 || p.Lag != 1 || p.ItemsPerRun != 1 || p.Life != 1 || p.MetricSign != -1 || s.Supply.MaxPerTick != -1 {
		t.Fatalf("defaults: ticks %d plant %+v supply %+v", s.Ticks, p, s.Supply)
	}
	if r := s.Relay; r.Lookback != 1000 || r.Ramp != 1 || !r.Warmer || r.Cooler {
		t.Fatalf("relay defaults %+v", r)
	}
	if c := s.Controller; !c.HasWarmer || c.HasCooler || c.MaxPerTick != loop.DefaultConfig().MaxPerTick {
		t.Fatalf("controller %+v", c)
	}
	s = mustParse(t, `{"plant":{"type":"tasks"},"controller":{"tolerance":2,"lookback":50}}`)
	if s.Controller.Tolerance != 2 || s.Controller.Lookback != 50 {
		t.Fatalf("controller object not applied: %+v", s.Controller)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	tests := []struct{ js, field string }{
		{`{"ticks":0,"plant":{"type":"queue"}}`, "ticks"},
		{`{"ticks":"10","plant":{"type":"queue"}}`, "ticks"},
		{`{"plant":{"type":"pond"}}`, "plant.type"},
		{`{"plant":{}}`, "plant.type"},
		{`{}`, "plant"},
		{`{"plant":{"type":"queue","lag_ticks":-1}}`, "plant.lag_ticks"},
		{`{"plant":{"type":"queue","lag_tick":3}}`, "plant.lag_tick"},
		{`{"plant":{"type":"queue","items_per_run":0}}`, "plant.items_per_run"},
		{`{"plant":{"type":"queue","run_lifetime_ticks":0}}`, "plant.run_lifetime_ticks"},
		{`{"plant":{"type":"tasks","task_duration_ticks":0}}`, "plant.task_duration_ticks"},
		{`{"plant":{"type":"tasks","items_per_run":2}}`, "plant.items_per_run"},
		{`{"plant":{"type":"queue"},"target":{"type":"zigzag"}}`, "target.type"},
		{`{"plant":{"type":"queue"},"target":{"type":"steps","steps":[[1]]}}`, "target.steps[0]"},
		{`{"plant":{"type":"queue"},"target":{"type":"list"}}`, "target.values"},
		{`{"plant":{"type":"queue"},"target":{"type":"sine","period":0}}`, "target.period"},
		{`{"plant":{"type":"queue"},"target":5}`, "target"},
		{`{"plant":{"type":"queue"},"supply":{"max_units_per_tick":-3}}`, "supply.max_units_per_tick"},
		{`{"plant":{"type":"queue"},"supply":{"starved":[[10,5]]}}`, "supply.starved[0]"},
		{`{"plant":{"type":"queue"},"relay":{"lookback":0}}`, "relay.lookback"},
		{`{"plant":{"type":"queue"},"relay":{"warmer":false}}`, "relay.warmer"},
		{`{"plant":{"type":"queue"},"controller":{"caution":3}}`, "caution"},
		{`{"plant":{"type":"queue"},"controller":{"gain":3}}`, "controller.gain"},
		{`{"plant":{"type":"queue"}`, "invalid JSON"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.js))
		if err == nil {
			t.Errorf("%s: no error", tc.js)
			continue
		}
		if !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), tc.field) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q should be one line wrapping ErrScenario and name %q", tc.js, err, tc.field)
		}
	}
}

func TestCalcWeight(t *testing.T) {
	// Window [0, 120, 0, 0]: bin 1 of the FFT is -120i, phase -π/2; over its 4 samples per
	// cycle |sin| adds 1 + 0 + 1 + 0 + 1 = 3, so the weight is sin(-π/2)/3 = -1/3.
	if w := calcWeight([]float64{0, 120, 0, 0}); math.Abs(w+1.0/3) > 1e-12 {
		t.Fatalf("weight = %v, want -1/3", w)
	}
	// Fewer than 4 samples: an empty spectrum, weight 1.
	if w := calcWeight([]float64{0, 5, 7}); w != 1 {
		t.Fatalf("short window weight = %v, want 1", w)
	}
	// A constant window whose length is a power of two has an exactly zero spectrum: weight 1,
	// so MV = round(e - e) = 0 for ever (the original's deadlock).
	if w := calcWeight([]float64{3, 3, 3, 3, 3, 3, 3, 3}); w != 1 {
		t.Fatalf("constant window weight = %v, want 1", w)
	}
	o := NewOriginal(8, 0)
	var mv int
	for i := 0; i < 20; i++ {
		mv = o.Step(10, 7)
	}
	if mv != 0 {
		t.Fatalf("constant error of 3 with lookback 8: MV = %d, want 0 (deadlock)", mv)
	}
}

func TestRampPlan(t *testing.T) {
	tests := []struct {
		e    float64
		ramp int
		want []int
	}{
		{12.7, 1, []int{12}}, {-12.7, 1, []int{-12}},
		{30, 2, []int{1, 0}}, {-30, 3, []int{-1, 0}},
		{30, 6, []int{0, 0, 0, 1}}, {0, 6, []int{0, 0, 0, 0}},
	}
	for _, tc := range tests {
		got := rampPlan(tc.e, tc.ramp)
		if len(got) != len(tc.want) {
			t.Fatalf("rampPlan(%v, %d) = %v, want %v", tc.e, tc.ramp, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("rampPlan(%v, %d) = %v, want %v", tc.e, tc.ramp, got, tc.want)
			}
		}
	}
}

func TestRoundsHalfToEven(t *testing.T) {
	// Window [0, 5]: weight 1 (short window), mean 2.5, e = 5: MV = round(2.5) = 2 (Python 3).
	o := NewOriginal(1000, 1)
	o.Step(0, 0)
	if mv := o.Step(5, 0); mv != 2 {
		t.Fatalf("MV = %d, want 2 (round half to even)", mv)
	}
}

// The published figures of the original and the reference on the public scenarios.
func TestPublishedFigures(t *testing.T) {
	tests := []struct {
		file                string
		pol                 Policy
		iae                 float64
		cost                int
		iaeTol, costTolFrac float64
	}{
		{"queue_const", OriginalRelay, 405, 438, 0.03, 0.03},
		{"queue_const", Reference, 230, 144, 0.03, 0.03},
		{"queue_starved", OriginalRelay, 12438, 471, 0.03, 0.03},
		{"queue_starved", Reference, 12024, 473, 0.03, 0.03},
		{"tasks_square", OriginalRelay, 34578, 35162, 0.03, 0.03},
		{"tasks_square", Reference, 1400, 340, 0.03, 0.03},
	}
	for _, tc := range tests {
		s, err := Load("testdata/scenarios/" + tc.file + ".json")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := Run(s, tc.pol)
		if err != nil {
			t.Fatal(err)
		}
		f := Compute(s, rows)
		t.Logf("%s %s: IAE %.0f cost %d", tc.file, tc.pol, f.IAE, f.Cost)
		if math.Abs(f.IAE-tc.iae) > tc.iaeTol*tc.iae || math.Abs(float64(f.Cost-tc.cost)) > tc.costTolFrac*float64(tc.cost) {
			t.Errorf("%s %s: IAE %.0f cost %d, published %.0f/%d", tc.file, tc.pol, f.IAE, f.Cost, tc.iae, tc.cost)
		}
	}
}

func TestFigures(t *testing.T) {
	s := mustParse(t, `{"ticks":120,"plant":{"type":"tasks"},"supply":{"starved":[[2,4]]}}`)
	rows := make([]Row, 120)
	for i := range rows {
		rows[i] = Row{Tick: i, SP: 10, PV: 10, CanHelp: true}
	}
	rows[0].PV, rows[1].PV = 4, 13 // approach from below, overshoot 3
	rows[4].PV, rows[6].PV = 6, 10.5
	rows[0].WarmersGranted, rows[1].CoolersGranted = 6, 3
	// 60 ticks stuck 5 below SP with nothing executed: a deadlock from tick 50.
	for i := 50; i < 110; i++ {
		rows[i].PV = 5
	}
	f := Compute(s, rows)
	wantIAE := 6 + 3 + 4 + 0.5 + 60*5.0
	if math.Abs(f.IAE-wantIAE) > 1e-9 || f.Cost != 9 || f.Overshoot != 3 {
		t.Fatalf("IAE %v (want %v) cost %d (want 9) overshoot %v (want 3)", f.IAE, wantIAE, f.Cost, f.Overshoot)
	}
	if !f.Deadlock || f.DeadlockAt != 50 {
		t.Fatalf("deadlock %v at %d, want at 50", f.Deadlock, f.DeadlockAt)
	}
	// After the starved window [2,4): error left at tick 4 is 4, PV later 0.5 past SP: over 10%.
	if len(f.PostStarve) != 1 || f.PostStarve[0].ErrorLeft != 4 || math.Abs(f.PostStarve[0].Overshoot-0.5) > 1e-9 || f.PostStarve[0].OK() {
		t.Fatalf("post-starvation %+v", f.PostStarve)
	}
	// Ticks where no action can help do not count toward a deadlock.
	for i := range rows {
		rows[i].CanHelp = i%10 != 0
	}
	if f := Compute(s, rows); f.Deadlock {
		t.Fatalf("deadlock reported though no action could help every 10th tick")
	}
}

// A post-starvation excursion is Late (the window's own shortfall, shown through the lag) only
// if it comes before a unit granted after the window can act and no unit that moves the metric
// that way was granted: an overshoot the controller's units made is never excused.
func TestPostStarveLate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant string
		drop  int // the tick PV falls 5 below SP (it was 1 above at the window's end, tick 20)
		grant func(r []Row)
		late  bool
	}{
		{"tasks ended in the window show after it", `{"type":"tasks","lag_ticks":5}`, 22, nil, true},
		{"a cooler granted before the window pushed", `{"type":"tasks","lag_ticks":5}`, 22, func(r []Row) { r[8].CoolersGranted = 3 }, false},
		{"a cooler granted in time to act by then pushed", `{"type":"tasks","lag_ticks":5}`, 24, func(r []Row) { r[19].CoolersGranted = 1 }, false},
		{"without it, tasks that ended show", `{"type":"tasks","lag_ticks":5}`, 24, nil, true},
		{"a cooler granted too late to act by then did not push", `{"type":"tasks","lag_ticks":5}`, 22, func(r []Row) { r[20].CoolersGranted = 1 }, true},
		{"a warmer does not push down", `{"type":"tasks","lag_ticks":5}`, 22, func(r []Row) { r[21].WarmersGranted = 4 }, true},
		{"a unit granted after the window could have acted", `{"type":"tasks","lag_ticks":5}`, 25, nil, false},
		{"consumers lower a metric read with sign +1", `{"type":"queue","lag_ticks":5,"metric_sign":1}`, 22, func(r []Row) { r[12].WarmersGranted = 2 }, false},
		{"producers raise it", `{"type":"queue","lag_ticks":5,"metric_sign":1}`, 22, func(r []Row) { r[12].CoolersGranted = 2 }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, `{"ticks":60,"plant":`+tc.plant+`,"supply":{"starved":[[10,20]]}}`)
			rows := make([]Row, 60)
			for i := range rows {
				rows[i] = Row{Tick: i, SP: 10, PV: 11}
				if i >= tc.drop {
					rows[i].PV = 5
				}
			}
			if tc.grant != nil {
				tc.grant(rows)
			}
			f := Compute(s, rows)
			if len(f.PostStarve) != 1 {
				t.Fatalf("post-starvation %+v", f.PostStarve)
			}
			w := f.PostStarve[0]
			if w.OK() || w.Overshoot != 5 || w.At != tc.drop || w.Late != tc.late {
				t.Fatalf("got %+v, want overshoot 5 at %d, late %v", w, tc.drop, tc.late)
			}
		})
	}
}

// The deadlock figure counts a tick only if one unit would have helped, judged against the
// target when the unit acts (t+lag), not when it was asked for: a falling target that a warmer
// would have passed by then is not a tick a warmer-only controller could have helped.
func TestDeadlockJudgeUsesTheTargetWhenTheUnitActs(t *testing.T) {
	tests := []struct {
		name  string
		steps string
		helps bool
	}{
		{"target falls to the count within the lag", `[[0,3],[10,0]]`, false},
		{"target rises above the count within the lag", `[[0,0],[10,3]]`, true},
		{"target stays above the count", `[[0,3]]`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, `{"ticks":50,"target":{"type":"steps","steps":`+tc.steps+`},
				"plant":{"type":"tasks","task_duration_ticks":10,"lag_ticks":10},"relay":{"warmer":true,"cooler":false}}`)
			p := newPlant(&s.Plant)
			p.step(0)
			if got := newReference(s).helps(0, p); got != tc.helps {
				t.Fatalf("one warmer at tick 0 helps: %v, want %v", got, tc.helps)
			}
		})
	}
}

func TestCSV(t *testing.T) {
	for _, col := range []string{"tick", "SP", "PV", "requested", "executed", "plant_state"} {
		if !strings.Contains(","+CSVHeader+",", ","+col+",") {
			t.Fatalf("header %q lacks %q", CSVHeader, col)
		}
	}
	r := Row{Tick: 3, SP: 50, PV: 12.5, Requested: -4, Executed: -2, State: 12.5, CoolersGranted: 2}
	if got := r.CSV(); got != "3,50,12.5,-4,-2,12.5,0,2,0" {
		t.Fatalf("row %q", got)
	}
}

func TestPlotWritesPNG(t *testing.T) {
	s, err := Load("testdata/scenarios/queue_starved.json")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Plot(&buf, s.Name, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG")) || buf.Len() < 10_000 {
		t.Fatalf("not a PNG of a plot: %d bytes", buf.Len())
	}
}

// TestPostStarveMovingTarget: with a sine target, a metric that recovers and then lags the
// target by the plant's lag (normal tracking) is no overshoot, but one that goes past the
// target by more than the target moved over the lag is; with a step target there is no band.
func TestPostStarveMovingTarget(t *testing.T) {
	const lag = 5
	tests := []struct {
		name   string
		target string
		extra  float64 // added past SP after the recovery
		want   float64 // post-starvation overshoot
	}{
		{"sine tracking", `{"type":"sine","mean":50,"amp":30,"period":100}`, 0, 0},
		{"sine past band", `{"type":"sine","mean":50,"amp":30,"period":100}`, 4, 4},
		{"constant past", `{"type":"constant","value":50}`, 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, `{"ticks":200,"target":`+tc.target+`,"plant":{"type":"tasks","lag_ticks":5},"supply":{"starved":[[40,60]]}}`)
			rows := make([]Row, s.Ticks)
			for i := range rows {
				sp := s.Target.At(i)
				rows[i] = Row{Tick: i, SP: sp, PV: sp}
				if i >= lag {
					rows[i].PV = s.Target.At(i - lag) // tracking with the plant's lag
				}
			}
			// Starved: the metric falls 20 below the target by the window's end, then crosses
			// at tick 75 and stays extra past it (on the side away from the error at the end).
			rows[60].PV = rows[60].SP - 20
			for i := 61; i < 75; i++ {
				rows[i].PV = rows[i].SP - 10
			}
			for i := 75; i < 80; i++ {
				rows[i].PV += tc.extra
			}
			f := Compute(s, rows)
			if len(f.PostStarve) != 1 {
				t.Fatalf("post-starvation %+v", f.PostStarve)
			}
			p := f.PostStarve[0]
			if p.ErrorLeft != 20 || math.Abs(p.Overshoot-tc.want) > 1e-9 {
				t.Fatalf("error left %v overshoot %v (band %v), want 20 and %v", p.ErrorLeft, p.Overshoot, p.Band, tc.want)
			}
		})
	}
}

// TestDivergingOriginalKeepsAHugeCost: the original Relay diverges on a lagging queue (its MV
// grows about 2.5x every three ticks); Python's integers hold that, a Go int did not: the cost
// wrapped to a negative number, and the cost target max(original, 1.25*reference) fell to the
// reference's alone. Its MV and its cost now stop at large bounds instead of wrapping.
func TestDivergingOriginalKeepsAHugeCost(t *testing.T) {
	s := mustParse(t, `{"ticks":150,"target":{"type":"constant","value":27},
		"plant":{"type":"queue","initial":8,"arrival_per_tick":4,"items_per_run":3,"run_lifetime_ticks":1,"lag_ticks":8,"metric_sign":1},
		"relay":{"lookback":30,"ramp":1,"warmer":true,"cooler":true}}`)
	rows, err := Run(s, OriginalRelay)
	if err != nil {
		t.Fatal(err)
	}
	f := Compute(s, rows)
	if f.Cost < 1<<50 {
		t.Errorf("original's cost %d, want at least 2^50 (it diverges)", f.Cost)
	}
	for _, r := range rows {
		if r.WarmersGranted < 0 || r.CoolersGranted < 0 {
			t.Fatalf("tick %d: negative grant %d/%d", r.Tick, r.WarmersGranted, r.CoolersGranted)
		}
	}
	if got := addSat(math.MaxInt-1, 5); got != math.MaxInt {
		t.Errorf("addSat wrapped: %d", got)
	}
}

// runMine runs s under the project's controller and returns its rows and figures.
func runMine(t *testing.T, s *Scenario) ([]Row, Figures) {
	t.Helper()
	rows, err := Run(s, Project)
	if err != nil {
		t.Fatal(err)
	}
	return rows, Compute(s, rows)
}
