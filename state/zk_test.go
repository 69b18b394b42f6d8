package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"github.com/relay-mesos/relay-mesos/election"
	"github.com/relay-mesos/relay-mesos/election/zktest"
)

// server is one ZooKeeper server shared by the tests; each test has its own root.
var server *zktest.Process

func TestMain(m *testing.M) {
	zktest.Main(m, "state-zk", &server, zktest.MainOptions{Leaks: func() error { return goleak.Find() }})
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func logger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Debug})
}

func needZK(t *testing.T) {
	t.Helper()
	if server == nil {
		zktest.Require(t)
	}
}

// roots numbers the chroots, so that -count=N runs do not share nodes.
var roots atomic.Int64

// root gives each test (each call) its own chroot.
func root(t testing.TB) string {
	return fmt.Sprintf("/test/%s-%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), roots.Add(1))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a session to addr (the server when empty), with digest auth when auth is set.
func connect(t testing.TB, addr, auth string) *zk.Conn {
	t.Helper()
	if addr == "" {
		addr = server.Addr()
	}
	conn, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	waitSession(t, conn)
	if auth != "" {
		if err := conn.AddAuth("digest", []byte(auth)); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func waitSession(t testing.TB, conn *zk.Conn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for conn.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatalf("no ZooKeeper session after 10s (state %v)", conn.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// candidate creates an ephemeral election node under r for conn and returns its fence (the
// node's path and czxid, as election.Leadership gives them).
func candidate(t testing.TB, conn *zk.Conn, r string) Fence {
	t.Helper()
	dir := r + "/election"
	mkdirs(t, conn, dir)
	p, err := conn.Create(dir+"/c-n_", []byte("{}"), zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatal(err)
	}
	_, st, err := conn.Exists(p)
	if err != nil {
		t.Fatal(err)
	}
	return Fence{NodePath: p, Token: st.Czxid}
}

func mkdirs(t testing.TB, conn *zk.Conn, p string) {
	t.Helper()
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + part
		if _, err := conn.Create(cur, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			t.Fatal(err)
		}
	}
}

// stored returns the raw bytes and version of a node.
func stored(t testing.TB, conn *zk.Conn, p string) ([]byte, int32) {
	t.Helper()
	b, st, err := conn.Get(p)
	if err != nil {
		t.Fatalf("get %s: %v", p, err)
	}
	return b, st.Version
}

func cp(payload string) Checkpoint {
	return Checkpoint{Schema: Schema, WrittenAt: time.Now(), Payload: []byte(payload)}
}

func mustLoad(t testing.TB, s Store, want string) Checkpoint {
	t.Helper()
	c, err := s.Load(ctxT(t))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if string(c.Payload) != want {
		t.Fatalf("loaded payload %q, want %q", c.Payload, want)
	}
	return c
}

func TestZKSaveLoadRoundtrip(t *testing.T) {
	needZK(t)
	conn := connect(t, "", "")
	r := root(t)
	f := candidate(t, conn, r)
	s := NewZK(conn, r, zk.WorldACL(zk.PermAll), logger(t))
	if _, err := s.Load(ctxT(t)); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("load before any save: %v, want ErrNoCheckpoint", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := s.Save(ctxT(t), f, Checkpoint{Schema: Schema, WrittenAt: at, Payload: []byte(`{"tick":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctxT(t), f, cp(`{"tick":2}`)); err != nil {
		t.Fatal(err)
	}
	// A new leader (another session) reads what the last write left.
	other := NewZK(connect(t, "", ""), r, nil, logger(t))
	c := mustLoad(t, other, `{"tick":2}`)
	if c.Token != f.Token || c.Schema != Schema {
		t.Fatalf("loaded token %d schema %d, want %d %d", c.Token, c.Schema, f.Token, Schema)
	}
	if _, v := stored(t, conn, s.CheckpointPath()); v != 1 {
		t.Fatalf("node version %d after two saves, want 1", v)
	}
	if s.CheckpointPath() != r+"/checkpoint" || s.FrameworkIDPath() != r+"/framework-id" {
		t.Fatalf("paths %s %s", s.CheckpointPath(), s.FrameworkIDPath())
	}
}

func TestZKDeposedLeaderCannotWrite(t *testing.T) {
	needZK(t)
	r := root(t)
	ctx := ctxT(t)
	cfg := func(id string) election.Config {
		return election.Config{Servers: []string{server.Addr()}, Root: r, SessionTimeout: 2 * time.Second, ID: id, Address: id}
	}
	a, err := election.Connect(ctx, cfg("a"), logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := election.Connect(ctx, cfg("b"), logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fa := Fence{NodePath: la.NodePath(), Token: la.Token()}
	sa := NewZK(a.Conn(), a.Root(), a.ACL(), logger(t))
	if err := sa.Save(ctx, fa, cp(`"a1"`)); err != nil {
		t.Fatal(err)
	}

	// A is deposed (its election node goes, as when its session expires); B takes over.
	if err := b.Conn().Delete(la.NodePath(), -1); err != nil {
		t.Fatal(err)
	}
	before, v := stored(t, b.Conn(), sa.CheckpointPath())
	if err := sa.Save(ctx, fa, cp(`"a2"`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed leader's save: %v, want ErrFenced", err)
	}
	lb, err := b.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Resign(context.Background())
	if lb.Token() <= fa.Token {
		t.Fatalf("new leader's token %d is not above the old one's %d", lb.Token(), fa.Token)
	}
	after, v2 := stored(t, b.Conn(), sa.CheckpointPath())
	if !bytes.Equal(before, after) || v != v2 {
		t.Fatal("a fenced save changed the checkpoint node")
	}
	sb := NewZK(b.Conn(), b.Root(), b.ACL(), logger(t))
	mustLoad(t, sb, `"a1"`)
	fb := Fence{NodePath: lb.NodePath(), Token: lb.Token()}
	if err := sb.Save(ctx, fb, cp(`"b1"`)); err != nil {
		t.Fatal(err)
	}
	// The old leader wakes up again, with a store that has not read yet: still fenced.
	fresh := NewZK(a.Conn(), a.Root(), a.ACL(), logger(t))
	for name, s := range map[string]*ZKStore{"same store": sa, "fresh store": fresh} {
		if err := s.Save(ctx, fa, cp(`"a3"`)); !errors.Is(err, ErrFenced) {
			t.Fatalf("%s: deposed leader's save after the new leader wrote: %v, want ErrFenced", name, err)
		}
		if err := s.SaveFrameworkID(ctx, fa, "fw-a"); !errors.Is(err, ErrFenced) {
			t.Fatalf("%s: deposed leader's framework id save: %v, want ErrFenced", name, err)
		}
	}
	mustLoad(t, sb, `"b1"`)
}

func TestZKStaleVersionIsFenced(t *testing.T) {
	needZK(t)
	conn := connect(t, "", "")
	r := root(t)
	f := candidate(t, conn, r)
	s1 := NewZK(conn, r, nil, logger(t))
	s2 := NewZK(conn, r, nil, logger(t))
	if err := s1.Save(ctxT(t), f, cp(`1`)); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, s2, `1`)
	if err := s2.Save(ctxT(t), f, cp(`2`)); err != nil {
		t.Fatal(err)
	}
	// s1 still believes the node is at the version it wrote.
	if err := s1.Save(ctxT(t), f, cp(`3`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("save at a stale version: %v, want ErrFenced", err)
	}
	mustLoad(t, NewZK(conn, r, nil, logger(t)), `2`)

	// Two writers that both saw no node: the second create is fenced.
	r2 := r + "_create"
	f2 := candidate(t, conn, r2)
	c1, c2 := NewZK(conn, r2, nil, logger(t)), NewZK(conn, r2, nil, logger(t))
	for _, s := range []*ZKStore{c1, c2} {
		if _, err := s.Load(ctxT(t)); !errors.Is(err, ErrNoCheckpoint) {
			t.Fatal(err)
		}
	}
	if err := c1.Save(ctxT(t), f2, cp(`"first"`)); err != nil {
		t.Fatal(err)
	}
	if err := c2.Save(ctxT(t), f2, cp(`"second"`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("second create: %v, want ErrFenced", err)
	}
	mustLoad(t, c2, `"first"`)
}

func TestZKLowerTokenIsFenced(t *testing.T) {
	needZK(t)
	conn := connect(t, "", "")
	r := root(t)
	older := candidate(t, conn, r)
	newer := candidate(t, conn, r)
	if err := NewZK(conn, r, nil, logger(t)).Save(ctxT(t), newer, cp(`"newer"`)); err != nil {
		t.Fatal(err)
	}
	// The older node still exists, but a newer token has written: refuse.
	s := NewZK(conn, r, nil, logger(t))
	mustLoad(t, s, `"newer"`)
	err := s.Save(ctxT(t), older, cp(`"older"`))
	if !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), fmt.Sprint(newer.Token)) {
		t.Fatalf("save with a lower token: %v, want ErrFenced naming token %d", err, newer.Token)
	}
	mustLoad(t, s, `"newer"`)
}

func TestZKUnreadableCheckpointIsNeverOverwritten(t *testing.T) {
	needZK(t)
	future := strings.Replace(string(mustEncode(t, 1, `{"x":1}`)), `"schema":1`, `"schema":2`, 1)
	for _, tc := range []struct {
		name   string
		stored []byte
		want   error
	}{
		{"garbage", []byte("\x00\xffnot a checkpoint"), ErrCorrupt},
		{"checksum mismatch", bytes.Replace(mustEncode(t, 1, `{"x":1}`), []byte(`{"x":1}`), []byte(`{"x":2}`), 1), ErrCorrupt},
		{"future schema", []byte(future), ErrFutureSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := connect(t, "", "")
			r := root(t)
			f := candidate(t, conn, r)
			node := r + "/checkpoint"
			if _, err := conn.Create(node, tc.stored, 0, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
			loaded := NewZK(conn, r, nil, logger(t))
			_, err := loaded.Load(ctxT(t))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), node) {
				t.Fatalf("load: %v, want %v naming %s", err, tc.want, node)
			}
			// Neither the store that saw the error nor one that never loaded may overwrite it.
			for name, s := range map[string]*ZKStore{"after load": loaded, "without load": NewZK(conn, r, nil, logger(t))} {
				err := s.Save(ctxT(t), f, cp(`{"blank":true}`))
				if !errors.Is(err, tc.want) || errors.Is(err, ErrFenced) {
					t.Fatalf("%s: save over an unreadable checkpoint: %v, want %v", name, err, tc.want)
				}
			}
			if got, v := stored(t, conn, node); !bytes.Equal(got, tc.stored) || v != 0 {
				t.Fatalf("the unreadable node was changed (version %d)", v)
			}
			// An operator removes it: the store starts afresh.
			if err := conn.Delete(node, -1); err != nil {
				t.Fatal(err)
			}
			if _, err := loaded.Load(ctxT(t)); !errors.Is(err, ErrNoCheckpoint) {
				t.Fatalf("load after removal: %v", err)
			}
			if err := loaded.Save(ctxT(t), f, cp(`"fresh"`)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func mustEncode(t testing.TB, token int64, payload string) []byte {
	t.Helper()
	b, err := encode(token, time.Now(), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestZKFrameworkID(t *testing.T) {
	needZK(t)
	conn := connect(t, "", "")
	r := root(t)
	f := candidate(t, conn, r)
	s := NewZK(conn, r, nil, logger(t))
	ctx := ctxT(t)
	if id, err := s.LoadFrameworkID(ctx); err != nil || id != "" {
		t.Fatalf("load before save: %q, %v", id, err)
	}
	if err := s.SaveFrameworkID(ctx, f, "2a4f-0001"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFrameworkID(ctx, f, "2a4f-0001"); err != nil {
		t.Fatalf("saving the same id again: %v", err)
	}
	err := s.SaveFrameworkID(ctx, f, "9999-0002")
	if !errors.Is(err, ErrFrameworkIDConflict) || !strings.Contains(err.Error(), "2a4f-0001") {
		t.Fatalf("saving a different id: %v, want ErrFrameworkIDConflict naming the stored id", err)
	}
	if id, err := NewZK(connect(t, "", ""), r, nil, logger(t)).LoadFrameworkID(ctx); err != nil || id != "2a4f-0001" {
		t.Fatalf("load from another session: %q, %v", id, err)
	}
	if raw, _ := stored(t, conn, s.FrameworkIDPath()); string(raw) != "2a4f-0001" {
		t.Fatalf("node holds %q, want the plain id", raw)
	}
	for _, bad := range []string{"", " x", "a\nb"} {
		if err := s.SaveFrameworkID(ctx, f, bad); err == nil {
			t.Fatalf("invalid id %q accepted", bad)
		}
	}
	// A deposed writer is fenced, even when it would write the same id.
	if err := conn.Delete(f.NodePath, -1); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFrameworkID(ctx, f, "2a4f-0001"); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced save of the same id: %v, want ErrFenced", err)
	}
	r2 := r + "_new"
	if err := NewZK(conn, r2, nil, logger(t)).SaveFrameworkID(ctx, f, "x-1"); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced first save: %v, want ErrFenced", err)
	}
	if ok, _, _ := conn.Exists(r2 + "/framework-id"); ok {
		t.Fatal("a fenced first save created the node")
	}
}

func TestZKDigestACLKeepsOthersOut(t *testing.T) {
	needZK(t)
	r := root(t)
	owner := connect(t, "", "relay:secret")
	acl := append(zk.DigestACL(zk.PermAll, "relay", "secret"), zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"})
	f := candidate(t, owner, r+"_owner")
	s := NewZK(owner, r, acl, logger(t))
	if err := s.Save(ctxT(t), f, cp(`"mine"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFrameworkID(ctxT(t), f, "fw-1"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{r, s.CheckpointPath(), s.FrameworkIDPath()} {
		got, _, err := owner.GetACL(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Scheme != "digest" || got[1].Perms != zk.PermRead {
			t.Fatalf("%s has ACL %+v, want digest all + world read", p, got)
		}
	}
	// Another client without the credentials, even with a valid fence of its own.
	intruder := connect(t, "", "")
	fi := candidate(t, intruder, r+"_intruder")
	si := NewZK(intruder, r, zk.WorldACL(zk.PermAll), logger(t))
	mustLoad(t, si, `"mine"`) // readable by all
	err := si.Save(ctxT(t), Fence{NodePath: fi.NodePath, Token: fi.Token + 1<<40}, cp(`"theirs"`))
	if !errors.Is(err, zk.ErrNoAuth) || errors.Is(err, ErrFenced) {
		t.Fatalf("unauthenticated save: %v, want ErrNoAuth", err)
	}
	if _, err := intruder.Set(s.FrameworkIDPath(), []byte("fw-2"), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("unauthenticated set of the framework id: %v, want ErrNoAuth", err)
	}
	if err := intruder.Delete(s.CheckpointPath(), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("unauthenticated delete: %v, want ErrNoAuth", err)
	}
	mustLoad(t, s, `"mine"`)
}

func TestZKConnectionCutIsNotFenced(t *testing.T) {
	needZK(t)
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	r := root(t)
	direct := connect(t, "", "")
	f := candidate(t, direct, r) // the fence stays valid: its session does not go through the proxy
	conn := connect(t, proxy.Addr(), "")
	s := NewZK(conn, r, nil, logger(t))
	if err := s.Save(ctxT(t), f, cp(`"before"`)); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err = s.Save(ctx, f, cp(`"during"`))
	if err == nil || errors.Is(err, ErrFenced) {
		t.Fatalf("save while cut off: %v, want a non-fenced error", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("save while cut off took %v, its context allowed 3s", took)
	}
	t.Logf("save while cut off: %v (after %v)", err, time.Since(start).Round(time.Millisecond))
	// A caller's deadline is honoured even while the request is queued for a connection
	// that is not there.
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	start = time.Now()
	if err := s.Save(short, f, cp(`"during"`)); err == nil || errors.Is(err, ErrFenced) || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("save with a 100ms deadline while cut off: %v after %v", err, time.Since(start))
	}
	mustLoad(t, NewZK(direct, r, nil, logger(t)), `"before"`)

	// The connection returns (same session): the caller's retry succeeds.
	proxy.Restore()
	waitSession(t, conn)
	if err := s.Save(ctxT(t), f, cp(`"after"`)); err != nil {
		t.Fatalf("save after the connection came back: %v", err)
	}
	mustLoad(t, NewZK(direct, r, nil, logger(t)), `"after"`)
}

func TestZKSizeBound(t *testing.T) {
	needZK(t)
	conn := connect(t, "", "")
	r := root(t)
	f := candidate(t, conn, r)
	s := NewZK(conn, r, nil, logger(t))
	big := `"` + strings.Repeat("x", MaxPayload-1) + `"` // MaxPayload+1 bytes
	if err := s.Save(ctxT(t), f, cp(big)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("save of %d bytes: %v, want ErrTooLarge", len(big), err)
	}
	if ok, _, _ := conn.Exists(s.CheckpointPath()); ok {
		t.Fatal("a refused save created the node")
	}
	max := big[:len(big)-2] + `"`
	if err := s.Save(ctxT(t), f, cp(max)); err != nil {
		t.Fatalf("save of %d bytes: %v", len(max), err)
	}
	if raw, _ := stored(t, conn, s.CheckpointPath()); len(raw) >= 64<<10 {
		t.Fatalf("stored %d bytes, want < 64 KiB", len(raw))
	}
	mustLoad(t, s, max)
}

func TestZKPausedLeaderWhoseSessionExpiredIsFenced(t *testing.T) {
	needZK(t)
	proxy, err := zktest.NewProxy(server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	r := root(t)
	// The old leader talks through the proxy with a short session.
	old, _, err := zk.Connect([]string{proxy.Addr()}, time.Second, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	waitSession(t, old)
	fOld := candidate(t, old, r)
	sOld := NewZK(old, r, nil, logger(t))
	if err := sOld.Save(ctxT(t), fOld, cp(`"old"`)); err != nil {
		t.Fatal(err)
	}
	// It pauses (no traffic) past its session timeout; its election node goes and a new
	// leader takes over and writes.
	proxy.Cut()
	other := connect(t, "", "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, _, err := other.Exists(fOld.NodePath)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old leader's node outlived its session by 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fNew := candidate(t, other, r)
	sNew := NewZK(other, r, nil, logger(t))
	mustLoad(t, sNew, `"old"`)
	if err := sNew.Save(ctxT(t), fNew, cp(`"new"`)); err != nil {
		t.Fatal(err)
	}
	// It wakes up: the client opens a fresh session, and the old leader tries to write.
	proxy.Restore()
	waitSession(t, old)
	if err := sOld.Save(ctxT(t), fOld, cp(`"stale"`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("the woken leader's save: %v, want ErrFenced", err)
	}
	mustLoad(t, sNew, `"new"`)
}
