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

// The scheduler finds the master from host:port, http://host:port and zk://host:port/path
// (lowest json.info_ sequence is the leader).
func TestMasterURLForms(t *testing.T) {
	t.Parallel()
	m := startMaster(t, localmaster.Config{})
	zkURL := func(t *testing.T) string {
		srv := zktest.Start(t)
		conn, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Create("/mesos", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
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
	srv := zktest.Start(t)
	conn, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/mesos", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
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
