package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestEndpointsByRole(t *testing.T) {
	leaderInfo := &LeaderInfo{ID: "a", Address: "10.0.0.1:8080", Token: 9}
	cases := []struct {
		name  string
		st    Status
		zk    string        // the session state the Metrics were told
		lost  time.Duration // how long ago the session left connected
		codes map[string]int
		says  map[string]string // a word each body must contain
	}{
		{
			name:  "leader deciding",
			st:    Status{Role: RoleLeader, ID: "a", Leader: leaderInfo, Mesos: MesosStatus{Subscribed: true, Deciding: true}},
			zk:    ZKConnected,
			codes: map[string]int{"/healthz": 200, "/readyz": 200, "/leader": 200},
			says:  map[string]string{"/readyz": "deciding", "/leader": "this replica is the leader"},
		},
		{
			name:  "leader still reconciling",
			st:    Status{Role: RoleLeader, ID: "a", Leader: leaderInfo, Mesos: MesosStatus{Subscribed: true}},
			zk:    ZKConnected,
			codes: map[string]int{"/healthz": 200, "/readyz": 503, "/leader": 200},
			says:  map[string]string{"/readyz": "reconciling"},
		},
		{
			name:  "leader not subscribed",
			st:    Status{Role: RoleLeader, ID: "a", Leader: leaderInfo},
			zk:    ZKConnected,
			codes: map[string]int{"/readyz": 503},
			says:  map[string]string{"/readyz": "not subscribed"},
		},
		{
			name:  "follower",
			st:    Status{Role: RoleFollower, ID: "b", Leader: leaderInfo},
			zk:    ZKConnected,
			codes: map[string]int{"/healthz": 200, "/readyz": 200, "/leader": 503},
			says:  map[string]string{"/readyz": "standby", "/leader": "10.0.0.1:8080"},
		},
		{
			name:  "follower with its session disconnected briefly",
			st:    Status{Role: RoleFollower, ID: "b", Leader: leaderInfo},
			zk:    ZKDisconnected,
			lost:  30 * time.Second,
			codes: map[string]int{"/healthz": 200, "/readyz": 503},
			says:  map[string]string{"/healthz": "fails after", "/readyz": "disconnected"},
		},
		{
			name:  "no leader known",
			st:    Status{Role: RoleCandidate, ID: "c"},
			zk:    ZKConnected,
			codes: map[string]int{"/healthz": 200, "/readyz": 503, "/leader": 502},
			says:  map[string]string{"/leader": "no leader known"},
		},
		{
			name:  "ZooKeeper lost past the bound",
			st:    Status{Role: RoleCandidate, ID: "c"},
			zk:    ZKExpired,
			lost:  3 * time.Minute,
			codes: map[string]int{"/healthz": 503, "/readyz": 503, "/leader": 502},
			says:  map[string]string{"/healthz": "expired for 3m0s"},
		},
		{
			name:  "ZooKeeper never connected past the bound",
			st:    Status{Role: RoleCandidate, ID: "c"},
			zk:    ZKConnecting,
			lost:  2*time.Minute + time.Second,
			codes: map[string]int{"/healthz": 503},
		},
		{
			name:  "standalone",
			st:    Status{Role: RoleStandalone, ID: "s", Mesos: MesosStatus{Subscribed: true, Deciding: true}},
			codes: map[string]int{"/healthz": 200, "/readyz": 200, "/leader": 200},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReplica(t, c.st)
			if c.zk != "" {
				r.m.ZKSession(c.zk)
			}
			r.clock.Add(c.lost)
			for path, want := range c.codes {
				code, body := get(t, r.http.URL, path)
				if code != want {
					t.Errorf("%s = %d (%s), want %d", path, code, body, want)
				}
				var p probe
				if err := json.Unmarshal([]byte(body), &p); err != nil || p.Role != c.st.Role {
					t.Errorf("%s body %q does not name the role %q", path, body, c.st.Role)
				}
				if w := c.says[path]; w != "" && !strings.Contains(body, w) {
					t.Errorf("%s body %q does not say %q", path, body, w)
				}
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	r := newReplica(t, Status{Role: RoleLeader, ID: "a", FrameworkID: "fw-1",
		Controller: json.RawMessage(`{"drift":0.5}`),
		Ledger:     LedgerSummary{Warmer: TaskCounts{Running: 3, Pending: 1}, Cooler: TaskCounts{Running: 2, Ungranted: 4}},
		Errors:     []ErrorNote{{Where: "provider", Message: "own error"}}})
	r.m.ZKSession(ZKDisconnected)
	r.clock.Add(10 * time.Second)
	r.m.Error("source", errors.New("metric command exited 1"))
	code, body := get(t, r.http.URL, "/status")
	if code != 200 {
		t.Fatalf("/status = %d", code)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.FrameworkID != "fw-1" || string(st.Controller) != `{"drift":0.5}` {
		t.Errorf("provider fields lost: %s", body)
	}
	if st.Ledger.Total != (TaskCounts{Ungranted: 4, Pending: 1, Running: 5}) {
		t.Errorf("ledger total = %+v", st.Ledger.Total)
	}
	if st.ZooKeeper.State != ZKDisconnected || st.ZooKeeper.LostSeconds != 10 {
		t.Errorf("zookeeper = %+v, want disconnected for 10 s", st.ZooKeeper)
	}
	if len(st.Errors) != 2 || st.Errors[1].Where != "source" {
		t.Errorf("errors = %+v, want the provider's and the recorded one", st.Errors)
	}
	if len(st.Events) == 0 {
		t.Error("no recent events in /status")
	}
}

func TestMetricsPageAndStaticFiles(t *testing.T) {
	r := newReplica(t, Status{Role: RoleLeader})
	r.m.LeadershipAcquired(1, false)
	for _, c := range []struct {
		path, has string
		code      int
	}{
		{"/metrics", "relay_mesos_is_leader 1", 200},
		{"/metrics", "go_goroutines", 200},
		{"/", `<canvas id="chart"`, 200},
		{"/static/chart.js", "RelayChart", 200},
		{"/static/dashboard.js", "/api/history", 200},
		{"/static/dashboard.css", "--metric", 200},
		{"/nope", "", 404},
	} {
		code, body := get(t, r.http.URL, c.path)
		if code != c.code || !strings.Contains(body, c.has) {
			t.Errorf("GET %s = %d, want %d containing %q", c.path, code, c.code, c.has)
		}
	}
	resp, err := http.Post(r.http.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
}

func historyOf(t *testing.T, base, path string) (int, History) {
	t.Helper()
	code, body := get(t, base, path)
	var h History
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("%s: %v in %s", path, err, body)
	}
	return code, h
}

func TestHistoryLocalAndProxied(t *testing.T) {
	leader := newReplica(t, Status{Role: RoleLeader, ID: "a"})
	leader.m.LeadershipAcquired(5, false)
	feedTicks(leader.m, time.Unix(1000, 0), 20, map[int]bool{4: true}, nil)
	leaderAddr := strings.TrimPrefix(leader.http.URL, "http://")

	code, h := historyOf(t, leader.http.URL, "/api/history")
	if code != 200 || h.Source != "local" || len(h.Points) != 20 || h.Points[4].Metric != nil || h.Points[5].Metric == nil {
		t.Fatalf("leader history: %d %+v", code, h)
	}

	follower := newReplica(t, Status{Role: RoleFollower, ID: "b", Leader: &LeaderInfo{ID: "a", Address: leaderAddr, Token: 5}})
	code, h = historyOf(t, follower.http.URL, "/api/history")
	if code != 200 || h.Source != "leader" || h.From != leaderAddr || len(h.Points) != 20 || h.Status.ID != "a" {
		t.Fatalf("follower history: %d source %q from %q, %d points, status of %q; want the leader's 20 points",
			code, h.Source, h.From, len(h.Points), h.Status.ID)
	}
	if h.Points[4].Metric != nil || h.Points[3].Metric == nil || h.Points[0].Token != 5 {
		t.Error("the proxied history lost its gap or its token")
	}
	if h.ViewedVia == nil || h.ViewedVia.ID != "b" || !strings.Contains(h.Note, "follower b") {
		t.Errorf("the proxied history does not say it came through follower b: %+v %q", h.ViewedVia, h.Note)
	}

	// ?local=1 on a follower is its own (empty) ring.
	code, h = historyOf(t, follower.http.URL, "/api/history?local=1")
	if code != 200 || h.Source != "local" || len(h.Points) != 0 || h.Points == nil {
		t.Errorf("follower local history: %d %+v", code, h)
	}

	// A leader that cannot be reached: 502, the follower's own ring, and a link.
	follower.status.set(func(s *Status) { s.Leader.Address = deadAddr(t) })
	code, h = historyOf(t, follower.http.URL, "/api/history")
	if code != 502 || h.Error == "" || !strings.HasPrefix(h.LeaderURL, "http://127.0.0.1:") || h.Source != "local" {
		t.Errorf("unreachable leader: %d %+v", code, h)
	}

	// No leader known: the replica's own history, with a note.
	cand := newReplica(t, Status{Role: RoleCandidate, ID: "c"})
	code, h = historyOf(t, cand.http.URL, "/api/history")
	if code != 200 || h.Source != "local" || !strings.Contains(h.Note, "no leader known") {
		t.Errorf("candidate history: %d %+v", code, h)
	}
}

func TestHistoryProxyTimesOut(t *testing.T) {
	// A "leader" that accepts and never answers: the follower gives up after ProxyTimeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	hung := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})}
	served := make(chan error, 1)
	go func() { served <- hung.Serve(ln) }()
	t.Cleanup(func() {
		close(done)
		_ = hung.Close()
		<-served
	})
	f := newReplica(t, Status{Role: RoleFollower, ID: "b", Leader: &LeaderInfo{ID: "a", Address: ln.Addr().String()}})
	start := time.Now()
	code, h := historyOf(t, f.http.URL, "/api/history")
	if code != 502 || !strings.Contains(h.Error, "cannot fetch") {
		t.Errorf("hung leader: %d %+v", code, h)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the proxy waited %v; its timeout is 500ms", took)
	}
}

// deadAddr returns an address where nothing listens.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestServerRunAndShutdown(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	cfg := DefaultServerConfig()
	cfg.Listen = "127.0.0.1:0"
	s, err := NewServer(cfg, m, reg, StatusFunc(func() Status { return Status{Role: RoleStandalone} }), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	code, _ := get(t, "http://"+ln.Addr().String(), "/healthz")
	if code != 200 {
		t.Errorf("/healthz on a running server = %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}

	// Run on an address in use fails at once with the address in the error.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg.Listen = busy.Addr().String()
	s2, _ := NewServer(cfg, m, reg, StatusFunc(func() Status { return Status{} }), nil)
	if err := s2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), cfg.Listen) {
		t.Errorf("Run on a busy address = %v", err)
	}
}

func TestServerConfigValidate(t *testing.T) {
	for name, mut := range map[string]func(*ServerConfig){
		"empty listen":   func(c *ServerConfig) { c.Listen = " " },
		"zero bound":     func(c *ServerConfig) { c.ZKLostBound = 0 },
		"zero proxy":     func(c *ServerConfig) { c.ProxyTimeout = 0 },
		"negative grace": func(c *ServerConfig) { c.ShutdownTimeout = -1 },
	} {
		c := DefaultServerConfig()
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
	}
	if err := DefaultServerConfig().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	reg := prometheus.NewRegistry()
	if _, err := NewServer(DefaultServerConfig(), nil, reg, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("NewServer without a status provider = %v", err)
	}
}
