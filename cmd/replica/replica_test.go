package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relay-mesos/relay-mesos/election"
	"github.com/relay-mesos/relay-mesos/election/zktest"
	"github.com/relay-mesos/relay-mesos/framework"
	"github.com/relay-mesos/relay-mesos/framework/localmaster"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/metrics"
	"github.com/relay-mesos/relay-mesos/state"
)

// These tests run replicas in this process against a real ZooKeeper and the embedded master:
// the takeover rules of a leadership term (the process-level faults are in chaos/).

var zkServer *zktest.Process

func TestMain(m *testing.M) {
	zktest.Main(m, "replica-zk", &zkServer, zktest.MainOptions{})
}

type cluster struct {
	t      *testing.T
	root   string
	master *localmaster.Master
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	zktest.Require(t)
	lm, err := localmaster.New(localmaster.Config{Listen: "127.0.0.1:0", Resources: "cpus:4;mem:4096;disk:1000", WorkDir: t.TempDir(),
		Heartbeat: time.Second, OfferInterval: 50 * time.Millisecond, KillTasksOnExit: true}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = lm.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &cluster{t: t, root: fmt.Sprintf("/replica-test/%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano()), master: lm}
}

// running counts the framework's running tasks at the master: the plant's metric.
func (c *cluster) running() int {
	n := 0
	for _, task := range c.master.Snapshot().Tasks {
		if task.State == "TASK_RUNNING" {
			n++
		}
	}
	return n
}

type zkElect struct{ c *election.Client }

func (z zkElect) Campaign(ctx context.Context) (Leadership, error) {
	l, err := z.c.Campaign(ctx)
	if err != nil {
		return nil, err
	}
	return l, nil
}

type node struct {
	id      string
	rep     *Replica
	metrics *metrics.Metrics
	zk      *election.Client
	store   *state.ZKStore
	cancel  context.CancelFunc
	done    chan error
	status  metrics.StatusProvider
}

func (c *cluster) start(id string, mod ...func(*Config)) *node {
	c.t.Helper()
	return c.startWith(id, nil, mod...)
}

// startWith is start with a change to the replica's parts (nil: none).
func (c *cluster) startWith(id string, parts func(*Parts), mod ...func(*Config)) *node {
	t := c.t
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Name: id, Level: hclog.Warn, Output: testWriter{t}})
	zkc, err := election.Connect(context.Background(), election.Config{Servers: []string{zkServer.Addr()}, Root: c.root,
		SessionTimeout: 2 * time.Second, ID: id, Address: id}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zkc.Close)
	m := metrics.New(prometheus.NewRegistry())
	store := state.NewZK(zkc.Conn(), zkc.Root(), zkc.ACL(), log)
	lcfg := loop.DefaultConfig()
	lcfg.MaxPerTick, lcfg.MaxInFlight, lcfg.Delay = 5, 20, 100*time.Millisecond
	cfg := Config{ID: id, Address: id, CheckpointInterval: 100 * time.Millisecond}
	for _, f := range mod {
		f(&cfg)
	}
	reader := loop.ReaderFunc(func(context.Context, time.Time) (loop.Sample, loop.Sample) {
		return loop.Sample{Value: float64(c.running()), OK: true}, loop.Sample{Value: 3, OK: true}
	})
	p := Parts{
		Loop: lcfg, Runner: loop.RunnerConfig{Delay: 100 * time.Millisecond, SourceTimeout: 50 * time.Millisecond},
		Framework: framework.Config{Master: c.master.URL(), Warmer: "sleep 60", Task: framework.Resources{CPUs: 0.1, Mem: 16},
			HeartbeatMisses: 5, ReconcileWait: time.Second},
		Reader: reader, Store: store, Elect: zkElect{zkc}, Metrics: m,
	}
	if parts != nil {
		parts(&p)
	}
	rep, err := New(cfg, p, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{id: id, rep: rep, metrics: m, zk: zkc, store: store, cancel: cancel, done: make(chan error, 1),
		status: rep.StatusProvider(false, nil)}
	go func() { n.done <- rep.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
	}
}

func (n *node) leading() bool {
	n.rep.mu.Lock()
	defer n.rep.mu.Unlock()
	return n.rep.leading && n.rep.deciding
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	if !eventually(within, cond) {
		t.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// eventually reports whether cond held within the given time, polling it.
func eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func terms(t *testing.T, n *node) loop.Terms {
	var tm loop.Terms
	if err := json.Unmarshal(n.status.Status().Controller, &tm); err != nil {
		t.Fatalf("status controller terms: %v", err)
	}
	return tm
}

// A follower that started before the first leader stored the FrameworkID takes over with that
// FrameworkID (read after winning), adopts the running tasks (none killed, none launched
// twice), and resumes with the checkpointed controller state.
func TestTakeoverKeepsFrameworkTasksAndLearnedState(t *testing.T) {
	c := newCluster(t)
	a := c.start("a")
	waitFor(t, "a to lead", 10*time.Second, a.leading)
	b := c.start("b") // starts while a leads, before anything is stored
	if !eventually(20*time.Second, func() bool { return c.running() == 3 }) {
		t.Fatalf("timed out after 20s waiting for 3 running tasks: %d running, %d launched",
			c.running(), len(c.master.Snapshot().Launches))
	}
	time.Sleep(time.Second) // a few ticks at the target: the model has seen its units work
	fwID, err := a.store.LoadFrameworkID(context.Background())
	if err != nil || fwID == "" {
		t.Fatalf("framework id: %q %v", fwID, err)
	}
	before := terms(t, a)
	launches := len(c.master.Snapshot().Launches)

	a.stop() // shutdown of the leader: final fenced checkpoint, resign
	waitFor(t, "b to lead", 5*time.Second, b.leading)
	after := terms(t, b)
	time.Sleep(2 * time.Second)

	st := c.master.Snapshot()
	if len(st.Frameworks) != 1 || st.Frameworks[0].ID != fwID {
		t.Fatalf("frameworks at the master: %+v, want only %s", st.Frameworks, fwID)
	}
	if got := len(st.Launches); got != launches {
		t.Fatalf("the new leader launched %d more tasks for a target already met", got-launches)
	}
	if c.running() != 3 {
		t.Fatalf("running tasks after takeover: %d, want the same 3", c.running())
	}
	for _, task := range st.CompletedTasks {
		t.Errorf("task %s ended %s during the takeover", task.ID, task.State)
	}
	if before.WarmerPerUnit == 0 || before != after {
		t.Fatalf("controller state not carried over:\n before %+v\n after  %+v", before, after)
	}
}

// A failure during takeover (a corrupt checkpoint) is a clear error; the node is left
// untouched, the replica does not subscribe, and it stays a candidate (it does not exit).
func TestCorruptCheckpointIsRefusedAndLeftUntouched(t *testing.T) {
	c := newCluster(t)
	conn, _, err := zk.Connect([]string{zkServer.Addr()}, 2*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	garbage := []byte("{not a checkpoint")
	for _, p := range []string{"/replica-test", c.root, c.root + "/checkpoint"} {
		_, _ = conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
	}
	if _, err := conn.Set(c.root+"/checkpoint", garbage, -1); err != nil {
		t.Fatal(err)
	}
	a := c.start("a")
	waitFor(t, "the refusal to be reported", 10*time.Second, func() bool {
		for _, e := range a.metrics.Errors() {
			if strings.Contains(e.Message, "checkpoint") {
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second)
	data, _, err := conn.Get(c.root + "/checkpoint")
	if err != nil || string(data) != string(garbage) {
		t.Fatalf("checkpoint node changed: %q %v", data, err)
	}
	if fw := c.master.Snapshot().Frameworks; len(fw) != 0 {
		t.Fatalf("subscribed despite the corrupt checkpoint: %+v", fw)
	}
	select {
	case err := <-a.done:
		t.Fatalf("replica exited (%v); it must stay a candidate", err)
	default:
	}
}

// Never a new FrameworkID while the checkpoint's ledger holds tasks: that would orphan them.
func TestNoNewFrameworkWhileTheLedgerHoldsTasks(t *testing.T) {
	c := newCluster(t)
	a := c.start("a")
	waitFor(t, "running tasks", 20*time.Second, func() bool { return c.running() >= 1 })
	time.Sleep(300 * time.Millisecond)
	a.stop()
	conn, _, err := zk.Connect([]string{zkServer.Addr()}, 2*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Delete(c.root+"/framework-id", -1); err != nil { // an operator's mistake
		t.Fatal(err)
	}
	b := c.start("b")
	waitFor(t, "the orphan guard", 10*time.Second, func() bool {
		for _, e := range b.metrics.Errors() {
			if strings.Contains(e.Message, "orphan") {
				return true
			}
		}
		return false
	})
	if fw := c.master.Snapshot().Frameworks; len(fw) != 1 {
		t.Fatalf("a second framework was registered: %d frameworks", len(fw))
	}
}

// A leader told "Framework failed over" stops acting at once and never clears or replaces the
// stored FrameworkID.
func TestFailedOverLeaderStopsAndKeepsTheFrameworkID(t *testing.T) {
	c := newCluster(t)
	a := c.start("a")
	waitFor(t, "a to lead", 10*time.Second, a.leading)
	waitFor(t, "a framework id", 10*time.Second, func() bool {
		id, _ := a.store.LoadFrameworkID(context.Background())
		return id != ""
	})
	fwID, _ := a.store.LoadFrameworkID(context.Background())
	// A rogue scheduler instance subscribes with the same FrameworkID.
	rogue, err := framework.New(framework.Config{Master: c.master.URL(), Warmer: "true"}, fwID, nil, framework.Hooks{}, nopRecorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rdone := make(chan error, 1)
	go func() { rdone <- rogue.Run(ctx) }()
	waitFor(t, "a to step down", 5*time.Second, func() bool { return !a.leading() })
	cancel()
	<-rdone
	id, err := a.store.LoadFrameworkID(context.Background())
	if err != nil || id != fwID {
		t.Fatalf("stored framework id is %q (%v), want %q", id, err, fwID)
	}
	if fw := c.master.Snapshot().Frameworks; len(fw) != 1 {
		t.Fatalf("%d frameworks at the master, want 1", len(fw))
	}
}

// --failover-drill hands leadership over on purpose; the fencing token grows every term.
func TestFailoverDrillHandsOff(t *testing.T) {
	c := newCluster(t)
	drill := func(cfg *Config) { cfg.FailoverDrill = 1500 * time.Millisecond }
	a, b := c.start("a", drill), c.start("b", drill)
	var mu sync.Mutex
	var leaders []string
	deadline := time.Now().Add(12 * time.Second)
	for time.Now().Before(deadline) && len(leaders) < 3 {
		for _, n := range []*node{a, b} {
			if n.leading() {
				mu.Lock()
				if len(leaders) == 0 || leaders[len(leaders)-1] != n.id {
					leaders = append(leaders, n.id)
				}
				mu.Unlock()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(leaders) < 3 {
		t.Fatalf("leaders seen: %v, want the drill to hand off at least twice", leaders)
	}
	if fw := c.master.Snapshot().Frameworks; len(fw) != 1 {
		t.Fatalf("%d frameworks after drills, want 1", len(fw))
	}
}

type nopRecorder struct{}

func (nopRecorder) OffersReceived(int)            {}
func (nopRecorder) OffersDeclined(int)            {}
func (nopRecorder) OffersUsed(int)                {}
func (nopRecorder) OfferRescinded()               {}
func (nopRecorder) OfferToAccept(float64)         {}
func (nopRecorder) TaskLaunched(string)           {}
func (nopRecorder) TaskEnded(string, string)      {}
func (nopRecorder) TaskKillSent(string)           {}
func (nopRecorder) LaunchBackoff(string, float64) {}
func (nopRecorder) MesosEvent(string)             {}
func (nopRecorder) MesosProblem(string)           {}
func (nopRecorder) Subscribed(string)             {}
func (nopRecorder) Disconnected(string)           {}
func (nopRecorder) Error(string, error)           {}

var _ = errors.New

// A master that lost every task (a new cluster behind the same address): the new leader's
// reconciliation ends the ledger's tasks, and the controller launches again to reach the target.
func TestResumeAgainstAMasterThatLostEverything(t *testing.T) {
	c := newCluster(t)
	a := c.start("a")
	waitFor(t, "running tasks", 20*time.Second, func() bool { return c.running() >= 3 })
	time.Sleep(300 * time.Millisecond)
	a.stop()

	fresh := newCluster(t)
	fresh.root = c.root // same ZooKeeper state, new master
	b := fresh.start("b")
	waitFor(t, "b to lead", 10*time.Second, b.leading)
	waitFor(t, "3 running tasks on the fresh master", 20*time.Second, func() bool { return fresh.running() >= 3 })
}

// A warmer command that fails shows in /status as a launch backoff, and the controller is
// told its units were not granted (it is starved, not winding up).
func TestFailingWarmersShowTheirBackoffInStatus(t *testing.T) {
	c := newCluster(t)
	n := c.startWith("a", func(p *Parts) {
		p.Framework.Warmer = "exit 1"
		p.Framework.LaunchBackoff = 200 * time.Millisecond
		p.Framework.LaunchBackoffMax = 2 * time.Second
	})
	var note string
	waitFor(t, "a launch backoff in /status", 15*time.Second, func() bool {
		for _, e := range n.status.Status().Errors {
			if strings.Contains(e.Message, "warmer tasks failed: launches back off") {
				note = e.Message
				return true
			}
		}
		return false
	})
	t.Logf("status: %s", note)
	waitFor(t, "warmers asked for and not granted", 15*time.Second, func() bool {
		return n.status.Status().Ledger.Warmer.Ungranted > 0
	})
}
