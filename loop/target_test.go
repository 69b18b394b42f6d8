package loop

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The controller aims at where a moving target will be when a unit launched now acts, and at
// where a target that steps or is read with noise is.
func TestTargetAhead(t *testing.T) {
	sine := func(i int) float64 { return 40 + 25*math.Sin(2*math.Pi*float64(i)/200) }
	r := rand.New(rand.NewPCG(1, 2))
	noisy := func(int) float64 { return 40 + 4*r.Float64() - 2 }
	square := func(i int) float64 {
		if i%120 < 60 {
			return 60
		}
		return 10
	}
	ramp := func(i int) float64 { return 1.5 * float64(i) }
	cases := []struct {
		name   string
		target func(int) float64
		lag    int
		// want is the largest |aim - target lag ticks later| (future) or |aim - target now|
		// (now) allowed from tick 20 on.
		future, now float64
	}{
		{"a sine is met where it will be", sine, 8, 1.6, -1}, // aimed at where it is: 6.3
		{"a ramp is met where it will be", ramp, 10, 1e-9, -1},
		{"a square wave is aimed at where it is", square, 8, -1, 0},
		{"noise of -2..2 is led by at most its range", noisy, 10, -1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			worstFuture, worstNow := 0.0, 0.0
			for i := 0; i < 5000; i++ {
				sp := tc.target(i)
				followTarget(&s, sp)
				aim := targetAhead(&s, sp, tc.lag)
				if i < 20 {
					continue
				}
				worstNow = math.Max(worstNow, math.Abs(aim-sp))
				if tc.future >= 0 {
					worstFuture = math.Max(worstFuture, math.Abs(aim-tc.target(i+tc.lag)))
				}
			}
			t.Logf("largest error against the future target %.3f, lead %.3f", worstFuture, worstNow)
			if tc.future >= 0 && worstFuture > tc.future {
				t.Errorf("aimed %.3f from the target %d ticks later, want <= %v", worstFuture, tc.lag, tc.future)
			}
			if tc.now >= 0 && worstNow > tc.now {
				t.Errorf("led the target by %.3f, want <= %v", worstNow, tc.now)
			}
		})
	}
}

// A tick without a target read starts the target's course afresh: the next target is not
// taken as one tick's change from the last one read.
func TestTargetCourseRestartsAfterAMiss(t *testing.T) {
	c := New(DefaultConfig())
	start := time.Unix(0, 0)
	at := func(tick int) time.Time { return start.Add(time.Duration(tick) * time.Second) }
	for tick := 0; tick < 30; tick++ {
		c.Step(Input{Now: at(tick), Metric: Sample{Value: 10, OK: true}, Target: Sample{Value: float64(2 * tick), OK: true}})
	}
	if s := c.State(); s.SPRun == 0 {
		t.Fatalf("a target rising 2 a tick was not seen moving smoothly")
	}
	c.Step(Input{Now: at(30), Metric: Sample{Value: 10, OK: true}})
	c.Step(Input{Now: at(31), Metric: Sample{Value: 10, OK: true}, Target: Sample{Value: 62, OK: true}})
	if s := c.State(); targetAhead(&s, 62, 10) != 62 {
		t.Errorf("aimed at %v one tick after a miss, want 62 (where the target is)", targetAhead(&s, 62, 10))
	}
}

// The decision says what target the units were sized for: ahead of a target that rises, the
// target itself once it stays.
func TestTheDecisionSaysWhereItAimed(t *testing.T) {
	c := New(DefaultConfig())
	start := time.Unix(0, 0)
	launched, ahead := 0, 0 // tasks that start the tick after their launch and run for ever
	for tick := 0; tick < 80; tick++ {
		sp := float64(min(2*tick, 80))
		d := c.Step(Input{Now: start.Add(time.Duration(tick) * time.Second),
			Metric: Sample{Value: float64(launched), OK: true}, Target: Sample{Value: sp, OK: true},
			Ledger: Ledger{Warmer: KindCounts{Running: launched}}})
		launched += d.Warmers
		if d.Warmers == 0 {
			continue
		}
		switch {
		case tick >= 5 && tick < 40 && d.Aimed > sp:
			ahead++
		case tick >= 43 && d.Aimed != sp:
			t.Errorf("tick %d: aimed at %v for a target that stays at %v", tick, d.Aimed, sp)
		}
	}
	t.Logf("%d launches aimed ahead of the rising target; %d tasks for a target of 80", ahead, launched)
	if ahead == 0 {
		t.Errorf("no launch aimed ahead of a target rising 2 a tick")
	}
}

// A checkpoint written while the target moves resumes with the target's course: a failover in
// the middle of a schedule's rise takes the same decisions, aimed at the same targets, as the
// leader that wrote it would have, at the scale the metric is read in too.
func TestACheckpointMidRiseResumesTheSameAim(t *testing.T) {
	for _, scale := range []float64{1, 10} {
		t.Run(fmt.Sprintf("scale %v", scale), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Delay = time.Second
			cfg.MetricScale = scale
			a := New(cfg)
			p := newTaskPlant(5, 40)
			epoch := time.Unix(1e9, 0)
			target := func(i int) float64 { return 30 + 40*math.Sin(2*math.Pi*float64(i)/300) }
			for i := 0; i < 150; i++ {
				p.tick(a, epoch.Add(time.Duration(i)*time.Second), target(i))
			}
			st := a.State()
			if st.SPRun == 0 {
				t.Fatalf("scale %v: the target's course was not followed before the checkpoint", scale)
			}
			b, err := MarshalState(&st)
			if err != nil {
				t.Fatal(err)
			}
			var held struct { // the checkpoint holds the course in metric units, whatever the scale
				PrevSP float64 `json:"prev_sp"`
				SPStep float64 `json:"sp_step"`
			}
			if err := json.Unmarshal(b, &held); err != nil {
				t.Fatal(err)
			}
			if math.Abs(held.PrevSP-target(149)) > 1e-9 || math.Abs(held.SPStep-(target(149)-target(148))) > 1e-9 {
				t.Errorf("scale %v: the checkpoint holds the last target %v and its change %v, want %v and %v",
					scale, held.PrevSP, held.SPStep, target(149), target(149)-target(148))
			}
			aimedAhead := 0
			for j, d := range resumedAlike(t, cfg, a, b, p, epoch, 150, 220, target) {
				if d.Aimed != 0 && d.Aimed != target(150+j) {
					aimedAhead++
				}
			}
			if aimedAhead == 0 {
				t.Errorf("scale %v: no decision after the checkpoint aimed anywhere but at the target as read", scale)
			}
		})
	}
}
