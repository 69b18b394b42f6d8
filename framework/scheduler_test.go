package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/relay-mesos/relay-mesos/framework/localmaster"
	"github.com/relay-mesos/relay-mesos/loop"
)

// A new framework registers, hands its ID to OnSubscribed before anything is launched, and
// Demand(3,0) runs exactly 3 warmer tasks in one ACCEPT, through intent -> staging ->
// running -> ended in the ledger.
func TestSubscribeLaunchAndLedger(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	p := startProxy(t, m.URL(), true) // the leader, as far as the scheduler can tell

	var mu sync.Mutex
	var order []string
	var intents []TaskRecord
	var atAccept []string // ledger states of the launched tasks when the ACCEPT arrives
	var r *running
	hooks := Hooks{
		OnSubscribed: func(_ context.Context, id string) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, "subscribed:"+id)
			return nil
		},
		BeforeLaunch: func(_ context.Context, tasks []TaskRecord) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, "before_launch")
			intents = append(intents, tasks...)
			for _, tk := range m.Snapshot().Tasks {
				for _, in := range tasks {
					if tk.ID == in.ID {
						t.Errorf("task %s reached the master before BeforeLaunch returned", in.ID)
					}
				}
			}
			return nil
		},
	}
	p.onCall = func(c *scheduler.Call) {
		if c.GetType() != scheduler.Call_ACCEPT || r == nil {
			return
		}
		states := map[string]string{}
		for _, tr := range r.s.Ledger().Tasks() {
			states[tr.ID] = tr.State
		}
		mu.Lock()
		for _, id := range launchedIDs(c) {
			atAccept = append(atAccept, states[id])
		}
		mu.Unlock()
	}
	cfg := testConfig(p.addr(), dir)
	r = startSched(t, cfg, "", nil, hooks)
	r.ready(t)

	id := r.s.FrameworkID()
	if id == "" || id != onlyFramework(t, m).ID {
		t.Fatalf("FrameworkID %q, master has %q", id, onlyFramework(t, m).ID)
	}
	if st := r.s.Status(); !st.Subscribed || !st.Ready || st.Master != p.srv.URL {
		t.Fatalf("status after Ready: %+v", st)
	}

	r.s.Demand(3, 0)
	waitUntil(t, 10*time.Second, "3 running warmers", func() bool {
		return r.s.Ledger().Counts(false).Warmer.Running == 3 && len(lines(t, dir)) == 3
	})

	mu.Lock()
	if want := []string{"subscribed:" + id, "before_launch"}; !slices.Equal(order, want) {
		t.Errorf("hook order %v, want %v", order, want)
	}
	if len(intents) != 3 {
		t.Errorf("BeforeLaunch got %d tasks, want 3", len(intents))
	}
	for _, in := range intents {
		if in.State != StateIntent || in.Kind != loop.Warmer {
			t.Errorf("BeforeLaunch task %+v, want a warmer intent", in)
		}
	}
	if !slices.Equal(atAccept, []string{StateStaging, StateStaging, StateStaging}) {
		t.Errorf("ledger states when the ACCEPT was sent: %v, want 3x staging", atAccept)
	}
	mu.Unlock()
	if n := p.count(scheduler.Call_ACCEPT); n != 1 {
		t.Errorf("%d ACCEPT calls for 3 tasks on one agent, want 1", n)
	}
	if got := lines(t, dir); len(got) != 3 {
		t.Errorf("tasks that ran: %v, want 3", got)
	}

	l := r.s.Withdraw()
	if want := (loop.Ledger{Warmer: loop.KindCounts{Running: 3}}); l != want {
		t.Errorf("Withdraw = %+v, want %+v", l, want)
	}
	holds(t, 500*time.Millisecond, "no more launches", func() bool { return masterTasks(m, "") == 3 })

	release(t, dir)
	r.rec.waitFor(t, "ended:warmer:TASK_FINISHED", 3)
	if l := r.s.Withdraw(); l != (loop.Ledger{}) {
		t.Errorf("Withdraw after the end = %+v, want zero", l)
	}
	if n := r.rec.get("launched:warmer"); n != 3 {
		t.Errorf("recorded %d launches, want 3", n)
	}
}

// Demand that could not be placed is reported Ungranted by Withdraw and never launched
// later, even when resources come back.
func TestWithdrawnDemandNeverLaunched(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	r := startSched(t, testConfig(m.Addr(), dir), "", nil, Hooks{})
	r.ready(t)
	if err := m.SetResources("cpus:0;mem:0"); err != nil {
		t.Fatal(err)
	}
	r.s.Demand(3, 0)
	time.Sleep(300 * time.Millisecond)
	l := r.s.Withdraw()
	if want := (loop.Ledger{Warmer: loop.KindCounts{Ungranted: 3}}); l != want {
		t.Fatalf("Withdraw while starved = %+v, want %+v", l, want)
	}
	if err := m.SetResources("cpus:4;mem:4096;disk:10000"); err != nil {
		t.Fatal(err)
	}
	holds(t, 1500*time.Millisecond, "nothing launched after Withdraw", func() bool {
		return masterTasks(m, "") == 0 && r.s.Ledger().Live() == 0
	})
	// A launch on an offer rescinded meanwhile (TASK_LOST, REASON_INVALID_OFFERS) is no failure.
	if f := r.s.Ledger().Failures(); f != 0 {
		t.Errorf("failure streak %d, want 0", f)
	}
	// The cluster could launch: new demand is placed at once.
	r.s.Demand(1, 0)
	waitUntil(t, 10*time.Second, "1 running", func() bool { return masterTasks(m, "TASK_RUNNING") == 1 })
	holds(t, 500*time.Millisecond, "only the new unit", func() bool { return masterTasks(m, "") == 1 })
}

