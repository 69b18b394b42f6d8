package loop

import (
	"errors"
	"math"
	"testing"
	"time"
)

// The controller's scale is chosen once, from the first metric and target that are not both
// zero, unless the operator set one; the decision reports the error in metric units whatever
// the scale.
func TestTheMetricScale(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfgScale  float64
		restored  float64      // a checkpoint's scale (0: a fresh state)
		readings  [][2]float64 // metric, target per tick
		wantScale float64
	}{
		{name: "a task count", readings: [][2]float64{{4, 20}}, wantScale: 1},
		{name: "a count of 0 for a target of 2 is no fraction", readings: [][2]float64{{0, 2}}, wantScale: 1},
		{name: "requests a second", readings: [][2]float64{{5000, 5200}}, wantScale: 100},
		{name: "just under 300", readings: [][2]float64{{299, 0}}, wantScale: 1},
		{name: "300", readings: [][2]float64{{300, 0}}, wantScale: 10},
		{name: "a CPU share", readings: [][2]float64{{0.4, 0.7}}, wantScale: 0.01},
		{name: "a count of 2 for a target of 0.5", readings: [][2]float64{{2, 0.5}}, wantScale: 1},
		{name: "a queue read in hundreds", readings: [][2]float64{{-1.34, -0.16}}, wantScale: 0.01},
		{name: "a load of 2.5", readings: [][2]float64{{2.5, 2}}, wantScale: 0.01},
		{name: "a fraction of 3 or more is not scaled", readings: [][2]float64{{24.8, 15.5}}, wantScale: 1},
		{name: "chosen at the first readings not both zero", readings: [][2]float64{{0, 0}, {0, 0}, {0.4, 0}, {5000, 0}}, wantScale: 0.01},
		{name: "set by the operator", cfgScale: 1, readings: [][2]float64{{5000, 5200}}, wantScale: 1},
		{name: "a checkpoint keeps its scale", cfgScale: 1, restored: 100, readings: [][2]float64{{5000, 5200}}, wantScale: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MetricScale = tc.cfgScale
			c := New(cfg)
			if tc.restored > 0 {
				s := NewState()
				s.Scale = tc.restored
				c.Restore(s)
			}
			var d Decision
			for i, r := range tc.readings {
				d = c.Step(Input{Now: time.Unix(int64(i), 0), Metric: Sample{Value: r[0], OK: true}, Target: Sample{Value: r[1], OK: true}})
			}
			if got := c.State().Scale; got != tc.wantScale {
				t.Fatalf("scale %v, want %v", got, tc.wantScale)
			}
			last := tc.readings[len(tc.readings)-1]
			if want := last[1] - last[0]; math.Abs(d.Error-want) > 1e-9*math.Abs(want) {
				t.Fatalf("error %v, want %v (metric units)", d.Error, want)
			}
		})
	}
}

func TestAMetricScaleMustBeANumberAtLeastZero(t *testing.T) {
	for _, v := range []float64{-0.01, math.NaN(), math.Inf(1)} {
		cfg := DefaultConfig()
		cfg.MetricScale = v
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("metric-scale %v: got %v, want ErrConfig", v, err)
		}
	}
}
