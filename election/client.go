package election

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
)

// Sentinel errors.
var (
	// ErrNoLeader: nobody campaigns right now.
	ErrNoLeader = errors.New("election: no leader")
	// ErrDuplicateID: another live candidate uses this candidate's ID.
	ErrDuplicateID = errors.New("election: another candidate has the same id")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("election: client closed")
)

// LeaderInfo is what a candidate publishes in its election node.
type LeaderInfo struct {
	ID      string    `json:"id"`
	Address string    `json:"address"`
	Started time.Time `json:"started"`
	// Token is the leader's fencing token (its node's creation zxid); not in the node data.
	Token int64 `json:"-"`
}

// Client is a ZooKeeper session for the election (and the state store, which shares it).
// Its methods are safe for concurrent use. It owns one goroutine, which follows the session
// state; Close stops it.
type Client struct {
	cfg  Config
	log  hclog.Logger
	conn *zk.Conn
	acl  []zk.ACL

	mu          sync.Mutex
	state       zk.State
	sessionID   int64
	lostSince   time.Time // zero while connected
	changed     chan struct{}
	sessionLoss int
	closed      bool
	stop        chan struct{}
	done        chan struct{}
	// left: nodes of ours that could not be deleted while the connection was down (a resign
	// after the connection was lost); they are deleted as soon as a session is back, or they
	// would block the election for as long as the session lives (a ZooKeeper quorum loss does
	// not expire sessions). clearing is set while clearLeft runs.
	left     []leftNode
	clearing bool
	cleared  sync.WaitGroup
}

// leftNode is a node of ours left for deletion at the next session.
type leftNode struct {
	path    string
	version int32
}

// electionDir is where candidates create their nodes.
func (c *Client) electionDir() string { return path.Join(c.cfg.Root, "election") }

// Root is the chroot every node of this replica set lives under.
func (c *Client) Root() string { return c.cfg.Root }

// ACL is the ACL every node the project creates gets.
func (c *Client) ACL() []zk.ACL { return c.acl }

// Conn is the underlying connection (the state store shares the session).
func (c *Client) Conn() *zk.Conn { return c.conn }

type zkLogger struct{ l hclog.Logger }

func (z zkLogger) Printf(format string, args ...interface{}) {
	z.l.Debug("zookeeper", "msg", fmt.Sprintf(format, args...))
}

// Connect opens a session and waits (bounded by ctx) until it is established. It creates the
// root path if needed.
func Connect(ctx context.Context, cfg Config, logger hclog.Logger) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	log := logger.Named("election")
	conn, events, err := zk.Connect(cfg.Servers, cfg.SessionTimeout, zk.WithLogger(zkLogger{log}), zk.WithLogInfo(false),
		zk.WithDialer(boundedDialer(cfg.SessionTimeout)))
	if err != nil {
		return nil, fmt.Errorf("zookeeper connect: %w", err)
	}
	c := &Client{cfg: cfg, log: log, conn: conn, acl: zk.WorldACL(zk.PermAll), changed: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}), lostSince: time.Now()}
	if cfg.Auth != "" {
		user, pass, _ := strings.Cut(cfg.Auth, ":")
		if err := conn.AddAuth("digest", []byte(cfg.Auth)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("zookeeper auth: %w", err)
		}
		c.acl = append(zk.DigestACL(zk.PermAll, user, pass), zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"})
	}
	go c.follow(events)
	if err := c.waitSession(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.ensurePath(c.electionDir()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// follow tracks the session: it re-reads the connection state on every event and every
// 100 ms (events are hints: go-zookeeper drops them when its channel is full).
func (c *Client) follow(events <-chan zk.Event) {
	defer close(c.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case _, ok := <-events:
			if !ok {
				events = nil
			}
		case <-tick.C:
		}
		c.refresh()
		c.mu.Lock()
		if len(c.left) > 0 && !c.clearing && c.state == zk.StateHasSession && !c.closed {
			c.clearing = true
			c.cleared.Add(1)
			go c.clearLeft()
		}
		c.mu.Unlock()
	}
}

// leave notes a node of ours that could not be deleted (the connection is down), to be
// deleted once a session is back.
func (c *Client) leave(path string, version int32) {
	c.mu.Lock()
	c.left = append(c.left, leftNode{path: path, version: version})
	c.mu.Unlock()
	c.log.Warn("node_left_for_reconnect", "node", path)
}

// clearLeft deletes the nodes left by leave. It runs beside follow (a delete can wait on a
// connection that breaks again, and follow must keep the session state current for the
// leadership's disconnect bound); what still cannot be deleted is kept for the next session.
func (c *Client) clearLeft() {
	defer c.cleared.Done()
	c.mu.Lock()
	todo := c.left
	c.left = nil
	c.mu.Unlock()
	var keep []leftNode
	for _, n := range todo {
		err := c.conn.Delete(n.path, n.version)
		switch {
		case err == nil:
			c.log.Info("left_node_removed", "node", n.path)
		case errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrClosing):
			// gone with its session, no longer the node we created, or the session is closing
		case connectionError(err):
			keep = append(keep, n)
		default:
			c.log.Warn("left_node_remove_failed", "node", n.path, "error", err)
		}
	}
	c.mu.Lock()
	c.left = append(keep, c.left...)
	c.clearing = false
	c.mu.Unlock()
}

func (c *Client) refresh() {
	st, sid := c.conn.State(), c.conn.SessionID()
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == c.state && (st != zk.StateHasSession || sid == c.sessionID) {
		return
	}
	connected := st == zk.StateHasSession
	switch {
	case connected && c.sessionID != 0 && sid != c.sessionID:
		c.sessionLoss++
		c.log.Warn("session_replaced", "old_session", fmt.Sprintf("%#x", c.sessionID), "new_session", fmt.Sprintf("%#x", sid))
	case st == zk.StateExpired:
		c.log.Warn("session_expired", "session", fmt.Sprintf("%#x", c.sessionID))
	}
	if connected {
		c.lostSince = time.Time{}
		c.sessionID = sid
	} else if c.lostSince.IsZero() {
		c.lostSince = time.Now()
	}
	if st != c.state {
		c.log.Debug("session_state", "state", st.String())
	}
	c.state = st
	close(c.changed)
	c.changed = make(chan struct{})
}

// session returns the current session id (0 when not connected), how long the connection
// has been lost (0 when connected), and a channel closed at the next change.
func (c *Client) session() (sid int64, lost time.Duration, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == zk.StateHasSession {
		return c.sessionID, 0, c.changed
	}
	return 0, time.Since(c.lostSince), c.changed
}

func (c *Client) waitSession(ctx context.Context) error {
	for {
		sid, _, changed := c.session()
		if sid != 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("zookeeper session: %w", ctx.Err())
		case <-c.stop:
			return ErrClosed
		case <-changed:
		}
	}
}