// BeforeLaunch refusing a launch launches nothing (the units stay demanded, as Ungranted);
// an error wrapping ErrStepDown ends Run with it.
func TestBeforeLaunchRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		err      error
		stepDown bool
	}{
		{"plain error", errors.New("checkpoint store unavailable"), false},
		{"step down", fmt.Errorf("%w: fenced write refused", ErrStepDown), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := startMaster(t, localmaster.Config{})
			dir := t.TempDir()
			var mu sync.Mutex
			calls := 0
			hooks := Hooks{BeforeLaunch: func(context.Context, []TaskRecord) error {
				mu.Lock()
				calls++
				mu.Unlock()
				return tc.err
			}}
			r := startSched(t, testConfig(m.Addr(), dir), "", nil, hooks)
			r.ready(t)
			r.s.Demand(2, 0)
			if tc.stepDown {
				err := r.wait(t, 5*time.Second)
				if !errors.Is(err, ErrStepDown) {
					t.Fatalf("Run = %v, want ErrStepDown", err)
				}
			} else {
				waitUntil(t, 5*time.Second, "BeforeLaunch called", func() bool { mu.Lock(); defer mu.Unlock(); return calls > 0 })
				holds(t, time.Second, "nothing launched, Run going on", func() bool {
					select {
					case <-r.exited:
						return false
					default:
					}
					return masterTasks(m, "") == 0 && r.s.Ledger().Live() == 0
				})
				if l := r.s.Withdraw(); l != (loop.Ledger{Warmer: loop.KindCounts{Ungranted: 2}}) {
					t.Errorf("Withdraw after refused launches = %+v, want 2 ungranted warmers", l)
				}
			}
			if n := len(m.Snapshot().Launches); n != 0 {
				t.Errorf("master launched %d tasks", n)
			}
			if got := lines(t, dir); len(got) != 0 {
				t.Errorf("tasks ran: %v", got)
			}
		})
	}
}

// An ACCEPT the master refuses (an error status: nothing queued) launches nothing: its units
// stay demanded and go out on the next offer, and no task is left pending in the ledger.
func TestAcceptRefused(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	p := startProxy(t, m.URL(), true)
	var mu sync.Mutex
	refused := 0
	p.answer = func(c *scheduler.Call) int {
		mu.Lock()
		defer mu.Unlock()
		if c.GetType() == scheduler.Call_ACCEPT && refused == 0 {
			refused++
			return http.StatusBadRequest
		}
		return 0
	}
	cfg := testConfig(p.addr(), dir)
	cfg.RefuseSeconds = 200 * time.Millisecond
	r := startSched(t, cfg, "", nil, Hooks{})
	r.ready(t)
	r.s.Demand(2, 0)
	waitUntil(t, 10*time.Second, "2 running", func() bool { return masterTasks(m, "TASK_RUNNING") == 2 })
	if n := p.count(scheduler.Call_ACCEPT); n != 2 {
		t.Errorf("%d ACCEPTs, want 2 (one refused)", n)
	}
	waitUntil(t, 5*time.Second, "ledger", func() bool {
		return r.s.Ledger().Counts(false) == loop.Ledger{Warmer: loop.KindCounts{Running: 2}}
	})
	holds(t, 500*time.Millisecond, "2 tasks", func() bool { return len(m.Snapshot().Launches) == 2 })
	if l := r.s.Withdraw(); l != (loop.Ledger{Warmer: loop.KindCounts{Running: 2}}) {
		t.Errorf("Withdraw = %+v, want 2 running", l)
	}
}

// Idle, the framework suppresses offers; new demand revives them and is launched; idle again,
// it suppresses them again.
func TestSuppressWhenIdleReviveOnDemand(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	r := startSched(t, testConfig(m.Addr(), dir), "", nil, Hooks{})
	r.ready(t)
	waitUntil(t, 8*time.Second, "suppressed at the master", func() bool { return len(onlyFramework(t, m).Suppressed) > 0 })
	waitUntil(t, 5*time.Second, "Status().Suppressed", func() bool { return r.s.Status().Suppressed })
	r.s.Demand(1, 0)
	waitUntil(t, 5*time.Second, "revived and launched", func() bool {
		return len(onlyFramework(t, m).Suppressed) == 0 && masterTasks(m, "TASK_RUNNING") == 1
	})
	// The demand is met: the framework is idle again. (Asserting Status().Suppressed false
	// here raced with that second suppression, which can come within the same millisecond.)
	waitUntil(t, 8*time.Second, "suppressed again once the demand was met", func() bool {
		return r.s.Status().Suppressed && len(onlyFramework(t, m).Suppressed) > 0
	})
}

