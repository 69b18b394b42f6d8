package loop

import (
	"testing"
	"time"
)

// scalePlant is the web-servers example's shape: each unit is a short task (lag 1, life 1) that
// asks an API to scale an app by one; the app's instance count, the metric, changes when the
// task has done its call, that is when it ends. A warmer adds an instance, a cooler removes one.
type scalePlant struct {
	instances int
	t         int
	launched  [Ring][2]int // launched[t % Ring][kind]
}

func (p *scalePlant) tick(c *Controller, now time.Time, sp float64) Decision {
	const lag, life = 1, 1
	var l Ledger
	kc := [2]*KindCounts{&l.Warmer, &l.Cooler}
	for k := 0; k < 2; k++ {
		// Units launched at s: pending on (s, s+lag), running on [s+lag, s+lag+life), ended after.
		if p.t-lag-life >= 0 {
			n := p.launched[(p.t-lag-life)%Ring][k]
			if k == 0 {
				p.instances += n
			} else {
				p.instances = max(p.instances-n, 0)
			}
		}
		for s := p.t - lag - life + 1; s <= p.t-1; s++ {
			if s < 0 {
				continue
			}
			if s+lag <= p.t {
				kc[k].Running += p.launched[s%Ring][k]
			} else {
				kc[k].Pending += p.launched[s%Ring][k]
			}
		}
	}
	d := c.Step(Input{Now: now, Metric: Sample{Value: float64(p.instances), OK: true},
		Target: Sample{Value: sp, OK: true}, Ledger: l})
	p.launched[p.t%Ring] = [2]int{d.Warmers, d.Coolers}
	p.t++
	return d
}

// A unit whose whole effect comes when it ends is judged at its end. Judged at its start, it
// seemed to do almost nothing, and the controller asked for MaxPerTick units a tick, every
// tick (the web-servers example with a scale-by-one API: 100 coolers a tick; here the app grew
// to over 13000 instances and never came back).
func TestUnitsThatActWhenTheyEnd(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPerTick, cfg.MaxInFlight = 100, 1000
	cfg.HasCooler = true
	c := New(cfg)
	p := &scalePlant{instances: 3}
	start := time.Unix(1_700_000_000, 0)
	steps := []struct {
		from int
		sp   float64
	}{{0, 3}, {40, 7}, {120, 1}, {200, 5}}
	most, worst, at := 0, 0.0, 0
	for tick := 0; tick < 280; tick++ {
		sp := 0.0
		settled := false
		for _, st := range steps {
			if tick >= st.from {
				sp = st.sp
				settled = tick >= st.from+30
			}
		}
		d := p.tick(c, start.Add(time.Duration(tick)*time.Second), sp)
		most = max(most, d.Warmers, d.Coolers)
		if e := float64(p.instances) - sp; settled && (e > worst || -e > worst) {
			worst, at = max(e, -e), tick
		}
	}
	// Known weakness, logged not asserted: while the end effect is still uncertain (after the
	// first two units), one tick can still ask for MaxPerTick units (the examples bound it
	// with RELAY_MAX_PER_TICK).
	t.Logf("most units in one tick %d; worst |instances - target| once settled %.0f at tick %d", most, worst, at)
	if worst > 1 {
		t.Errorf("|instances - target| %.0f at tick %d, 30 ticks after a step; want <= 1", worst, at)
	}
}
