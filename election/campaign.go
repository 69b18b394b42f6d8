package election

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/uuid"
)

// connectionError reports whether err means the request's fate is unknown (the connection
// broke or the session went): the node may or may not have been created.
func connectionError(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrSessionExpired) ||
		errors.Is(err, zk.ErrSessionMoved) || errors.Is(err, zk.ErrNoServer) || errors.Is(err, zk.ErrClosing)
}

// Campaign blocks until this candidate leads, ctx is done (ctx.Err()) or the client is
// closed. Failures along the way (lost connection, new session, vanished parents) are retried
// with backoff; the candidate's node is removed on every error path so that no ghost blocks
// the election. The returned Leadership's context is cancelled at the first doubt.
func (c *Client) Campaign(ctx context.Context) (*Leadership, error) {
	backoff := 50 * time.Millisecond
	for {
		l, err := c.campaignOnce(ctx)
		if err == nil {
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrDuplicateID) {
			return nil, err
		}
		c.log.Debug("campaign_retry", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (c *Client) campaignOnce(ctx context.Context) (*Leadership, error) {
	if err := c.waitSession(ctx); err != nil {
		return nil, err
	}
	sid, _, _ := c.session()
	guid := uuid.NewString()
	// The create runs beside us so that a cancelled campaign returns at once even while a
	// request hangs on a dead connection; whatever it created is then deleted, never left as a
	// ghost candidate.
	type created struct {
		node candidate
		err  error
	}
	ch := make(chan created, 1)
	go func() {
		n, err := c.createNode(ctx, guid)
		ch <- created{n, err}
	}()
	var node candidate
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		node = r.node
	case <-ctx.Done():
		go func() {
			r := <-ch
			if r.err == nil {
				c.deleteNode(path.Join(c.electionDir(), r.node.name))
			} else if found, ok := c.findGUID(guid); ok {
				c.deleteNode(path.Join(c.electionDir(), found.name))
			}
		}()
		return nil, ctx.Err()
	}
	full := path.Join(c.electionDir(), node.name)
	l, err := c.await(ctx, node, sid)
	if err != nil {
		c.deleteNode(full)
		return nil, err
	}
	return l, nil
}

// createNode creates this candidate's ephemeral sequential node. A create whose reply was lost
// is found again by the GUID in its name.
func (c *Client) createNode(ctx context.Context, guid string) (candidate, error) {
	data, _ := json.Marshal(LeaderInfo{ID: c.cfg.ID, Address: c.cfg.Address, Started: time.Now().UTC()})
	prefix := path.Join(c.electionDir(), guid+"-n_")
	for attempt := 0; attempt < 5; attempt++ {
		created, err := c.conn.Create(prefix, data, zk.FlagEphemeral|zk.FlagSequence, c.acl)
		if err == nil {
			return c.parse(path.Base(created))
		}
		if errors.Is(err, zk.ErrNoNode) { // the parents vanished: recreate and start over
			if perr := c.ensurePath(c.electionDir()); perr != nil {
				return candidate{}, perr
			}
			continue
		}
		if !connectionError(err) {
			return candidate{}, fmt.Errorf("create candidate: %w", err)
		}
		// Unknown fate: wait for the session, then look for our GUID.
		if werr := c.waitSession(ctx); werr != nil {
			return candidate{}, werr
		}
		if found, ok := c.findGUID(guid); ok {
			return found, nil
		}
	}
	return candidate{}, errors.New("create candidate: gave up after repeated connection loss")
}

func (c *Client) parse(name string) (candidate, error) {
	i := strings.LastIndex(name, "-n_")
	var seq int64
	if i < 0 {
		return candidate{}, fmt.Errorf("unexpected candidate node %q", name)
	}
	if _, err := fmt.Sscanf(name[i+3:], "%d", &seq); err != nil {
		return candidate{}, fmt.Errorf("unexpected candidate node %q", name)
	}
	return candidate{name: name, seq: seq}, nil
}

func (c *Client) findGUID(guid string) (candidate, bool) {
	cs, err := c.candidates()
	if err != nil {
		return candidate{}, false
	}
	for _, x := range cs {
		if strings.HasPrefix(x.name, guid+"-") {
			return x, true
		}
	}
	return candidate{}, false
}

// deleteNode removes a node of ours, retrying while the connection is unsure; if it cannot,
// it is deleted once a session is back (leave), or goes with the session.
func (c *Client) deleteNode(full string) {
	for attempt := 0; attempt < 10; attempt++ {
		err := c.conn.Delete(full, -1)
		if err == nil || errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrClosing) {
			return
		}
		c.log.Debug("delete_candidate_retry", "node", full, "error", err)
		time.Sleep(100 * time.Millisecond)
	}
	c.leave(full, -1)
}

// await waits until node is the lowest candidate. It watches only its predecessor and
// re-lists when that one goes (its absence alone does not mean we lead).
func (c *Client) await(ctx context.Context, node candidate, sid int64) (*Leadership, error) {
	full := path.Join(c.electionDir(), node.name)
	checkedDup := false
	for {
		// Our node must exist and belong to our current session (a node of an older session of
		// ours does not count).
		ok, stat, err := c.conn.Exists(full)
		if err != nil {
			return nil, fmt.Errorf("check own node: %w", err)
		}
		cur, _, _ := c.session()
		if !ok || stat.EphemeralOwner != sid || cur != sid {
			return nil, errors.New("own candidate node lost or from another session")
		}
		cs, err := c.candidates()
		if err != nil {
			return nil, fmt.Errorf("list candidates: %w", err)
		}
		if !checkedDup {
			if err := c.checkDuplicate(cs, node); err != nil {
				return nil, err
			}
			checkedDup = true
			if cs, err = c.candidates(); err != nil { // a leftover of ours may be gone now
				return nil, fmt.Errorf("list candidates: %w", err)
			}
		}
		idx := -1
		for i, x := range cs {
			if x.name == node.name {
				idx = i
			}
		}
		if idx < 0 {
			return nil, errors.New("own candidate node missing from the list")
		}
		if idx == 0 {
			return newLeadership(c, full, stat.Czxid, sid, stat.Version), nil
		}
		pred := path.Join(c.electionDir(), cs[idx-1].name)
		exists, _, watch, err := c.conn.ExistsW(pred)
		if err != nil {
			return nil, fmt.Errorf("watch predecessor: %w", err)
		}
		if !exists {
			continue
		}
		_, _, changed := c.session()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.stop:
			return nil, ErrClosed
		case <-watch:
		case <-changed:
		case <-time.After(c.cfg.SessionTimeout): // events are hints: look again now and then
		}
	}
}

// checkDuplicate refuses to campaign when another live candidate has our ID.
func (c *Client) checkDuplicate(cs []candidate, own candidate) error {
	for _, x := range cs {
		if x.name == own.name {
			continue
		}
		full := path.Join(c.electionDir(), x.name)
		data, stat, err := c.conn.Get(full)
		if err != nil {
			continue
		}
		if sid := c.conn.SessionID(); sid != 0 && stat.EphemeralOwner == sid {
			// Our own node from an earlier term of this same session (a resign that failed
			// while the connection was down): remove it, or it would block everyone for ever.
			c.log.Warn("removing_own_leftover_node", "node", x.name)
			if err := c.conn.Delete(full, stat.Version); err != nil && !errors.Is(err, zk.ErrNoNode) {
				return fmt.Errorf("remove own leftover node %s: %w", x.name, err)
			}
			continue
		}
		var li LeaderInfo
		if json.Unmarshal(data, &li) == nil && li.ID == c.cfg.ID {
			c.log.Error("duplicate_candidate_id", "id", c.cfg.ID, "other_node", x.name)
			return fmt.Errorf("%w: %q (node %s); give each replica its own --advertise", ErrDuplicateID, c.cfg.ID, x.name)
		}
	}
	return nil
}
