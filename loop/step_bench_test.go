package loop

import (
	"testing"
	"time"
)

// BenchmarkStep is one controller tick in steady state: a tasks plant held at 50 with a lag of
// 10 ticks and a life of 40, so the prediction walks a full history. Target: under 5 µs and
// zero allocations per tick.
func BenchmarkStep(b *testing.B) {
	cfg := DefaultConfig()
	cfg.HasCooler = true
	cfg.Delay = time.Second
	c := New(cfg)
	p := newTaskPlant(10, 40)
	epoch := time.Unix(1e9, 0)
	for t := 0; t < 400; t++ { // warm up: learn the plant
		p.tick(c, epoch.Add(time.Duration(t)*time.Second), 50)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.tick(c, epoch.Add(time.Duration(400+i)*time.Second), 50)
	}
}