// A DECLINE answered 400 leaves the subscription alone (mesos-go drops it by default).
func TestDecline400KeepsSubscription(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	p := startProxy(t, m.URL(), true)
	p.answer = func(c *scheduler.Call) int {
		if c.GetType() == scheduler.Call_DECLINE {
			return http.StatusBadRequest
		}
		return 0
	}
	cfg := testConfig(p.addr(), dir)
	// Demand for tasks no offer fits (the agent has 4 cpus): offers come (the framework
	// subscribes suppressed and REVIVEs on demand) and each one is declined.
	cfg.Task = Resources{CPUs: 64, Mem: 16}
	r := startSched(t, cfg, "", nil, Hooks{})
	r.ready(t)
	r.s.Demand(1, 0)
	waitUntil(t, 5*time.Second, "a DECLINE", func() bool { return p.count(scheduler.Call_DECLINE) > 0 })
	r.s.Demand(0, 0)
	holds(t, 1500*time.Millisecond, "one subscription", func() bool {
		fw := onlyFramework(t, m)
		return fw.Connected && len(fw.Subscriptions) == 1
	})
	// The stream still carries calls: SUPPRESS (idle) gets through on the same subscription.
	waitUntil(t, 8*time.Second, "suppressed", func() bool { return len(onlyFramework(t, m).Suppressed) > 0 })
	if fw := onlyFramework(t, m); len(fw.Subscriptions) != 1 {
		t.Errorf("%d subscriptions, want 1", len(fw.Subscriptions))
	}
	if n := r.rec.get("subscribed"); n != 1 {
		t.Errorf("subscribed %d times, want 1", n)
	}
}

// A master that stops sending events (heartbeats included) is left after HeartbeatMisses
// intervals, and the scheduler subscribes again; a live stream is never left.
func TestHeartbeatWatchdog(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{Heartbeat: 100 * time.Millisecond})
	dir := t.TempDir()
	p := startProxy(t, m.URL(), true)
	r := startSched(t, testConfig(p.addr(), dir), "", nil, Hooks{})
	r.ready(t)
	holds(t, 1500*time.Millisecond, "one subscription while heartbeats flow", func() bool {
		return len(onlyFramework(t, m).Subscriptions) == 1
	})
	start := time.Now()
	p.freeze()
	waitUntil(t, 5*time.Second, "a second subscription", func() bool { return len(onlyFramework(t, m).Subscriptions) == 2 })
	took := time.Since(start)
	// 5 missed heartbeats of 100 ms.
	if took < 400*time.Millisecond || took > 3*time.Second {
		t.Errorf("resubscribed %v after the stream froze, want about 500 ms", took)
	}
	if n := r.rec.get("disconnected:heartbeat"); n != 1 {
		t.Errorf("heartbeat disconnections recorded: %d, want 1 (%v)", n, r.rec)
	}
	waitUntil(t, 5*time.Second, "subscribed again", func() bool { return r.s.Status().Subscribed })
}

// A second scheduler with the same FrameworkID takes over: the first's Run returns
// ErrFailedOver at once, the second adopts the running tasks through reconciliation before
// Ready, and nothing is killed or launched twice.
func TestFailover(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{Heartbeat: time.Second})
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	cfg.ReconcileWait = time.Minute // Ready must come from the answers, not the bound
	a := startSched(t, cfg, "", nil, Hooks{})
	a.ready(t)
	a.s.Demand(2, 0)
	waitUntil(t, 10*time.Second, "2 running", func() bool {
		return a.s.Ledger().Counts(false).Warmer.Running == 2 && len(lines(t, dir)) == 2
	})
	id := a.s.FrameworkID()

	var seen []string
	b := startSched(t, cfg, id, NewLedger(), Hooks{OnSubscribed: func(_ context.Context, got string) error {
		seen = append(seen, got)
		return nil
	}})
	start := time.Now()
	if err := a.wait(t, 5*time.Second); !errors.Is(err, ErrFailedOver) {
		t.Fatalf("first Run = %v, want ErrFailedOver", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("first Run returned %v after the takeover, want at once", took)
	}
	b.ready(t)
	if l := b.s.Ledger().Counts(false); l != (loop.Ledger{Warmer: loop.KindCounts{Running: 2}}) {
		t.Errorf("second ledger at Ready = %+v, want the 2 running warmers adopted", l)
	}
	if b.s.FrameworkID() != id || !slices.Equal(seen, []string{id}) {
		t.Errorf("second scheduler framework id %q (hook saw %v), want %q", b.s.FrameworkID(), seen, id)
	}
	holds(t, time.Second, "2 tasks, none killed, none launched again", func() bool {
		st := m.Snapshot()
		return len(st.Tasks) == 2 && len(st.CompletedTasks) == 0 && len(st.Launches) == 2 && len(lines(t, dir)) == 2
	})
	if a.s.Status().Subscribed {
		t.Errorf("first scheduler still says subscribed")
	}
	if fw := onlyFramework(t, m); len(fw.Subscriptions) != 2 {
		t.Errorf("%d subscriptions, want 2 (no ping-pong)", len(fw.Subscriptions))
	}
}

