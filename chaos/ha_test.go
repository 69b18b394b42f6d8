package chaos

import (
	"context"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relay-mesos/relay-mesos/election/zktest"
)

// haCluster starts a cluster and an observer for a process test.
func haCluster(t *testing.T) (*Cluster, *Observer, context.Context) {
	t.Helper()
	zktest.Require(t)
	if testing.Short() {
		t.Skip("starts a cluster of processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c, err := StartCluster(ctx, ClusterConfig{Binary: binary, PlantCommand: plantCommand(t), Dir: filepath.Join(t.TempDir(), "run"), Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	obs := NewObserver(c, 50*time.Millisecond)
	octx, ocancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = obs.Run(octx) }()
	t.Cleanup(func() { ocancel(); wg.Wait() })
	return c, obs, ctx
}

// waitFor polls cond every 100ms up to bound.
func waitFor(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", bound, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFailoverKill9 kills -9 the leader of three replica processes: the new leader keeps the
// FrameworkID, adopts the running tasks (none killed, none launched twice) and resumes with
// the checkpointed controller state.
func TestFailoverKill9(t *testing.T) {
	c, obs, ctx := haCluster(t)
	// Let it launch and learn: wait for a task to have run and ended.
	waitFor(t, 60*time.Second, "no task finished", func() bool {
		obs.Refresh(ctx)
		for _, tk := range obs.Snapshot().Tasks {
			if tk.State == "TASK_FINISHED" {
				return true
			}
		}
		return false
	})
	var (
		old        *ReplicaStatus
		li         int
		liveBefore = map[string]bool{}
	)
	waitFor(t, 30*time.Second, "no leader with live tasks on the master", func() bool {
		li, old = c.Leader(ctx)
		ms, err := c.MasterState(ctx)
		if old == nil || err != nil || len(ms.Tasks) == 0 {
			return false
		}
		for _, tk := range ms.Tasks {
			liveBefore[tk.ID] = true
		}
		return true
	})
	oldCtrl := old.Controller
	killedAt := time.Now()
	c.Replicas[li].Kill()
	ni, err := c.WaitLeader(ctx, old.Term, c.Cfg.SessionTimeout+10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(killedAt)
	t.Logf("kill -9 of replica %d (term %d): replica %d decides after %v", li, old.Term, ni, took.Round(time.Millisecond))
	if took > c.Cfg.SessionTimeout+time.Second+500*time.Millisecond { // +0.5 s: this test polls
		t.Errorf("failover took %v, want <= session timeout %v + 1 s", took, c.Cfg.SessionTimeout)
	}
	nst, err := c.Status(ctx, ni)
	if err != nil {
		t.Fatal(err)
	}
	if nst.FrameworkID != old.FrameworkID || nst.FrameworkID == "" {
		t.Errorf("new leader's FrameworkID %q, old %q", nst.FrameworkID, old.FrameworkID)
	}
	// Resumes with the checkpointed controller state: the learned model, not the prior.
	time.Sleep(time.Duration(3 * c.Cfg.Delay * float64(time.Second)))
	nst, _ = c.Status(ctx, ni)
	for _, k := range []string{"warmer_per_unit", "warmer_lag", "warmer_life", "drift"} {
		a, b := oldCtrl[k], nst.Controller[k]
		t.Logf("controller %s: old leader last %.3f, new leader %.3f", k, a, b)
		if k != "drift" && math.Abs(a-b) > 0.3*math.Abs(a)+1 {
			t.Errorf("controller %s: old leader left %.3f, new leader resumed with %.3f", k, a, b)
		}
	}
	if _, err := c.Status(ctx, ni); err != nil {
		t.Fatal(err)
	}
	// Tasks survive: every task live before the kill ends FINISHED or is still running.
	time.Sleep(time.Second)
	obs.Refresh(ctx)
	snap := obs.Snapshot()
	adopted := 0
	for id := range liveBefore {
		tk, ok := snap.Tasks[id]
		switch {
		case !ok:
			t.Errorf("task %s vanished from the master", id)
		case tk.State == "TASK_FINISHED" || tk.State == "TASK_RUNNING":
			adopted++
		default:
			t.Errorf("task %s, live before the failover, ended %s (%s)", id, tk.State, tk.Message)
		}
	}
	t.Logf("%d tasks live at the kill, %d survived", len(liveBefore), adopted)
	if adopted == 0 {
		t.Error("no task survived the failover")
	}
	if len(snap.DupLaunches) > 0 {
		t.Errorf("tasks launched twice: %v", snap.DupLaunches)
	}
	if err := c.Replicas[li].Start(); err != nil {
		t.Fatal(err)
	}
	ev := Evaluate(snap, nil, LimitsFor(PlantOf(c.Cfg)), Phases{FaultsFrom: killedAt, FaultsTo: time.Now()})
	for _, v := range ev.Violations {
		if !strings.HasPrefix(v.Check, "metric-") { // a failover test, not a control one
			t.Errorf("violation: %s", v)
		}
	}
	if len(ev.FrameworkIDs) != 1 {
		t.Errorf("FrameworkIDs %v, want one", ev.FrameworkIDs)
	}
}

// TestPausedLeader stops the leader (SIGSTOP) past the session timeout, lets a new leader
// take over, then wakes it (SIGCONT): it launches nothing and writes no checkpoint after it
// wakes; its stale writes fail.
func TestPausedLeader(t *testing.T) {
	c, obs, ctx := haCluster(t)
	li, old := c.Leader(ctx)
	if old == nil {
		t.Fatal("no leader")
	}
	pausedAt := time.Now()
	if err := c.Replicas[li].Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ni, err := c.WaitLeader(ctx, old.Term, c.Cfg.SessionTimeout+10*time.Second)
	if err != nil {
		_ = c.Replicas[li].Signal(syscall.SIGCONT)
		t.Fatal(err)
	}
	nst, _ := c.Status(ctx, ni)
	t.Logf("replica %d paused (term %d); replica %d leads (term %d) after %v", li, old.Term, ni, nst.Term, time.Since(pausedAt).Round(time.Millisecond))
	time.Sleep(time.Second)
	wokeAt := time.Now()
	if err := c.Replicas[li].Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// Give the woken replica time to act if it wrongly would.
	time.Sleep(4 * time.Second)
	obs.Refresh(ctx)
	snap := obs.Snapshot()
	for _, l := range snap.Launches {
		if l.Term == old.Term && l.At.After(pausedAt) {
			t.Errorf("paused leader (term %d) launched %s at %s, after it was paused", old.Term, l.TaskID, l.At.Format("15:04:05.000"))
		}
	}
	for _, cp := range snap.Checkpoints {
		if cp.Token == old.Term && cp.SeenAt.After(wokeAt) {
			t.Errorf("a checkpoint of the paused term %d was stored after it woke (written %s)", old.Term, cp.WrittenAt.Format("15:04:05.000"))
		}
	}
	sort.Slice(snap.Checkpoints, func(i, j int) bool { return snap.Checkpoints[i].SeenAt.Before(snap.Checkpoints[j].SeenAt) })
	if n := len(snap.Checkpoints); n == 0 || snap.Checkpoints[n-1].Token < nst.Term {
		t.Errorf("the stored checkpoint's token is not the new leader's (%d): %v", nst.Term, snap.Checkpoints)
	}
	if st, err := c.Status(ctx, li); err == nil && st.Role == "leader" && st.Term == old.Term {
		t.Errorf("the woken replica still says it leads in term %d", old.Term)
	}
	if st, _ := c.Status(ctx, ni); st == nil || !st.Leading() || st.Term != nst.Term {
		t.Errorf("the new leader (replica %d, term %d) no longer leads after the old one woke", ni, nst.Term)
	}
	ev := Evaluate(snap, nil, LimitsFor(PlantOf(c.Cfg)), Phases{FaultsFrom: pausedAt, FaultsTo: time.Now()})
	for _, v := range ev.Violations {
		if !strings.HasPrefix(v.Check, "metric-") { // a failover test, not a control one
			t.Errorf("violation: %s", v)
		}
	}
}
