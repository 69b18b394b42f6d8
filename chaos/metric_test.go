package chaos

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// defaultLimits are the bounds of the default plant: band 24, recovery 30 s, stall 12 s.
func defaultLimits() Limits { return LimitsFor(PlantOf(ClusterConfig{})) }

func checksOf(vs []Violation) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v.Check]++
	}
	return m
}

// TestLimitsForDefaultPlant: the bounds follow from 2 items/s arriving and a task taking
// 10 items/s for 3 s at a 0.5 s tick.
func TestLimitsForDefaultPlant(t *testing.T) {
	l := defaultLimits()
	// One task: 30 items taken, 6 arrive meanwhile: 24.
	if l.Band != 24 {
		t.Errorf("band %v, want 24", l.Band)
	}
	// 3 x 2 x (3 s life + 2 s dead time).
	if l.Recovery != 30*time.Second {
		t.Errorf("recovery %v, want 30s", l.Recovery)
	}
	// 24 items / 2 items/s.
	if l.StallAfter != 12*time.Second {
		t.Errorf("stall %v, want 12s", l.StallAfter)
	}
	if l.IAEFloor != 2880 {
		t.Errorf("IAE floor %v, want 2880 per minute", l.IAEFloor)
	}
}

// TestRecordedRuns runs the metric checks over two pieces of the 2026-11-25 full run 3
// (samples every 250 ms): its first 4.5 minutes, where the metric kept coming back, and its
// last 5.5 minutes, where the queue grew at the arrival rate from 45 to 523 with no launch
// while faults kept coming every 4-10 s (the harness of then reported 0 violations).
func TestRecordedRuns(t *testing.T) {
	tests := []struct {
		dir  string
		want []string // checks that must fire
		none []string // checks that must not
	}{
		{dir: "run3-healthy", none: []string{"metric-recovery", "metric-stall", "metric-iae", "metric-band"}},
		{dir: "run3-stall", want: []string{"metric-recovery", "metric-stall", "metric-iae", "metric-band"}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			rec, err := ReadRun(filepath.Join("testdata", tc.dir), 0, PlantOf(ClusterConfig{}))
			if err != nil {
				t.Fatal(err)
			}
			ev := CheckMetric(rec.Trace, defaultLimits(), rec.Phases)
			got := checksOf(ev.Violations)
			for _, v := range ev.Violations {
				t.Log(v)
			}
			for _, c := range tc.want {
				if got[c] == 0 {
					t.Errorf("%s did not fire", c)
				}
			}
			for _, c := range tc.none {
				if got[c] > 0 {
					t.Errorf("%s fired on a run whose metric kept coming back", c)
				}
			}
			t.Logf("in band %.0f%%, IAE %.0f/min vs %.0f/min", 100*ev.InBand, ev.IAERate, ev.BaselineRate)
		})
	}
}