// A scheduler restarted with a restored ledger reconciles it before Ready: checkpointed
// tasks show their real state, an intent Mesos never saw ends, the counts are right.
func TestRestartWithRestoredLedger(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	a := startSched(t, cfg, "", nil, Hooks{})
	a.ready(t)
	a.s.Demand(2, 0)
	waitUntil(t, 10*time.Second, "2 running", func() bool { return a.s.Ledger().Counts(false).Warmer.Running == 2 })
	id := a.s.FrameworkID()
	a.stop(t)
	cfg.ReconcileWait = time.Minute // Ready must come from the answers, not the bound

	snap := a.s.Ledger().Snapshot()
	for i := range snap.Tasks {
		snap.Tasks[i].State = StateStaging // checkpointed before Mesos said RUNNING
	}
	now := time.Now().UnixMilli()
	snap.Tasks = append(snap.Tasks, TaskRecord{ID: "relay-warmer-t0-77", Kind: loop.Warmer, State: StateIntent,
		Agent: m.Snapshot().Agent.ID, Created: now, Updated: now})
	snap.Failures = 1

	b := startSched(t, cfg, id, RestoreLedger(snap), Hooks{})
	b.ready(t)
	if l := b.s.Ledger().Counts(false); l != (loop.Ledger{Warmer: loop.KindCounts{Running: 2}}) {
		t.Errorf("ledger at Ready = %+v, want 2 running", l)
	}
	if n := b.rec.get("ended:warmer:TASK_LOST"); n != 1 {
		t.Errorf("ended intents recorded: %d, want 1 (%v)", n, b.rec)
	}
	if f := b.s.Ledger().Failures(); f != 1 {
		t.Errorf("failure streak %d after reconciliation, want 1 (unchanged)", f)
	}
	holds(t, 500*time.Millisecond, "the 2 tasks kept", func() bool {
		st := m.Snapshot()
		return len(st.Tasks) == 2 && len(st.CompletedTasks) == 0
	})
	b.s.Demand(1, 0)
	waitUntil(t, 10*time.Second, "a third task", func() bool { return b.s.Ledger().Counts(false).Warmer.Running == 3 })
	for _, tr := range b.s.Ledger().Tasks() {
		if tr.ID == "relay-warmer-t0-77" || tr.ID == "relay-warmer-t0-1" && tr.State != StateRunning {
			t.Errorf("unexpected record %+v", tr)
		}
	}
	if got := b.s.Ledger().Snapshot().Seq; got != snap.Seq+1 {
		t.Errorf("sequence %d after one launch, want %d (IDs never reused)", got, snap.Seq+1)
	}
}

// --cooler kill: Demand(0,2) kills the 2 newest running warmers; they count as pending
// coolers until they end; kills that find nothing to kill are reported Ungranted.
func TestCoolerKill(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	cfg.CoolerKill = true
	cfg.Warmer = `trap "" TERM; ` + cfg.Warmer // dies only at the SIGKILL, KillGrace after the KILL
	cfg.KillGrace = 5 * time.Second
	r := startSched(t, cfg, "", RestoreLedger(LedgerSnapshot{Seq: 8}), Hooks{})
	r.ready(t)
	r.s.Demand(3, 0)
	waitUntil(t, 10*time.Second, "3 running", func() bool { return r.s.Ledger().Counts(true).Warmer.Running == 3 })
	// RUNNING comes when the process starts; the trap is set once its line is written.
	waitUntil(t, 10*time.Second, "3 tasks past their trap", func() bool { return len(lines(t, dir)) == 3 })
	r.s.Withdraw()
	r.s.Demand(0, 2)
	r.rec.waitFor(t, "kill_sent:warmer", 2)
	if l := r.s.Ledger().Counts(true); l.Cooler.Pending != 2 {
		t.Errorf("counts after the kills = %+v, want 2 pending coolers", l)
	}
	var killed []string
	for _, tr := range r.s.Ledger().Tasks() {
		if tr.Kill {
			killed = append(killed, tr.ID)
		}
	}
	slices.Sort(killed)
	if want := []string{"relay-warmer-t0-10", "relay-warmer-t0-11"}; !slices.Equal(killed, want) {
		t.Errorf("killed %v, want the newest %v", killed, want)
	}
	if l := r.s.Withdraw(); l.Cooler.Ungranted != 0 || l.Cooler.Pending != 2 {
		t.Errorf("Withdraw = %+v, want 2 pending coolers, none ungranted", l)
	}
	r.rec.waitFor(t, "ended:warmer:TASK_KILLED", 2)
	if l := r.s.Ledger().Counts(true); l != (loop.Ledger{Warmer: loop.KindCounts{Running: 1}}) {
		t.Errorf("counts after the kills ended = %+v, want 1 running warmer", l)
	}
	if n := r.rec.get("ended:warmer:TASK_KILLED"); n != 2 {
		t.Errorf("killed tasks recorded: %d, want 2", n)
	}
	if tasks := r.s.Ledger().Tasks(); len(tasks) != 1 || tasks[0].ID != "relay-warmer-t0-9" {
		t.Errorf("left in the ledger: %+v, want relay-warmer-t0-9", tasks)
	}
	if fw := r.s.Ledger().Failures(); fw != 0 {
		t.Errorf("kills counted as failures: streak %d", fw)
	}
	// Three kills asked, one warmer left: one kill, two ungranted.
	r.s.Demand(0, 3)
	r.rec.waitFor(t, "kill_sent:warmer", 3)
	time.Sleep(100 * time.Millisecond)
	if l := r.s.Withdraw(); l.Cooler.Ungranted != 2 || l.Cooler.Pending != 1 {
		t.Errorf("Withdraw = %+v, want 1 pending cooler and 2 ungranted", l)
	}
}

