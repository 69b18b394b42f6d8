package election

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// Why a leadership ended.
var (
	ErrSessionExpired = errors.New("election: zookeeper session expired or replaced")
	ErrConnectionLost = errors.New("election: zookeeper connection lost past the bound")
	ErrNodeDeleted    = errors.New("election: own election node deleted")
	ErrResigned       = errors.New("election: resigned")
)

// Leadership is this candidate's term as leader. Its context is cancelled at the first doubt:
// the session expired or was replaced, the connection has been lost for longer than the
// disconnect bound, or our node is gone. During a shorter disconnect the leader holds: it may
// keep acting because every state write is fenced on the election node (a write after the
// session is gone fails), so a short network hiccup does not cost a failover.
type Leadership struct {
	c       *Client
	node    string
	token   int64
	sid     int64
	version int32
	ctx     context.Context
	cancel  context.CancelCauseFunc
	done    chan struct{}
	// resigning is set by Resign before it deletes our node, so that the monitor, seeing the
	// node gone, ends the term as resigned rather than as lost (the first cause set wins).
	resigning atomic.Bool
}

func newLeadership(c *Client, node string, token, sid int64, version int32) *Leadership {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := &Leadership{c: c, node: node, token: token, sid: sid, version: version, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go l.monitor()
	c.log.Info("elected", "node", node, "token", token)
	return l
}

// Context is cancelled when leadership ends or is in doubt; Err/context.Cause tell why.
func (l *Leadership) Context() context.Context { return l.ctx }

// Token is the fencing token: the creation zxid of our election node, which grows across
// leaders (and across re-created parents, unlike a sequence number).
func (l *Leadership) Token() int64 { return l.token }

// NodePath is our election node; state writes are fenced on it.
func (l *Leadership) NodePath() string { return l.node }

// Err tells why the leadership ended (nil while it lasts).
func (l *Leadership) Err() error {
	if l.ctx.Err() == nil {
		return nil
	}
	return context.Cause(l.ctx)
}

// Resign gives leadership up: it deletes our node (by path and version, never anything else)
// so that the next candidate takes over in one round trip, then cancels the context. The
// caller must have stopped acting first.
func (l *Leadership) Resign(ctx context.Context) error {
	l.resigning.Store(true)
	defer func() { l.cancel(ErrResigned); <-l.done }()
	if l.ctx.Err() != nil && !errors.Is(context.Cause(l.ctx), ErrResigned) {
		// Already lost; delete anyway in case the node is still ours (e.g. connection bound).
		// If the connection is still down, the node is deleted once a session is back: the
		// session may outlive the outage (a ZooKeeper quorum loss), and the node, the lowest
		// candidate, would block every other replica until this one campaigned again.
		// The delete waits for a connection (go-zookeeper queues it), so it is bounded by ctx.
		done := make(chan error, 1)
		go func() { done <- l.c.conn.Delete(l.node, l.version) }()
		select {
		case err := <-done:
			if err != nil && connectionError(err) {
				l.c.leave(l.node, l.version)
			}
		case <-ctx.Done():
			l.c.leave(l.node, l.version)
		}
		return nil
	}
	for {
		err := l.c.conn.Delete(l.node, l.version)
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			l.c.log.Info("resigned", "node", l.node, "token", l.token)
			return nil
		}
		if !connectionError(err) {
			return fmt.Errorf("resign: %w", err)
		}
		select {
		case <-ctx.Done():
			l.c.leave(l.node, l.version)
			return fmt.Errorf("resign: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// monitor watches the session and our node until the leadership ends.
func (l *Leadership) monitor() {
	defer close(l.done)
	c := l.c
	poll := min(c.cfg.DisconnectBound/4, 250*time.Millisecond)
	var watch <-chan zk.Event // one outstanding watch on our node at a time
	for {
		sid, lost, changed := c.session()
		switch {
		case sid != 0 && sid != l.sid:
			l.end(ErrSessionExpired)
			return
		case sid == 0 && lost >= c.cfg.DisconnectBound:
			l.end(ErrConnectionLost)
			return
		}
		if sid != 0 {
			var (
				ok   bool
				stat *zk.Stat
				err  error
			)
			if watch == nil {
				var w <-chan zk.Event
				ok, stat, w, err = c.conn.ExistsW(l.node)
				if err == nil {
					watch = w
				}
			} else {
				ok, stat, err = c.conn.Exists(l.node) // events are hints: re-read the node
			}
			switch {
			case err == nil && !ok && l.resigning.Load():
				l.cancel(ErrResigned) // our own Resign deleted it
				return
			case err == nil && !ok:
				l.end(ErrNodeDeleted)
				return
			case err == nil && stat.EphemeralOwner != l.sid:
				l.end(ErrSessionExpired)
				return
			}
		}
		select {
		case <-l.ctx.Done():
			return
		case <-c.stop:
			l.end(ErrClosed)
			return
		case <-watch:
			watch = nil
		case <-changed:
		case <-time.After(poll):
		}
	}
}

func (l *Leadership) end(why error) {
	l.c.log.Warn("leadership_lost", "node", l.node, "token", l.token, "reason", why)
	l.cancel(why)
}
