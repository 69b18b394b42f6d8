package framework

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/relay-mesos/relay-mesos/election/zktest"
	"github.com/relay-mesos/relay-mesos/framework/localmaster"
)

// publishMaster writes <path>/<node> with a MasterInfo JSON naming addr, as a Mesos master
// contending through ZooKeeper does.
func publishMaster(t *testing.T, conn *zk.Conn, path, node, addr string) {
	t.Helper()
	host, portS, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portS)
	info := map[string]any{
		"id": "master-" + node, "hostname": host, "port": port, "version": "1.11.0",
		"address": map[string]any{"hostname": host, "ip": host, "port": port},
	}
	b, _ := json.Marshal(info)
	if _, err := conn.Create(path+"/"+node, b, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s/%s: %v", path, node, err)
	}
}

// mesosZK starts a ZooKeeper server for the test with an empty /mesos, where masters contending
// through ZooKeeper publish themselves, and a connection to it (closed when the test ends).
func mesosZK(t *testing.T) (*zktest.Server, *zk.Conn) {
	t.Helper()
	srv := zktest.Start(t)
	conn, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if _, err := conn.Create("/mesos", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	return srv, conn
}

// The scheduler finds the master from host:port, http://host:port and zk://host:port/path
// (lowest json.info_ sequence is the leader).
func TestMasterURLForms(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	zkURL := func(t *testing.T) string {
		srv, conn := mesosZK(t)
		publishMaster(t, conn, "/mesos", "json.info_0000000002", "127.0.0.1:1") // a later contender
		publishMaster(t, conn, "/mesos", "json.info_0000000001", m.Addr())
		publishMaster(t, conn, "/mesos", "info_0000000000", "127.0.0.1:2") // binary-era node: ignored
		return "zk://" + srv.Addr() + "/mesos"
	}
	for _, tc := range []struct {
		name   string
		master func(t *testing.T) string
	}{
		{"host:port", func(*testing.T) string { return m.Addr() }},
		{"http URL", func(*testing.T) string { return m.URL() }},
		{"http URL with path", func(*testing.T) string { return m.URL() + "/" }},
		{"zk", zkURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startSched(t, testConfig(tc.master(t), t.TempDir()), "", nil, Hooks{})
			r.ready(t)
			if st := r.s.Status(); st.Master != m.URL() || !st.Subscribed {
				t.Errorf("status %+v, want subscribed to %s", st, m.URL())
			}
			r.stop(t)
		})
	}
}

// A zk:// master with no leading master says so.
func TestMasterFromZKWithoutLeader(t *testing.T) {
	t.Parallel()
	srv, _ := mesosZK(t)
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"no nodes", "zk://" + srv.Addr() + "/mesos", "no json.info_"},
		{"no path", "zk://" + srv.Addr() + "/nowhere", "/nowhere"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := masterResolver{raw: tc.raw}.resolve(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: resolve(%s) = %v, want an error with %q", tc.name, tc.raw, err, tc.want)
		}
	}
	// Run keeps trying and shows why in Status.
	r := startSched(t, testConfig("zk://"+srv.Addr()+"/mesos", t.TempDir()), "", nil, Hooks{})
	waitUntil(t, 10*time.Second, "last error", func() bool { return strings.Contains(r.s.Status().LastErr, "no json.info_") })
}

// A Mesos master failover seen through ZooKeeper: the leading master goes away, its node goes,
// and a new master takes the lead at another address. The scheduler finds the new leader (it
// keeps trying while no master leads), subscribes to it with the same FrameworkID, learns by
// reconciliation that the task it had on the old master's agent is gone (this embedded master's
// agent goes with it), and launches on the new one; the ledger counts no ghost.
func TestFollowsANewLeadingMasterThroughZooKeeper(t *testing.T) {
	t.Parallel()
	srv, conn := mesosZK(t)
	oldCtx, stopOld := context.WithCancel(context.Background())
	old, err := localmaster.New(localmaster.Config{Listen: "127.0.0.1:0", WorkDir: t.TempDir(), Heartbeat: 200 * time.Millisecond,
		OfferInterval: 30 * time.Millisecond, UpdateRetry: time.Second, Resources: "cpus:4;mem:4096;disk:10000",
		KillTasksOnExit: true, Admin: true}, testLogger(t, "old-master"))
	if err != nil {
		t.Fatal(err)
	}
	oldDone := make(chan error, 1)
	go func() { oldDone <- old.Run(oldCtx) }()
	defer func() { stopOld(); <-oldDone }()
	next := startMaster(t, localmaster.Config{})
	publishMaster(t, conn, "/mesos", "json.info_0000000001", old.Addr())

	dir := t.TempDir()
	r := startSched(t, testConfig("zk://"+srv.Addr()+"/mesos", dir), "", nil, Hooks{})
	r.ready(t)
	id := onlyFramework(t, old).ID
	r.s.Demand(1, 0)
	waitUntil(t, 10*time.Second, "a task running on the old master", func() bool { return masterTasks(old, "TASK_RUNNING") == 1 })
	waitUntil(t, 10*time.Second, "the ledger counting it", func() bool { return r.s.Status().Ledger.Warmer.Running == 1 })
	// RUNNING means its process started, not that it has written its line yet; stopping the
	// master at once may kill it first (seen in CI).
	waitUntil(t, 10*time.Second, "the old task's line", func() bool { return len(lines(t, dir)) == 1 })

	// The old leader dies; its node goes (an ephemeral node of its session); no master leads
	// for a while; then the next one publishes its node.
	stopOld()
	if err := <-oldDone; err != nil {
		t.Errorf("old master Run: %v", err)
	}
	oldDone <- nil // for the deferred stop
	if err := conn.Delete("/mesos/json.info_0000000001", -1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	publishMaster(t, conn, "/mesos", "json.info_0000000002", next.Addr())

	waitUntil(t, 15*time.Second, "subscribed to the new master", func() bool {
		st := r.s.Status()
		return st.Subscribed && st.Master == next.URL()
	})
	if fw := onlyFramework(t, next); fw.ID != id || !fw.Connected {
		t.Errorf("new master's framework %+v, want %s connected", fw, id)
	}
	if st := r.s.Status(); st.FrameworkID != id {
		t.Errorf("scheduler's FrameworkID %s, want %s", st.FrameworkID, id)
	}
	waitUntil(t, 15*time.Second, "the old task no longer counted", func() bool { return r.s.Status().Ledger.Warmer.Running == 0 })
	r.s.Demand(1, 0)
	waitUntil(t, 10*time.Second, "a task running on the new master", func() bool { return masterTasks(next, "TASK_RUNNING") == 1 })
	waitUntil(t, 10*time.Second, "the ledger counting one", func() bool { return r.s.Status().Ledger.Warmer.Running == 1 })
	// A task is RUNNING once its process started; its line may come a moment later.
	waitUntil(t, 10*time.Second, "two tasks having run, one on each master", func() bool { return len(lines(t, dir)) == 2 })
}