// Failing warmers halt launching after MaxFailures in a row, visibly.
func TestMaxFailuresHalts(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{Resources: "cpus:0.1;mem:4096"}) // one task at a time
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	cfg.Warmer = fmt.Sprintf(`echo "$MESOS_TASK_ID" >> %s/out; exit 1`, dir)
	cfg.MaxFailures = 3
	r := startSched(t, cfg, "", nil, Hooks{})
	r.ready(t)
	r.s.Demand(10, 0)
	waitUntil(t, 15*time.Second, "halted", func() bool { return r.s.Status().Halted != "" })
	if h := r.s.Status().Halted; !strings.Contains(h, "3") {
		t.Errorf("Halted = %q, want it to say why (3 failures)", h)
	}
	// The master may offer the resources of the third failed task before its TASK_FAILED
	// reaches the scheduler (Mesos can too): a fourth launch can slip in, no more.
	time.Sleep(200 * time.Millisecond)
	n := len(m.Snapshot().Launches)
	if n < 3 || n > 4 {
		t.Errorf("%d launches before the halt, want 3 (4 at most)", n)
	}
	r.s.Demand(2, 0)
	holds(t, time.Second, "no launch after the halt", func() bool { return len(m.Snapshot().Launches) == n })
	if got := len(lines(t, dir)); got != n {
		t.Errorf("%d tasks ran, want %d", got, n)
	}
	if l := r.s.Withdraw(); l.Warmer.Ungranted != 2 {
		t.Errorf("Withdraw while halted = %+v, want the 2 demanded warmers ungranted", l)
	}
}

// Subscribing through a master that is not the leader (it forwards; master_info names
// another address) moves the subscription, and every later call, to the leader.
func TestNonLeadingMaster(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	p := startProxy(t, m.URL(), false)
	var mu sync.Mutex
	var ids []string
	r := startSched(t, testConfig(p.addr(), dir), "", nil, Hooks{OnSubscribed: func(_ context.Context, id string) error {
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
		return nil
	}})
	r.ready(t)
	if st := r.s.Status(); st.Master != m.URL() {
		t.Errorf("Status().Master = %q, want the leader %q", st.Master, m.URL())
	}
	r.s.Demand(1, 0)
	waitUntil(t, 10*time.Second, "1 running", func() bool { return masterTasks(m, "TASK_RUNNING") == 1 })
	if n := p.count(scheduler.Call_SUBSCRIBE); n != 1 {
		t.Errorf("%d SUBSCRIBEs through the non-leader, want 1", n)
	}
	if n := p.count(scheduler.Call_ACCEPT) + p.count(scheduler.Call_RECONCILE); n != 0 {
		t.Errorf("%d calls after SUBSCRIBE went to the non-leader", n)
	}
	fw := onlyFramework(t, m)
	if len(fw.Subscriptions) != 2 || !fw.Connected {
		t.Errorf("framework %+v, want connected after 2 subscriptions", fw)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if id != fw.ID {
			t.Errorf("OnSubscribed got %v, want only %s", ids, fw.ID)
		}
	}
}

// OnSubscribed failing with ErrStepDown ends Run before anything is launched.
func TestOnSubscribedStepDown(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	r := startSched(t, testConfig(m.Addr(), dir), "", nil, Hooks{OnSubscribed: func(context.Context, string) error {
		return fmt.Errorf("save framework id: %w", ErrStepDown)
	}})
	r.s.Demand(1, 0)
	if err := r.wait(t, 5*time.Second); !errors.Is(err, ErrStepDown) {
		t.Fatalf("Run = %v, want ErrStepDown", err)
	}
	select {
	case <-r.s.Ready():
		t.Errorf("Ready closed although the subscription was refused")
	default:
	}
	if n := len(m.Snapshot().Launches); n != 0 {
		t.Errorf("%d launches", n)
	}
}