// TestRecordedStallIsOneExcursion: the 23 faults that ended while the queue never came back
// are reported as one recovery violation, flagged within the first minutes of the stall.
func TestRecordedStallIsOneExcursion(t *testing.T) {
	rec, err := ReadRun(filepath.Join("testdata", "run3-stall"), 0, PlantOf(ClusterConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	ev := CheckMetric(rec.Trace, defaultLimits(), rec.Phases)
	var rv []Violation
	for _, v := range ev.Violations {
		if v.Check == "metric-recovery" {
			rv = append(rv, v)
		}
	}
	if len(rv) != 1 {
		t.Fatalf("%d recovery violations, want one for the one excursion: %v", len(rv), rv)
	}
	stallFrom := time.Date(2026, 11, 25, 13, 51, 45, 0, time.UTC)
	if d := rv[0].At.Sub(stallFrom); d < 0 || d > 2*time.Minute {
		t.Errorf("flagged at %s, %v after the stall began; want within 2 minutes", rv[0].At.Format("15:04:05"), d)
	}
	if !strings.Contains(rv[0].Detail, "never came back") {
		t.Errorf("detail %q does not say the metric never came back", rv[0].Detail)
	}
}

// synth is a trace at 4 samples per second from t0 with the metric size(t), faults given
// as (start, length) in seconds from t0 and a leader throughout.
type synth struct {
	secs   float64
	size   func(t float64) float64
	faults [][2]float64
	active [][2]float64 // spans of running tasks
}

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func (s synth) trace() (Trace, Phases) {
	tr := Trace{ActivityKnown: true, LaunchesKnown: true}
	for x := 0.0; x <= s.secs; x += 0.25 {
		tr.Samples = append(tr.Samples, Sample{At: at(x), Size: math.Max(0, math.Floor(s.size(x))), Target: 20, Leader: 0, Term: 1})
	}
	for _, f := range s.faults {
		tr.Faults = append(tr.Faults, FaultResult{Fault: Fault{Kind: FaultStarve, Start: at(f[0]), End: at(f[0] + f[1])}})
	}
	for _, a := range s.active {
		tr.Active = append(tr.Active, Span{at(a[0]), at(a[1])})
		tr.Launches = append(tr.Launches, at(a[0]))
	}
	return tr, Phases{FaultsFrom: t0, FaultsTo: at(s.secs)}
}

// every returns faults of length l every p seconds from a to b.
func every(a, b, p, l float64) [][2]float64 {
	var out [][2]float64
	for x := a; x < b; x += p {
		out = append(out, [2]float64{x, l})
	}
	return out
}

// TestRecoveryAndStall: the recovery clock runs only outside fault windows and carries over
// the next fault, so a queue that never comes back is caught even when a fault follows
// every one (the old check gave up when the next fault started before its 40 s bound).
func TestRecoveryAndStall(t *testing.T) {
	grow := func(from float64) func(float64) float64 {
		return func(x float64) float64 { return 20 + 2*math.Max(0, x-from) } // 2 items/s, no task
	}
	tests := []struct {
		name string
		s    synth
		want map[string]bool
	}{
		{
			// Faults of 5 s every 8 s for 4 minutes: 3 s - 1 s grace = 2 s outside faults each;
			// the queue grows from the first fault on and never comes back.
			name: "never back, faults back to back",
			s:    synth{secs: 240, size: grow(0), faults: every(0, 240, 8, 5)},
			want: map[string]bool{"metric-recovery": true, "metric-stall": true},
		},
		{
			// The same faults; the queue is back in band 2 s after each fault.
			name: "back after each fault",
			s: synth{secs: 240, faults: every(0, 240, 8, 5), size: func(x float64) float64 {
				ph := math.Mod(x, 8)
				if ph < 5 {
					return 20 + 8*ph // up to 60 inside the fault
				}
				return 60 - 25*(ph-5) // a task drains it: in band within 1 s
			}, active: func() [][2]float64 {
				var a [][2]float64
				for x := 5.0; x < 240; x += 8 {
					a = append(a, [2]float64{x, x + 3})
				}
				return a
			}()},
		},
		{
			// A task runs the whole time but the queue, out of band at the fault's end (50),
			// stays out (a consumer too slow): not a stall (something is done), but no recovery.
			name: "out of band with tasks running",
			s:    synth{secs: 120, size: grow(-10), faults: [][2]float64{{0, 5}}, active: [][2]float64{{0, 120}}},
			want: map[string]bool{"metric-recovery": true},
		},
		{
			// No fault: the queue leaves the band at 12 s; it stays out 12 s and comes back.
			name: "out 12 s with no task: under the stall bound",
			s: synth{secs: 60, size: func(x float64) float64 {
				if x < 12 || x >= 24 {
					return 20
				}
				return 50
			}},
		},
		{
			name: "out 20 s with no task and no fault: a stall",
			s: synth{secs: 60, size: func(x float64) float64 {
				if x < 12 || x >= 32 {
					return 20
				}
				return 50
			}},
			want: map[string]bool{"metric-stall": true},
		},
		{
			// One long fault window with the queue out the whole time, back 5 s after: the
			// fault excuses it.
			name: "out only inside a fault",
			s: synth{secs: 120, faults: [][2]float64{{10, 60}}, size: func(x float64) float64 {
				if x >= 12 && x < 75 {
					return 80
				}
				return 20
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, ph := tc.s.trace()
			ev := CheckMetric(tr, defaultLimits(), ph)
			got := checksOf(ev.Violations)
			for _, c := range []string{"metric-recovery", "metric-stall"} {
				if (got[c] > 0) != tc.want[c] {
					t.Errorf("%s fired %d times, want fired=%v: %v", c, got[c], tc.want[c], ev.Violations)
				}
			}
			if got["metric-recovery"] > 1 {
				t.Errorf("%d recovery violations for one excursion", got["metric-recovery"])
			}
		})
	}
}

// TestIAELimit: the faulted phase's IAE per minute may be 3x the baseline's, and at least a
// mean error of two tasks' worth (48).
func TestIAELimit(t *testing.T) {
	tests := []struct {
		name          string
		base, faulted float64 // |error| in each phase
		want          bool
	}{
		{"2x a poor baseline", 15, 30, false},
		{"4x a poor baseline", 15, 60, true},
		{"10x a good baseline, under the floor", 2, 20, false},
		{"over the floor and 3x", 2, 60, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := synth{secs: 120, size: func(x float64) float64 {
				if x < 60 {
					return 20 + tc.base
				}
				return 20 + tc.faulted
			}, active: [][2]float64{{0, 120}}}
			tr, _ := s.trace()
			ph := Phases{BaseFrom: t0, BaseTo: at(60), FaultsFrom: at(60), FaultsTo: at(120)}
			ev := CheckMetric(tr, defaultLimits(), ph)
			if got := checksOf(ev.Violations)["metric-iae"] > 0; got != tc.want {
				t.Errorf("metric-iae fired=%v, want %v (%.0f/min vs %.0f/min)", got, tc.want, ev.IAERate, ev.BaselineRate)
			}
		})
	}
}

// TestWindup: after a starvation ends, launches are windup only when what they take
// overshoots the target by more than two tasks' worth beyond the error and the arrivals
// (each task takes 30; 2 items/s arrive over the 3 s window and the 3 s a task runs: 12).
func TestWindup(t *testing.T) {
	tests := []struct {
		name     string
		queue    float64
		launches int
		want     bool
	}{
		// 2020-11-25 run 2: 11 launches after a quorum loss with the queue at 7: 330 taken,
		// 0 justified.
		{"run 2's burst: queue 7, 11 launches", 7, 11, true},
		{"queue at target, 2 launches (60 - 12 = 48 <= 60)", 20, 2, false},
		{"queue at target, 3 launches (90 - 12 = 78 > 60)", 20, 3, true},
		{"queue 100 after a long gap, 5 launches (150 - 92 = 58)", 100, 5, false},
		{"queue 100, 6 launches (180 - 92 = 88)", 100, 6, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := synth{secs: 30, faults: [][2]float64{{5, 5}}, size: func(float64) float64 { return tc.queue }}
			for i := range tc.launches {
				s.active = append(s.active, [2]float64{10.1 + 0.2*float64(i), 13.5})
			}
			tr, ph := s.trace()
			ev := CheckMetric(tr, defaultLimits(), ph)
			var w []Violation
			for _, v := range ev.Violations {
				if v.Check == "windup" {
					w = append(w, v)
				}
			}
			if (len(w) > 0) != tc.want {
				t.Errorf("windup fired=%v, want %v: %v", len(w) > 0, tc.want, w)
			}
		})
	}
}

// TestOvershoot: at any time outside fault windows, a burst that takes more than the error
// and the arrivals justify plus two tasks' worth is flagged (the full run 4 of 2026-11-25
// launched 4, 8, then 16 tasks in its fault-free baseline with the queue at 4-9: the queue
// stops at 0, so neither the band nor the IAE could see it).
func TestOvershoot(t *testing.T) {
	tests := []struct {
		name     string
		queue    float64
		launches int
		fault    bool // the burst falls inside a fault window
		want     bool
	}{
		{"one task per cycle at the target", 20, 1, false, false},
		{"queue 60, 3 launches (90 - 52 = 38)", 60, 3, false, false},
		{"queue 4, 4 launches (120 - 0)", 4, 4, false, true},
		{"queue 4, 16 launches", 4, 16, false, true},
		{"queue 4, 16 launches inside a fault window", 4, 16, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := synth{secs: 60, size: func(float64) float64 { return tc.queue }}
			if tc.fault {
				s.faults = [][2]float64{{25, 10}}
			}
			for i := range tc.launches {
				s.active = append(s.active, [2]float64{30 + 0.1*float64(i), 33.5})
			}
			tr, ph := s.trace()
			for i := range tr.Faults {
				tr.Faults[i].Kind = FaultMetricFail // not a starvation: no windup check
			}
			ev := CheckMetric(tr, defaultLimits(), ph)
			got := checksOf(ev.Violations)
			if (got["overshoot"] > 0) != tc.want || got["overshoot"] > 1 {
				t.Errorf("overshoot fired %d times, want fired=%v: %v", got["overshoot"], tc.want, ev.Violations)
			}
		})
	}
}

