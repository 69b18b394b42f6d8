package chaos

import (
	"os"
	"sort"
	"syscall"
	"testing"
	"time"
)

// TestBenchFailover (make bench-failover; RELAY_BENCH_FAILOVER=1): the handoff time after
// SIGTERM of the leader, from the signal to a new term leading and deciding, over 20 rounds.
// Target: p99 < 500 ms.
func TestBenchFailover(t *testing.T) {
	if os.Getenv("RELAY_BENCH_FAILOVER") != "1" {
		t.Skip("set RELAY_BENCH_FAILOVER=1 (make bench-failover)")
	}
	c, _, ctx := haCluster(t)
	const rounds = 20
	var took []time.Duration
	for n := range rounds {
		li, st := c.Leader(ctx)
		if st == nil {
			var err error
			if li, err = c.WaitLeader(ctx, 0, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			st, _ = c.Status(ctx, li)
		}
		start := time.Now()
		if err := c.Replicas[li].Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		var d time.Duration
		for {
			if i, s := c.Leader(ctx); s != nil && s.Term > st.Term && i != li {
				d = time.Since(start)
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("round %d: no new leader 30 s after SIGTERM", n+1)
			}
			time.Sleep(5 * time.Millisecond)
		}
		took = append(took, d)
		t.Logf("round %2d: replica %d (term %d) -> handoff %v", n+1, li, st.Term, d.Round(time.Millisecond))
		if !c.Replicas[li].Wait(10 * time.Second) {
			t.Fatalf("replica %d did not exit after SIGTERM", li)
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
	p50, p99 := percentile(took, 0.5), percentile(took, 0.99)
	t.Logf("handoff after SIGTERM over %d rounds: p50 %v, p99 %v, max %v", rounds, p50.Round(time.Millisecond), p99.Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	if p99 >= 500*time.Millisecond {
		t.Errorf("handoff p99 %v, target < 500ms", p99.Round(time.Millisecond))
	}
}