// Master URLs that cannot work are refused by New.
func TestNewRejectsBadMaster(t *testing.T) {
	t.Parallel()
	for _, master := range []string{"", "nonsense", "http://", "zk://127.0.0.1:2181", "ftp://host:1", "host:port:x"} {
		cfg := testConfig(master, t.TempDir())
		if _, err := New(cfg, "", nil, Hooks{}, newRecorder(), nil); !errors.Is(err, ErrConfig) {
			t.Errorf("New with master %q: %v, want ErrConfig", master, err)
		} else if master != "" && !strings.Contains(err.Error(), master) {
			t.Errorf("New with master %q: %v does not name it", master, err)
		}
	}
	if _, err := New(testConfig("127.0.0.1:5050", t.TempDir()), "", nil, Hooks{}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("New without a recorder: %v, want ErrConfig", err)
	}
}

// Resubscribing does not pile up kept-alive HTTP connections (each subscription has its own
// transport). Not parallel: it counts the process's connection goroutines.
func TestResubscribeLeavesNoConnections(t *testing.T) {
	m := startMaster(t, localmaster.Config{})
	r := startSched(t, testConfig(m.Addr(), t.TempDir()), "", nil, Hooks{})
	r.ready(t)
	conns := func() int {
		buf := make([]byte, 1<<20)
		return strings.Count(string(buf[:runtime.Stack(buf, true)]), "net/http.(*persistConn).readLoop")
	}
	before := conns()
	for i := 0; i < 5; i++ {
		n := len(onlyFramework(t, m).Subscriptions)
		m.DropStreams()
		waitUntil(t, 5*time.Second, "subscribed again", func() bool {
			return len(onlyFramework(t, m).Subscriptions) == n+1 && r.s.Status().Subscribed
		})
	}
	time.Sleep(200 * time.Millisecond)
	if after := conns(); after > before+1 {
		t.Errorf("%d client connections after 5 resubscriptions, %d before", after, before)
	}
	if n := r.rec.get("disconnected:error"); n != 5 {
		t.Errorf("disconnections recorded: %d, want 5 (%v)", n, r.rec)
	}
}

// A SUBSCRIBE without demand carries suppressed_roles, so a new term or a failover never
// un-suppresses the framework (Mesos un-suppresses on a SUBSCRIBE without them) and draws
// offers it can only decline; the first demand revives and is launched.
func TestSubscribeSuppressedWithoutDemand(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	a := startSched(t, cfg, "", nil, Hooks{})
	a.ready(t)
	// Suppressed from the SUBSCRIBE on, not after the idle SUPPRESS (3 s).
	if fw := onlyFramework(t, m); len(fw.Suppressed) == 0 {
		t.Fatalf("framework not suppressed at Ready: %+v", fw)
	}
	if !a.s.Status().Suppressed {
		t.Errorf("Status().Suppressed false after a suppressed SUBSCRIBE")
	}
	id := a.s.FrameworkID()
	b := startSched(t, cfg, id, NewLedger(), Hooks{})
	if err := a.wait(t, 5*time.Second); !errors.Is(err, ErrFailedOver) {
		t.Fatalf("first Run = %v, want ErrFailedOver", err)
	}
	b.ready(t)
	if fw := onlyFramework(t, m); len(fw.Suppressed) == 0 || len(fw.Subscriptions) != 2 {
		t.Fatalf("after the failover: suppressed %v, %d subscriptions; want suppressed, 2", fw.Suppressed, len(fw.Subscriptions))
	}
	b.s.Demand(1, 0)
	waitUntil(t, 5*time.Second, "revived and launched", func() bool {
		return len(onlyFramework(t, m).Suppressed) == 0 && masterTasks(m, "TASK_RUNNING") == 1
	})
}

