package framework

import (
	"context"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/relay-mesos/relay-mesos/framework/localmaster"
)

// latencyRecorder keeps every offer-to-ACCEPT latency on top of the counting recorder.
type latencyRecorder struct {
	*fakeRecorder
	mu  sync.Mutex
	lat []float64
}

func (r *latencyRecorder) OfferToAccept(s float64) {
	r.mu.Lock()
	r.lat = append(r.lat, s)
	r.mu.Unlock()
}

func (r *latencyRecorder) p(q float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lat) == 0 {
		return 0
	}
	s := append([]float64(nil), r.lat...)
	sort.Float64s(s)
	return time.Duration(s[min(len(s)-1, int(q*float64(len(s))))] * float64(time.Second))
}

// TestBenchLaunchThroughput is `make bench-framework`'s end-to-end figure: tasks launched per
// second from a decision (Demand) to TASK_RUNNING through the embedded master, short tasks, and
// the offer-to-ACCEPT latency. It is a benchmark: skipped unless RELAY_BENCH_FRAMEWORK=1.
func TestBenchLaunchThroughput(t *testing.T) {
	if os.Getenv("RELAY_BENCH_FRAMEWORK") != "1" {
		t.Skip("benchmark; set RELAY_BENCH_FRAMEWORK=1 (make bench-framework)")
	}
	m := startMaster(t, localmaster.Config{Resources: "cpus:1000;mem:1000000;disk:1000000", OfferInterval: 20 * time.Millisecond})
	rec := &latencyRecorder{fakeRecorder: newRecorder()}
	cfg := testConfig(m.URL(), t.TempDir())
	cfg.Warmer = "sleep 60"
	cfg.Task = Resources{CPUs: 0.1, Mem: 1}
	s, err := New(cfg, "", nil, Hooks{}, rec, testLogger(t, "sched"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, rec: rec.fakeRecorder, cancel: cancel, exited: make(chan struct{})}
	go func() { r.err = s.Run(ctx); close(r.exited) }()
	t.Cleanup(func() { r.stop(t) })
	r.ready(t)

	const n = 500
	done := 0
	for round, units := range []int{1, n} {
		start := time.Now()
		s.Withdraw()
		s.Demand(units, 0)
		first := time.Time{}
		waitUntil(t, 60*time.Second, "tasks running", func() bool {
			running := s.Ledger().Counts(false).Warmer.Running
			if running >= 1 && first.IsZero() {
				first = time.Now()
			}
			return running >= done+units
		})
		done += units
		took := time.Since(start)
		if round == 0 {
			t.Logf("one unit: decision -> RUNNING in %v", took)
			continue
		}
		t.Logf("%d units: decision -> all RUNNING in %v: %.0f tasks/s (first RUNNING after %v)", units, took, float64(units)/took.Seconds(), first.Sub(start))
	}
	t.Logf("offer-to-ACCEPT latency: p50 %v, p99 %v over %d offers", rec.p(0.5), rec.p(0.99), len(rec.lat))
}