// SessionState names the session state: connected, connecting, disconnected, expired,
// auth_failed, closed or unknown (the names metrics.ZKSession takes).
func (c *Client) SessionState() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "closed"
	}
	switch c.state {
	case zk.StateHasSession:
		return "connected"
	case zk.StateConnecting, zk.StateConnected:
		return "connecting"
	case zk.StateDisconnected:
		return "disconnected"
	case zk.StateExpired:
		return "expired"
	case zk.StateAuthFailed:
		return "auth_failed"
	}
	return "unknown"
}

// SessionLosses counts sessions replaced by a new one since Connect.
func (c *Client) SessionLosses() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionLoss
}

// Close ends the session (its ephemeral nodes go at once) and the client's goroutine.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	c.conn.Close() // a delete under way in clearLeft fails at once
	c.cleared.Wait()
}

// ensurePath creates p and its parents (with the ACL) where missing.
func (c *Client) ensurePath(p string) error {
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + part
		// Look first: a parent that exists may refuse CREATE to us (another identity's ACL)
		// and ZooKeeper checks that before it says the node exists.
		if ok, _, err := c.conn.Exists(cur); err == nil && ok {
			continue
		}
		_, err := c.conn.Create(cur, nil, 0, c.acl)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", cur, err)
		}
	}
	return nil
}

// candidate is one election node.
type candidate struct {
	name string
	seq  int64
}

// candidates lists the election nodes in sequence order.
func (c *Client) candidates() ([]candidate, error) {
	names, _, err := c.conn.Children(c.electionDir())
	if err != nil {
		return nil, err
	}
	out := make([]candidate, 0, len(names))
	for _, n := range names {
		i := strings.LastIndex(n, "-n_")
		if i < 0 {
			continue
		}
		var seq int64
		if _, err := fmt.Sscanf(n[i+3:], "%d", &seq); err != nil {
			continue
		}
		out = append(out, candidate{name: n, seq: seq})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

// Leader returns the current leader as the election nodes say: the lowest sequence. It is
// the same answer on every replica.
func (c *Client) Leader(ctx context.Context) (LeaderInfo, error) {
	for attempt := 0; attempt < 3; attempt++ {
		cs, err := c.candidates()
		if err != nil {
			return LeaderInfo{}, fmt.Errorf("list candidates: %w", err)
		}
		if len(cs) == 0 {
			return LeaderInfo{}, ErrNoLeader
		}
		data, stat, err := c.conn.Get(path.Join(c.electionDir(), cs[0].name))
		if errors.Is(err, zk.ErrNoNode) {
			continue // it just left; look again
		}
		if err != nil {
			return LeaderInfo{}, fmt.Errorf("read leader: %w", err)
		}
		var li LeaderInfo
		if err := json.Unmarshal(data, &li); err != nil {
			return LeaderInfo{}, fmt.Errorf("leader node %s: %w", cs[0].name, err)
		}
		li.Token = stat.Czxid
		return li, nil
	}
	return LeaderInfo{}, ErrNoLeader
}