// A broken task delays its kind's next launch, doubling up to the max; a task that finishes,
// or runs until we kill it, clears the delay; ends that are the agent's or ours do not count.
func TestLaunchBackoffFollowsTheTasksOwnFailures(t *testing.T) {
	t.Parallel()
	type end struct {
		kind   loop.Kind
		state  mesos.TaskState
		reason mesos.TaskStatus_Reason
		killed bool
	}
	failed := func(k loop.Kind) end {
		return end{kind: k, state: mesos.TASK_FAILED, reason: mesos.REASON_COMMAND_EXECUTOR_FAILED}
	}
	for _, tc := range []struct {
		name string
		ends []end
		want [2]time.Duration // warmer, cooler delay after the ends
	}{
		{"one failure", []end{failed(loop.Warmer)}, [2]time.Duration{time.Second, 0}},
		{"doubles to the max", []end{failed(loop.Warmer), failed(loop.Warmer), failed(loop.Warmer), failed(loop.Warmer)},
			[2]time.Duration{4 * time.Second, 0}},
		{"kinds apart", []end{failed(loop.Cooler), failed(loop.Cooler), failed(loop.Warmer)},
			[2]time.Duration{time.Second, 2 * time.Second}},
		{"a finished task clears it", []end{failed(loop.Warmer), failed(loop.Warmer), {kind: loop.Warmer, state: mesos.TASK_FINISHED}, failed(loop.Warmer)},
			[2]time.Duration{time.Second, 0}},
		{"killed by us clears it", []end{failed(loop.Warmer), {kind: loop.Warmer, state: mesos.TASK_KILLED, killed: true}},
			[2]time.Duration{0, 0}},
		{"invalid task", []end{{kind: loop.Warmer, state: mesos.TASK_ERROR, reason: mesos.REASON_TASK_INVALID}},
			[2]time.Duration{time.Second, 0}},
		{"agent restarted", []end{{kind: loop.Warmer, state: mesos.TASK_FAILED, reason: mesos.REASON_AGENT_RESTARTED}},
			[2]time.Duration{0, 0}},
		{"agent lost", []end{{kind: loop.Warmer, state: mesos.TASK_LOST, reason: mesos.REASON_AGENT_REMOVED},
			{kind: loop.Warmer, state: mesos.TASK_GONE, reason: mesos.REASON_AGENT_REMOVED}}, [2]time.Duration{0, 0}},
		{"a reconciliation answer", []end{{kind: loop.Warmer, state: mesos.TASK_FAILED, reason: mesos.REASON_RECONCILIATION}},
			[2]time.Duration{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("127.0.0.1:1", t.TempDir())
			cfg.Cooler = "true"
			cfg.LaunchBackoffMax = 4 * time.Second
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			cfg.Clock = func() time.Time { return now }
			s, err := New(cfg, "", nil, Hooks{}, newRecorder(), testLogger(t, "sched"))
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range tc.ends {
				s.noteBackoff(s.log, e.kind, fmt.Sprint("t", i), e.state, e.reason, e.killed)
			}
			st := s.Status()
			for k, want := range tc.want {
				kind := loop.Kind(k).String()
				b, ok := st.Backoff[kind]
				switch {
				case want == 0 && ok:
					t.Errorf("%s backoff %+v, want none", kind, b)
				case want > 0 && (!ok || b.Delay != want.String() || !b.Until.Equal(now.Add(want))):
					t.Errorf("%s backoff %+v (present %v), want %s until %s", kind, b, ok, want, now.Add(want))
				}
			}
		})
	}
}

// A warmer command that always fails is launched a handful of times a few seconds, not as fast
// as offers come, and the controller sees the rest of its demand as ungranted; a cooler that
// works is launched at its own pace meanwhile.
func TestFailingWarmersBackOffWorkingCoolersDoNot(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{Resources: "cpus:0.2;mem:4096"}) // two tasks at a time
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	cfg.Warmer = "exit 1"
	cfg.Cooler = "true"
	cfg.LaunchBackoff = 250 * time.Millisecond
	cfg.LaunchBackoffMax = 500 * time.Millisecond
	r := startSched(t, cfg, "", nil, Hooks{})
	r.ready(t)
	start := time.Now()
	r.s.Demand(100, 100)
	time.Sleep(2500 * time.Millisecond)
	elapsed := time.Since(start)
	warmers, coolers := r.rec.get("launched:warmer"), r.rec.get("launched:cooler")
	// 250 ms, then 500 ms between failures: about 6 launches in 2.5 s; a launch can slip in on
	// resources freed before the failure reached us, so allow twice that.
	if warmers < 2 || warmers > 12 {
		t.Errorf("%d failing warmers launched in %v, want 2..12 (a launch delay of 250 ms doubling to 500 ms)", warmers, elapsed)
	}
	if coolers < 2*warmers {
		t.Errorf("%d working coolers launched beside %d failing warmers, want at least twice as many", coolers, warmers)
	}
	st := r.s.Status()
	if b := st.Backoff["warmer"]; b.Delay != "500ms" {
		t.Errorf("warmer backoff %+v, want a delay of 500ms", b)
	}
	if ms := r.rec.get("backoff_ms:warmer"); ms != 500 {
		t.Errorf("launch backoff metric %d ms, want 500", ms)
	}
	if _, ok := st.Backoff["cooler"]; ok {
		t.Errorf("cooler backoff %+v, want none: coolers finish", st.Backoff["cooler"])
	}
	if l := r.s.Withdraw(); l.Warmer.Ungranted < 80 {
		t.Errorf("Withdraw = %+v, want most of the 100 warmers ungranted", l)
	}
}