// TestReportReadBack: what WriteReport writes, ReadRun reads back for -recheck, and the
// checks find the same.
func TestReportReadBack(t *testing.T) {
	s := synth{secs: 240, size: func(x float64) float64 { return 20 + 2*math.Max(0, x-60) }, faults: every(60, 240, 8, 5), active: [][2]float64{{1, 4}}}
	tr, _ := s.trace()
	ph := Phases{BaseFrom: t0, BaseTo: at(60), FaultsFrom: at(60), FaultsTo: at(240)}
	snap := Snapshot{Samples: tr.Samples, Tasks: map[string]MasterTask{}}
	end := at(4)
	snap.Tasks["relay-warmer-t1-1"] = MasterTask{ID: "relay-warmer-t1-1", State: "TASK_FINISHED", LaunchedAt: at(1), EndedAt: &end}
	snap.Launches = []LaunchSeen{{TaskID: "relay-warmer-t1-1", At: at(1), Term: 1}}
	var faults []Fault
	for _, f := range tr.Faults {
		faults = append(faults, f.Fault)
	}
	lim := defaultLimits()
	res := &Result{Snapshot: snap, Phases: ph, Limits: lim, Started: t0}
	res.Evaluation = Evaluate(snap, faults, lim, ph)
	dir := t.TempDir()
	if err := WriteReport(dir, res); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRun(dir, 0, PlantOf(ClusterConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Guessed) != 0 {
		t.Errorf("guessed %v from a complete report", rec.Guessed)
	}
	if !rec.Phases.FaultsTo.Equal(ph.FaultsTo) || !rec.Phases.BaseFrom.Equal(ph.BaseFrom) {
		t.Errorf("phases %+v, want %+v", rec.Phases, ph)
	}
	if len(rec.Trace.Samples) != len(tr.Samples) || len(rec.Trace.Faults) != len(tr.Faults) || len(rec.Trace.Active) != 1 || len(rec.Trace.Launches) != 1 {
		t.Fatalf("read back %d samples, %d faults, %d tasks, %d launches", len(rec.Trace.Samples), len(rec.Trace.Faults), len(rec.Trace.Active), len(rec.Trace.Launches))
	}
	again := CheckMetric(rec.Trace, lim, rec.Phases)
	want, got := checksOf(res.Violations), checksOf(again.Violations)
	if want["metric-recovery"] == 0 || want["metric-stall"] == 0 {
		t.Errorf("the run's own checks missed the stall: %v", res.Violations)
	}
	for c, n := range want {
		if got[c] != n {
			t.Errorf("%s: %d from the run, %d from its files", c, n, got[c])
		}
	}
}
