package election

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"github.com/relay-mesos/relay-mesos/election/zktest"
)

var server *zktest.Process

func TestMain(m *testing.M) {
	zktest.Main(m, "election-zk", &server, zktest.MainOptions{SkipAll: true,
		Leaks: func() error { return goleak.Find(goleak.IgnoreTopFunction("time.Sleep")) }})
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func logger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Info})
}

// root gives each test its own chroot.
func root(t testing.TB) string {
	return "/test/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
}

func connect(t testing.TB, id, addr string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Servers: []string{addr}, Root: root(t), SessionTimeout: 2 * time.Second, ID: id, Address: id}
	for _, m := range mod {
		m(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, cfg, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, root string
		servers  string
		bad      bool
	}{
		{in: "zk://h1:2181,h2:2182/relay-mesos/q", root: "/relay-mesos/q", servers: "h1:2181,h2:2182"},
		{in: "zk://h1/relay", root: "/relay", servers: "h1:2181"},
		{in: "zk://h1:2181", bad: true},
		{in: "zk://h1:2181/", bad: true},
		{in: "http://h1:2181/x", bad: true},
		{in: "zk://u:p@h1:2181/x", bad: true},
	} {
		s, r, err := ParseURL(tc.in)
		if tc.bad != (err != nil) {
			t.Errorf("%s: err %v", tc.in, err)
			continue
		}
		if !tc.bad && (r != tc.root || strings.Join(s, ",") != tc.servers) {
			t.Errorf("%s: got %v %s", tc.in, s, r)
		}
	}
}

// Pitfalls 11, 12, 15, 20: ten candidates, many forced handoffs, one leader at a time, and
// fencing tokens that grow.
func TestTenCandidatesOneLeaderAtATimeOverManyHandoffs(t *testing.T) {
	const n, handoffs = 10, 30
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu      sync.Mutex
		leading = map[int]bool{}
		tokens  []int64
		wg      sync.WaitGroup
		rounds  = make(chan struct{}, handoffs+n)
	)
	for i := 0; i < n; i++ {
		c := connect(t, fmt.Sprintf("c%d", i), server.Addr())
		wg.Add(1)
		go func(i int, c *Client) {
			defer wg.Done()
			for ctx.Err() == nil {
				l, err := c.Campaign(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				leading[i] = true
				if len(leading) != 1 {
					t.Errorf("%d leaders at once: %v", len(leading), leading)
				}
				tokens = append(tokens, l.Token())
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // act as leader for a moment
				mu.Lock()
				delete(leading, i)
				mu.Unlock()
				if err := l.Resign(context.Background()); err != nil {
					t.Errorf("resign: %v", err)
				}
				rounds <- struct{}{}
			}
		}(i, c)
	}
	for i := 0; i < handoffs; i++ {
		select {
		case <-rounds:
		case <-time.After(10 * time.Second):
			t.Fatalf("handoff %d did not happen", i)
		}
	}
	cancel()
	wg.Wait()
	for i := 1; i < len(tokens); i++ {
		if tokens[i] <= tokens[i-1] {
			t.Fatalf("token %d (%d) not above the previous (%d): %v", i, tokens[i], tokens[i-1], tokens)
		}
	}
}

// Pitfall 15: a graceful Resign hands off in one round trip, not a session timeout.
func TestResignHandsOffQuickly(t *testing.T) {
	a, b := connect(t, "a", server.Addr()), connect(t, "b", server.Addr())
	ctx := context.Background()
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Leadership, 1)
	go func() { l, _ := b.Campaign(ctx); got <- l }()
	time.Sleep(200 * time.Millisecond) // b is waiting on a
	start := time.Now()
	if err := la.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if la.Context().Err() == nil || !errors.Is(la.Err(), ErrResigned) {
		t.Fatalf("resigned leadership still live: %v", la.Err())
	}
	lb := <-got
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Fatalf("handoff took %v", took)
	}
	if lb.Token() <= la.Token() {
		t.Fatalf("token did not grow: %d then %d", la.Token(), lb.Token())
	}
	info, err := a.Leader(ctx)
	if err != nil || info.ID != "b" || info.Token != lb.Token() {
		t.Fatalf("Leader() = %+v, %v; want b with token %d", info, err, lb.Token())
	}
	lb.Resign(ctx)
}

// Pitfalls 4, 7, 18, 20: the leader's connection is cut; it gives leadership up within the
// disconnect bound (well before the session expires) and another candidate takes over once
// the session is gone.
func TestLeaderStepsDownWhenItsConnectionIsCut(t *testing.T) {
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	a := connect(t, "a", proxy.Addr())
	b := connect(t, "b", server.Addr())
	ctx := context.Background()
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Leadership, 1)
	go func() { l, _ := b.Campaign(ctx); got <- l }()
	time.Sleep(100 * time.Millisecond)
	cut := time.Now()
	proxy.Cut()
	select {
	case <-la.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leader did not notice the cut")
	}
	bound := a.cfg.DisconnectBound
	if took := time.Since(cut); took > bound+500*time.Millisecond {
		t.Fatalf("stepped down after %v, bound %v", took, bound)
	}
	if !errors.Is(la.Err(), ErrConnectionLost) {
		t.Fatalf("reason %v", la.Err())
	}
	select {
	case lb := <-got:
		if lb.Token() <= la.Token() {
			t.Fatal("token did not grow")
		}
		lb.Resign(ctx)
	case <-time.After(10 * time.Second):
		t.Fatal("no new leader after the old session expired")
	}
	proxy.Restore()
}

