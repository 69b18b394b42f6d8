package chaos

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestBenchFailover (make bench-failover; RELAY_BENCH_FAILOVER=1): the handoff time after
// SIGTERM of the leader, from the signal to a new term leading and deciding, over 20 rounds.
// Target: p99 < 500 ms.
func TestBenchFailover(t *testing.T) {
	if os.Getenv("RELAY_BENCH_FAILOVER") != "1" {
		t.Skip("set RELAY_BENCH_FAILOVER=1 (make bench-failover)")
	}
	c, _, _ := haCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	const rounds, killRounds = 20, 8
	took := failoverRounds(t, ctx, c, syscall.SIGTERM, rounds)
	p50, p99 := percentile(took, 0.5), percentile(took, 0.99)
	t.Logf("handoff after SIGTERM over %d rounds: p50 %v, p99 %v, max %v", rounds, p50.Round(time.Millisecond), p99.Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	if p99 >= 500*time.Millisecond {
		t.Errorf("handoff p99 %v, target < 500ms", p99.Round(time.Millisecond))
	}

	// Failover after kill -9: from the signal to a new term leading and deciding. The bound is
	// the ZooKeeper session timeout (4 s here: the harness's replicas use a short one so that a
	// run stays short; the default 10 s trades a slower crash failover for fewer false
	// failovers on a loaded ZooKeeper) + 1 s.
	kills := failoverRounds(t, ctx, c, syscall.SIGKILL, killRounds)
	kp50, kp99 := percentile(kills, 0.5), percentile(kills, 0.99)
	t.Logf("failover after kill -9 over %d rounds: p50 %v, p99 %v, max %v (bound: session timeout %v + 1 s)", killRounds,
		kp50.Round(time.Millisecond), kp99.Round(time.Millisecond), kills[len(kills)-1].Round(time.Millisecond), c.Cfg.SessionTimeout)
	if kp99 > c.Cfg.SessionTimeout+time.Second {
		t.Errorf("kill -9 failover p99 %v, target <= %v", kp99.Round(time.Millisecond), c.Cfg.SessionTimeout+time.Second)
	}

	// Checkpoint writes, from the current leader's /metrics.
	li, err := c.WaitLeader(ctx, 0, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	p99ckpt, count, size, err := checkpointFigures(ctx, c.Replicas[li].URL()+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checkpoint writes (leader of the last term, %d writes): p99 <= %v, %v bytes per checkpoint", count, p99ckpt, size)
}

// failoverRounds signals the leader rounds times and returns, sorted, the time from the
// signal to a new term leading; the signalled replica is restarted after each round.
func failoverRounds(t *testing.T, ctx context.Context, c *Cluster, sig syscall.Signal, rounds int) []time.Duration {
	t.Helper()
	var took []time.Duration
	for n := range rounds {
		li, err := c.WaitLeader(ctx, 0, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.Status(ctx, li)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.Replicas[li].Signal(sig); err != nil {
			t.Fatal(err)
		}
		for {
			if i, s := c.Leader(ctx); s != nil && s.Term > st.Term && i != li {
				break
			}
			if time.Since(start) > 60*time.Second {
				t.Fatalf("%v round %d: no new leader 60 s after the signal", sig, n+1)
			}
			time.Sleep(5 * time.Millisecond)
		}
		d := time.Since(start)
		took = append(took, d)
		t.Logf("%v round %2d: replica %d (term %d) -> new leader after %v", sig, n+1, li, st.Term, d.Round(time.Millisecond))
		if !c.Replicas[li].Wait(10 * time.Second) {
			t.Fatalf("replica %d did not exit after %v", li, sig)
		}
		if err := c.Replicas[li].Start(); err != nil {
			t.Fatal(err)
		}
		if err := c.waitHTTP(ctx, c.Replicas[li].URL()+"/healthz", 20*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the restarted replica campaigns and follows
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	return took
}

// checkpointFigures reads the checkpoint duration histogram's p99 (the upper bound of its
// bucket), the number of writes, and the latest checkpoint's size from a replica's /metrics.
func checkpointFigures(ctx context.Context, url string) (time.Duration, uint64, float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, 0, 0, err
	}
	var size float64
	if f := fams["relay_mesos_checkpoint_bytes"]; f != nil && len(f.GetMetric()) > 0 {
		size = f.GetMetric()[0].GetGauge().GetValue()
	}
	f := fams["relay_mesos_checkpoint_duration_seconds"]
	if f == nil || len(f.GetMetric()) == 0 {
		return 0, 0, size, fmt.Errorf("no relay_mesos_checkpoint_duration_seconds in %s", url)
	}
	h := f.GetMetric()[0].GetHistogram()
	n := h.GetSampleCount()
	for _, b := range h.GetBucket() {
		if float64(b.GetCumulativeCount()) >= 0.99*float64(n) {
			return time.Duration(b.GetUpperBound() * float64(time.Second)), n, size, nil
		}
	}
	return 0, n, size, nil
}