// The launch backoff is checkpointed with the ledger: a new leader, restored from the last
// one's checkpoint, goes on with it (one launch per delay, the delay doubling) instead of
// relaunching a broken command at full pace until its first failure.
func TestANewLeaderGoesOnWithTheLaunchBackoff(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{Resources: "cpus:4;mem:4096"})
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	cfg.Warmer = "exit 1"
	cfg.LaunchBackoff = 200 * time.Millisecond
	cfg.LaunchBackoffMax = 4 * time.Second
	a := startSched(t, cfg, "", nil, Hooks{})
	a.ready(t)
	a.s.Demand(3, 0)
	waitUntil(t, 5*time.Second, "3 failed warmers", func() bool { return a.rec.get("ended:warmer:TASK_FAILED") == 3 })
	id := a.s.FrameworkID()
	a.stop(t)

	// Through the checkpoint's JSON, as cmd/replica writes and reads it.
	raw, err := json.Marshal(a.s.Ledger().Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var snap LedgerSnapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Backoff) != 1 || snap.Backoff[0].Kind != loop.Warmer || snap.Backoff[0].Delay != 800 {
		t.Fatalf("checkpointed backoff %+v, want the warmers' 800 ms (%s)", snap.Backoff, raw)
	}

	b := startSched(t, cfg, id, RestoreLedger(snap), Hooks{})
	b.ready(t)
	if d := b.s.Status().Backoff["warmer"].Delay; d != "800ms" {
		t.Errorf("new leader's warmer backoff %q, want 800ms", d)
	}
	if ms := b.rec.get("backoff_ms:warmer"); ms != 800 {
		t.Errorf("new leader's launch backoff metric %d ms, want 800", ms)
	}
	b.s.Demand(20, 0)
	time.Sleep(1500 * time.Millisecond)
	// One launch after at most 800 ms, the next 1.6 s after its failure: 1 or 2 in 1.5 s.
	// Without the backoff the 20 went at once.
	if n := b.rec.get("launched:warmer"); n < 1 || n > 2 {
		t.Errorf("new leader launched %d failing warmers in 1.5 s, want 1 or 2 (paced by the restored backoff)", n)
	}
	if d := b.s.Status().Backoff["warmer"].Delay; d != "1.6s" && d != "3.2s" {
		t.Errorf("warmer backoff %q after the new leader's failures, want it doubled from 800ms", d)
	}
}

// A restored backoff waits at most its delay from now, whatever the clock of the leader that
// wrote it said (one an hour ahead would otherwise hold the kind for an hour).
func TestARestoredBackoffWaitsAtMostItsDelay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		until time.Duration // from now, by the last leader's clock
		want  time.Duration // at most, from now
	}{
		{"clock an hour ahead", time.Hour, 2 * time.Second},
		{"half the delay left", time.Second, time.Second},
		{"already passed", -time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// This replica's clock; the last leader's is tc.until ahead of it.
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			cfg := testConfig("http://127.0.0.1:9", t.TempDir())
			cfg.Clock = func() time.Time { return now }
			snap := LedgerSnapshot{Backoff: []KindBackoff{{Kind: loop.Cooler, Delay: 2000, Until: now.Add(tc.until).UnixMilli()}}}
			s, err := New(cfg, "", RestoreLedger(snap), Hooks{}, newRecorder(), testLogger(t, "sched"))
			if err != nil {
				t.Fatal(err)
			}
			b, ok := s.Status().Backoff["cooler"]
			if !ok || b.Delay != "2s" {
				t.Fatalf("restored backoff %+v, want the coolers' 2s", s.Status().Backoff)
			}
			if left := b.Until.Sub(now); left > tc.want {
				t.Errorf("restored backoff waits %v from now, want at most %v", left, tc.want)
			}
			if _, ok := s.Status().Backoff["warmer"]; ok {
				t.Errorf("warmers in backoff %+v, want only the coolers", s.Status().Backoff)
			}
		})
	}
}

// A kind whose tasks failed is launched one task per delay; once one of its tasks has been
// running as long as the delay, the backoff is over and the rest of the demand goes at once.
func TestARunningTaskEndsTheLaunchBackoff(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{Resources: "cpus:4;mem:4096"})
	dir := t.TempDir()
	cfg := testConfig(m.Addr(), dir)
	broken := filepath.Join(dir, "broken")
	cfg.Warmer = fmt.Sprintf(`[ -e %s ] && exit 1; echo "$MESOS_TASK_ID" >> %s/out; while [ ! -e %s/stop ]; do sleep 0.05; done`, broken, dir, dir)
	cfg.LaunchBackoff = 200 * time.Millisecond
	cfg.LaunchBackoffMax = time.Second
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := startSched(t, cfg, "", nil, Hooks{})
	t.Cleanup(func() { release(t, dir) })
	r.ready(t)
	r.s.Demand(3, 0)
	waitUntil(t, 5*time.Second, "3 failed warmers", func() bool { return r.rec.get("ended:warmer:TASK_FAILED") == 3 })
	if b := r.s.Status().Backoff["warmer"]; b.Delay != "800ms" {
		t.Errorf("after 3 failures: backoff %+v, want a delay of 800ms", b)
	}
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r.s.Demand(20, 0)
	// Paced at one launch per 800 ms, the 20 would take 16 s.
	waitUntil(t, 6*time.Second, "20 warmers running", func() bool { return masterTasks(m, "TASK_RUNNING") == 20 })
	t.Logf("20 running %v after the demand", time.Since(start).Round(time.Millisecond))
	if st := r.s.Status(); len(st.Backoff) != 0 {
		t.Errorf("backoff %+v with 20 warmers running, want none", st.Backoff)
	}
}