// TestALeaderCutOffLeavesNoNodeOnceItsSessionIsBack: a leader whose connection is down past
// the bound gives up, and its resign cannot delete its node while the connection is down. If
// its session outlives the outage (a ZooKeeper quorum loss expires no session), that node, the
// lowest candidate, would block every other candidate for as long as the session lives: in
// chaos runs the next leader waited until the old one campaigned again, 2.9 and 4.3 s after
// ZooKeeper was back. The node must go as soon as the old leader's session is back.
func TestALeaderCutOffLeavesNoNodeOnceItsSessionIsBack(t *testing.T) {
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	long := func(c *Config) { c.SessionTimeout, c.DisconnectBound = 8*time.Second, time.Second }
	a := connect(t, "a", proxy.Addr(), long)
	b := connect(t, "b", server.Addr())
	ctx := context.Background()
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sid := a.conn.SessionID()
	got := make(chan *Leadership, 1)
	go func() { l, _ := b.Campaign(ctx); got <- l }()
	time.Sleep(100 * time.Millisecond)
	proxy.Cut()
	select {
	case <-la.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leader did not notice the cut")
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_ = la.Resign(rctx) // as the replica does when its term ends; the connection is still down
	cancel()
	proxy.Restore()
	back := time.Now()
	select {
	case lb := <-got:
		t.Logf("b leads %v after a's connection is back", time.Since(back).Round(time.Millisecond))
		lb.Resign(ctx)
	case <-time.After(5 * time.Second):
		t.Fatal("b does not lead 5 s after a's connection is back: a's old node still blocks it")
	}
	if a.conn.SessionID() != sid || a.SessionLosses() != 0 {
		t.Fatal("a's session was replaced: the test is about a session that survives the outage")
	}
}

// A server that takes a reconnection but never answers it (one still starting after a
// restart) holds the client only until the session timeout: go-zookeeper alone waits ten times
// two thirds of it (20 s for a session of 3 s), and every replica behind such a server stayed
// without a session, none leading, for all of that.
func TestAnUnansweredReconnectionIsGivenUpAtTheSessionTimeout(t *testing.T) {
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	const session = 3 * time.Second
	a := connect(t, "a", proxy.Addr(), func(c *Config) { c.SessionTimeout = session })
	proxy.Stall() // a's connection drops; its next one is taken and never answered
	waitState(t, a, "connecting", 2*time.Second)
	time.Sleep(1500 * time.Millisecond) // go-zookeeper dials again after 1 s: that one is held
	proxy.Restore()
	back := time.Now()
	waitState(t, a, "connected", 2*session+2*time.Second)
	t.Logf("a has a session %v after the server answers again", time.Since(back).Round(time.Millisecond))
}

// A leader that lost its connection resigns within the time it is given, however long the
// connection takes to come back: its term's end waits for the resign, and its node is then
// deleted once a session is back.
func TestResignAfterALostConnectionIsBoundedByItsContext(t *testing.T) {
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	a := connect(t, "a", proxy.Addr(), func(c *Config) { c.SessionTimeout, c.DisconnectBound = 8*time.Second, time.Second })
	la, err := a.Campaign(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	proxy.Stall()
	select {
	case <-la.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leader did not notice the lost connection")
	}
	time.Sleep(time.Second) // a's next connection is held unanswered
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_ = la.Resign(ctx)
	if took := time.Since(began); took > 1500*time.Millisecond {
		t.Fatalf("Resign took %v with 500ms given", took)
	}
	proxy.Restore()
}

func waitState(t *testing.T, c *Client, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for c.SessionState() != want {
		if time.Now().After(deadline) {
			t.Fatalf("session %s after %v, want %s", c.SessionState(), within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pitfalls 5, 6: a session that expires and is replaced is a lost leadership, never the same
// one continuing; the candidate campaigns again with a new node and a new token.
func TestSessionExpiryEndsLeadershipAndANewSessionCampaignsAgain(t *testing.T) {
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	a := connect(t, "a", proxy.Addr(), func(c *Config) { c.DisconnectBound = 1900 * time.Millisecond })
	ctx := context.Background()
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	time.Sleep(2500 * time.Millisecond) // past the 2 s session timeout: the server expires it
	proxy.Restore()
	select {
	case <-la.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("leadership survived its session")
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l2, err := a.Campaign(cctx)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Token() <= la.Token() || l2.NodePath() == la.NodePath() {
		t.Fatalf("new term reused the old node or token: %s/%d vs %s/%d", l2.NodePath(), l2.Token(), la.NodePath(), la.Token())
	}
	l2.Resign(ctx)
}

// Pitfall 1: a create whose reply was lost is found again by its GUID.
func TestLostCreateReplyIsFoundByGUID(t *testing.T) {
	c := connect(t, "a", server.Addr())
	guid := "0f0e0d0c-0000-4000-8000-000000000001"
	created, err := c.conn.Create(c.electionDir()+"/"+guid+"-n_", []byte(`{"id":"a"}`), zk.FlagEphemeral|zk.FlagSequence, c.acl)
	if err != nil {
		t.Fatal(err)
	}
	found, ok := c.findGUID(guid)
	if !ok || c.electionDir()+"/"+found.name != created {
		t.Fatalf("found %v %v, created %s", found, ok, created)
	}
}

// Pitfalls 2, 3: a candidate whose campaign is cancelled leaves no node behind, and a node of
// a closed session does not block the election.
func TestCancelledCampaignLeavesNoGhost(t *testing.T) {
	a, b := connect(t, "a", server.Addr()), connect(t, "b", server.Addr())
	ctx := context.Background()
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := b.Campaign(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign returned %v, want the context's error", err)
	}
	cs, _ := a.candidates()
	if len(cs) != 1 {
		t.Fatalf("%d candidate nodes after a cancelled campaign, want 1 (the leader's)", len(cs))
	}
	// A leader that goes away by closing its session: the next one takes over at once.
	c := connect(t, "c", server.Addr())
	got := make(chan *Leadership, 1)
	go func() { l, _ := c.Campaign(ctx); got <- l }()
	time.Sleep(100 * time.Millisecond)
	a.Close()
	select {
	case l := <-got:
		if l.Token() <= la.Token() {
			t.Fatal("token did not grow")
		}
		l.Resign(ctx)
	case <-time.After(3 * time.Second):
		t.Fatal("closed session's node blocked the election")
	}
}

// Pitfall 13: two candidates with the same identity are refused loudly.
func TestDuplicateCandidateIDIsRefused(t *testing.T) {
	a, b := connect(t, "same", server.Addr()), connect(t, "same", server.Addr())
	ctx := context.Background()
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer la.Resign(ctx)
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := b.Campaign(cctx); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("got %v, want ErrDuplicateID", err)
	}
}

// Pitfall 16: the parents vanish (a wiped chroot): the next campaign recreates them.
func TestVanishedParentsAreRecreated(t *testing.T) {
	a := connect(t, "a", server.Addr())
	ctx := context.Background()
	if err := a.conn.Delete(a.electionDir(), -1); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := a.Campaign(cctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Resign(ctx)
}

// Pitfall 8's other half lives in state/; here: deleting the leader's node (an operator, or a
// bug) ends its leadership.
func TestDeletedNodeEndsLeadership(t *testing.T) {
	a := connect(t, "a", server.Addr())
	other := connect(t, "admin", server.Addr())
	l, err := a.Campaign(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.conn.Delete(l.NodePath(), -1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Context().Done():
		if !errors.Is(l.Err(), ErrNodeDeleted) {
			t.Fatalf("reason %v", l.Err())
		}
	case <-time.After(3 * time.Second):
		t.Fatal("leadership survived the deletion of its node")
	}
}

// Pitfall 19: with digest auth, nodes get ACLs: an unauthenticated client can read but not
// write them.
func TestACLsKeepOthersFromWriting(t *testing.T) {
	a := connect(t, "a", server.Addr(), func(c *Config) { c.Auth = "relay:s3cret" })
	l, err := a.Campaign(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Resign(context.Background())
	stranger := connect(t, "stranger", server.Addr())
	if _, _, err := stranger.conn.Get(l.NodePath()); err != nil {
		t.Fatalf("read refused: %v", err)
	}
	if err := stranger.conn.Delete(l.NodePath(), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("an unauthenticated delete got %v, want ErrNoAuth", err)
	}
	if _, err := stranger.conn.Create(a.electionDir()+"/intruder", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("an unauthenticated create got %v, want ErrNoAuth", err)
	}
}

// Pitfall 17: Campaign is cancellable while it waits for a session.
func TestCampaignIsCancellableWithoutServer(t *testing.T) {
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	a := connect(t, "a", proxy.Addr())
	proxy.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := a.Campaign(ctx); err == nil {
		t.Fatal("campaign succeeded without a server")
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("cancel took %v", took)
	}
	proxy.Restore()
}

// A node of ours left from an earlier term of the same session (its resign failed while the
// connection was down) must not block the election: the next campaign removes it and leads.
func TestOwnLeftoverNodeDoesNotBlockTheElection(t *testing.T) {
	a := connect(t, "a", server.Addr())
	data, _ := json.Marshal(LeaderInfo{ID: "a", Address: "a"})
	leftover, err := a.conn.Create(path.Join(a.electionDir(), "0f0f0f0f-0000-0000-0000-000000000000-n_"), data, zk.FlagEphemeral|zk.FlagSequence, a.acl)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := a.Campaign(ctx)
	if err != nil {
		t.Fatalf("campaign with our own leftover node: %v", err)
	}
	defer l.Resign(context.Background())
	if ok, _, _ := a.conn.Exists(leftover); ok {
		t.Fatal("the leftover node is still there")
	}
}
