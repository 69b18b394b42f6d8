package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
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

// since returns the latencies recorded from index i on.
func (r *latencyRecorder) since(i int) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]float64(nil), r.lat[min(i, len(r.lat)):]...)
}

func (r *latencyRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lat)
}

// quantile of seconds, as a duration (nearest rank).
func quantile(secs []float64, q float64) time.Duration {
	if len(secs) == 0 {
		return 0
	}
	s := append([]float64(nil), secs...)
	sort.Float64s(s)
	i := int(q*float64(len(s))+0.5) - 1
	return time.Duration(s[max(0, min(len(s)-1, i))] * float64(time.Second))
}

// startCeiling starts n `bash -c "sleep 600"` processes, par at a time, the way the embedded
// agent starts a task (a sandbox directory, stdout and stderr files, its own process group),
// then kills them: the machine's own ceiling for tasks started per second, whatever the
// framework and the master do around it.
func startCeiling(t *testing.T, n, par int) float64 {
	t.Helper()
	dir := t.TempDir()
	var mu sync.Mutex
	var cmds []*exec.Cmd
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var failed error
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := func() error {
				sb := filepath.Join(dir, fmt.Sprint(i))
				if err := os.MkdirAll(sb, 0o755); err != nil {
					return err
				}
				cmd := exec.Command("bash", "-c", "sleep 600")
				cmd.Dir = sb
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				out, err := os.OpenFile(filepath.Join(sb, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					return err
				}
				defer out.Close()
				errf, err := os.OpenFile(filepath.Join(sb, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					return err
				}
				defer errf.Close()
				cmd.Stdout, cmd.Stderr = out, errf
				if err := cmd.Start(); err != nil {
					return err
				}
				mu.Lock()
				cmds = append(cmds, cmd)
				mu.Unlock()
				return nil
			}()
			if err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rate := float64(n) / time.Since(start).Seconds()
	for _, c := range cmds {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		_ = c.Wait()
	}
	if failed != nil {
		t.Fatalf("start: %v", failed)
	}
	return rate
}

// TestBenchLaunchThroughput is `make bench-framework`'s end-to-end figure through the embedded
// master, with short tasks (`sleep 600`, 0.1 cpu; cheap to start, alive for the whole run): tasks launched per second from a decision
// (Demand) to TASK_RUNNING in the ledger, the time from a decision to the master receiving the
// ACCEPT, and the offer-to-ACCEPT latency (OFFERS event decoded -> ACCEPT request written).
// It is a benchmark: skipped unless RELAY_BENCH_FRAMEWORK=1.
func TestBenchLaunchThroughput(t *testing.T) {
	if os.Getenv("RELAY_BENCH_FRAMEWORK") != "1" {
		t.Skip("benchmark; set RELAY_BENCH_FRAMEWORK=1 (make bench-framework)")
	}
	// The agent's default status update retry (10 s, as Mesos'), not the tests' quick one: a
	// retry is a duplicate update and acknowledgement, which a loaded machine cannot afford.
	m := startMaster(t, localmaster.Config{Resources: "cpus:1000;mem:1000000;disk:1000000", OfferInterval: 20 * time.Millisecond,
		UpdateRetry: 10 * time.Second})
	rec := &latencyRecorder{fakeRecorder: newRecorder()}
	cfg := testConfig(m.URL(), t.TempDir())
	cfg.Warmer = "sleep 600"
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

	// firstLaunchAfter is when the master received the first ACCEPT launching a task after start.
	firstLaunchAfter := func(start time.Time) time.Duration {
		for _, l := range m.Snapshot().Launches {
			if !l.At.Before(start) {
				return l.At.Sub(start)
			}
		}
		return -1
	}
	running := func() int { return s.Ledger().Counts(false).Warmer.Running }
	// demand asks for units more tasks and waits until they all run: decision -> all RUNNING,
	// and decision -> first of them RUNNING.
	done := 0
	demand := func(units int) (all, first time.Duration) {
		start := time.Now()
		s.Withdraw()
		s.Demand(units, 0)
		var firstAt time.Time
		waitUntil(t, 120*time.Second, "tasks running", func() bool {
			n := running()
			if n > done && firstAt.IsZero() {
				firstAt = time.Now()
			}
			return n >= done+units
		})
		done += units
		return time.Since(start), firstAt.Sub(start)
	}

	start := time.Now()
	took, _ := demand(1)
	t.Logf("one unit: decision -> RUNNING in %v (decision -> ACCEPT at the master %v)", took, firstLaunchAfter(start))

	ceiling := func() string {
		return fmt.Sprintf("%.0f/s one at a time, %.0f/s %d at a time", startCeiling(t, 100, 1), startCeiling(t, 100, 2*runtime.NumCPU()), 2*runtime.NumCPU())
	}
	t.Logf("machine ceiling before: bash -c 'sleep 600' started alone (sandbox dir, stdout/stderr files, process group): %s", ceiling())

	const n = 500
	start = time.Now()
	mark := rec.count()
	took, first := demand(n)
	t.Logf("%d units: decision -> all RUNNING in %v: %.0f tasks/s (decision -> ACCEPT at the master %v, -> first RUNNING %v; %d ACCEPTs, offer-to-ACCEPT %v)",
		n, took, float64(n)/took.Seconds(), firstLaunchAfter(start), first, rec.count()-mark, quantile(rec.since(mark), 1))

	t.Logf("machine ceiling after: %s", ceiling())

	// Offer-to-ACCEPT over many offers: one more unit per decision.
	const rounds = 100
	mark = rec.count()
	var toMaster []float64
	for range rounds {
		start = time.Now()
		demand(1)
		toMaster = append(toMaster, firstLaunchAfter(start).Seconds())
	}
	lat := rec.since(mark)
	t.Logf("offer-to-ACCEPT (OFFERS decoded -> ACCEPT request written) over %d one-unit ACCEPTs: p50 %v, p99 %v, max %v",
		len(lat), quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 1))
	t.Logf("decision -> ACCEPT received by the master over %d one-unit decisions: p50 %v, p99 %v, max %v",
		len(toMaster), quantile(toMaster, 0.5), quantile(toMaster, 0.99), quantile(toMaster, 1))
}
