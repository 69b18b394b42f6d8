package state

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
)

// ZKStore keeps the state in ZooKeeper: the checkpoint in root+"/checkpoint" and the
// FrameworkID (plain text) in root+"/framework-id". Every write is one multi-op fenced on the
// writer's election node and on the version of the node this store last read or wrote.
// Its methods are safe for concurrent use (they are serialised). A call whose context ends
// first returns ctx's error while the ZooKeeper request finishes in the background; the next
// call waits for it, and treats the state node's version as unknown.
type ZKStore struct {
	conn   *zk.Conn
	root   string
	cpPath string
	fwPath string
	acl    []zk.ACL
	log    hclog.Logger

	mu       sync.Mutex
	cp       zkNode        // the checkpoint node as this store last saw it
	inflight chan struct{} // closed when an abandoned request returns
}

// zkNode is what a store knows of the checkpoint node.
type zkNode struct {
	known   bool  // exists/version/token are current (as far as this store knows)
	exists  bool  // the node exists
	version int32 // its version
	token   int64 // the fencing token in its envelope
	bad     error // the last read found it corrupt or from a newer schema; Save refuses
}

// NewZK returns a store under root on conn; every node it creates gets acl (an open ACL when
// acl is empty). It does no I/O.
func NewZK(conn *zk.Conn, root string, acl []zk.ACL, log hclog.Logger) *ZKStore {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if len(acl) == 0 {
		acl = zk.WorldACL(zk.PermAll)
	}
	root = path.Clean("/" + root)
	return &ZKStore{conn: conn, root: root, cpPath: path.Join(root, "checkpoint"), fwPath: path.Join(root, "framework-id"),
		acl: acl, log: log.Named("state")}
}

// CheckpointPath is the checkpoint node.
func (s *ZKStore) CheckpointPath() string { return s.cpPath }

// FrameworkIDPath is the FrameworkID node.
func (s *ZKStore) FrameworkIDPath() string { return s.fwPath }

// call runs fn (one or more ZooKeeper requests) and waits for it or for ctx. s.mu is held.
// After ctx ends, fn's results must not be read: it may still be running.
func (s *ZKStore) call(ctx context.Context, fn func()) error {
	if s.inflight != nil {
		select {
		case <-s.inflight:
			s.inflight = nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.inflight = done
		return ctx.Err()
	}
}

// Load implements Store.
func (s *ZKStore) Load(ctx context.Context) (Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.readCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if !s.cp.exists {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", s.cpPath, ErrNoCheckpoint)
	}
	return c, nil
}

// readCheckpoint reads the checkpoint node and records what it saw in s.cp.
func (s *ZKStore) readCheckpoint(ctx context.Context) (Checkpoint, error) {
	var (
		data []byte
		stat *zk.Stat
		err  error
	)
	s.cp.known = false
	// A new leader may be connected to a ZooKeeper server that lags the quorum (reads are
	// served locally): sync first, so that it never resumes from an older checkpoint than the
	// last one written.
	if cerr := s.call(ctx, func() { _, err = s.conn.Sync(s.root) }); cerr != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: sync: %w", s.cpPath, cerr)
	}
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: sync: %w", s.cpPath, err)
	}
	if cerr := s.call(ctx, func() { data, stat, err = s.conn.Get(s.cpPath) }); cerr != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", s.cpPath, cerr)
	}
	if errors.Is(err, zk.ErrNoNode) {
		s.cp = zkNode{known: true}
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", s.cpPath, err)
	}
	c, err := decode(data)
	if err != nil {
		s.cp = zkNode{bad: err}
		s.log.Error("checkpoint_unreadable", "node", s.cpPath, "version", stat.Version, "bytes", len(data), "error", err)
		return Checkpoint{}, fmt.Errorf("load checkpoint %s (version %d): %w", s.cpPath, stat.Version, err)
	}
	s.cp = zkNode{known: true, exists: true, version: stat.Version, token: c.Token}
	return c, nil
}

// Save implements Store.
func (s *ZKStore) Save(ctx context.Context, f Fence, c Checkpoint) error {
	if f.NodePath == "" {
		return fmt.Errorf("save checkpoint %s: %w: empty fence", s.cpPath, ErrFenced)
	}
	at := c.WrittenAt
	if at.IsZero() {
		at = time.Now()
	}
	data, err := encode(f.Token, at, c.Payload)
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cp.bad != nil {
		return fmt.Errorf("save checkpoint %s: refusing to overwrite a checkpoint this replica cannot read (load it successfully or remove it first): %w", s.cpPath, s.cp.bad)
	}
	if !s.cp.known {
		// Check the fence before reading, so that a deposed writer learns it at once.
		if err := s.checkFence(ctx, f); err != nil {
			return fmt.Errorf("save checkpoint %s: %w", s.cpPath, err)
		}
		if _, err := s.readCheckpoint(ctx); err != nil {
			if s.cp.bad != nil {
				return fmt.Errorf("save checkpoint %s: refusing to overwrite a checkpoint this replica cannot read: %w", s.cpPath, err)
			}
			return fmt.Errorf("save checkpoint: %w", err)
		}
	}
	if s.cp.exists && s.cp.token > f.Token {
		s.log.Warn("checkpoint_fenced", "node", s.cpPath, "reason", "newer_token", "stored_token", s.cp.token, "token", f.Token)
		return fmt.Errorf("save checkpoint %s: %w: it was written with token %d, ours is %d", s.cpPath, ErrFenced, s.cp.token, f.Token)
	}
	var op any = &zk.SetDataRequest{Path: s.cpPath, Data: data, Version: s.cp.version}
	if !s.cp.exists {
		if err := s.ensureRoot(ctx); err != nil {
			return fmt.Errorf("save checkpoint %s: %w", s.cpPath, err)
		}
		op = &zk.CreateRequest{Path: s.cpPath, Data: data, Acl: s.acl}
	}
	resp, err := s.fencedMulti(ctx, f, op)
	if err != nil {
		s.cp.known = false // the write's fate, or the node's version, is unknown: re-read first
		if errors.Is(err, ErrFenced) {
			s.log.Warn("checkpoint_fenced", "node", s.cpPath, "fence", f.NodePath, "token", f.Token, "error", err)
		}
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath, err)
	}
	version := int32(0)
	switch {
	case !s.cp.exists:
		s.log.Info("checkpoint_created", "node", s.cpPath, "token", f.Token, "bytes", len(data))
	case len(resp) > 1 && resp[1].Stat != nil:
		version = resp[1].Stat.Version
	default:
		s.cp.known = false // no stat in the reply: re-read before the next write
		return nil
	}
	s.cp = zkNode{known: true, exists: true, version: version, token: f.Token}
	s.log.Debug("checkpoint_saved", "node", s.cpPath, "version", version, "token", f.Token, "bytes", len(data))
	return nil
}

// checkFence reports ErrFenced when the writer's election node is gone.
func (s *ZKStore) checkFence(ctx context.Context, f Fence) error {
	var (
		ok  bool
		err error
	)
	if cerr := s.call(ctx, func() { ok, _, err = s.conn.Exists(f.NodePath) }); cerr != nil {
		return fmt.Errorf("check fence %s: %w", f.NodePath, cerr)
	}
	if err != nil {
		return fmt.Errorf("check fence %s: %w", f.NodePath, err)
	}
	if !ok {
		return fmt.Errorf("%w: election node %s is gone", ErrFenced, f.NodePath)
	}
	return nil
}

// fencedMulti runs the fence check (our election node exists) and ops as one transaction. A
// failed check, a stale version or a node created or deleted by someone else is ErrFenced;
// connection trouble is returned wrapped (not ErrFenced: the outcome is unknown).
func (s *ZKStore) fencedMulti(ctx context.Context, f Fence, ops ...any) ([]zk.MultiResponse, error) {
	all := append([]any{&zk.CheckVersionRequest{Path: f.NodePath, Version: -1}}, ops...)
	var (
		resp []zk.MultiResponse
		err  error
	)
	if cerr := s.call(ctx, func() { resp, err = s.conn.Multi(all...) }); cerr != nil {
		return nil, cerr
	}
	if err == nil {
		return resp, nil
	}
	// The first failed operation tells why (earlier ones report ok, later ones are rolled back).
	failed := -1
	for i, r := range resp {
		if r.Error != nil {
			failed = i
			err = r.Error
			break
		}
	}
	switch {
	case failed == 0 && errors.Is(err, zk.ErrNoNode):
		return nil, fmt.Errorf("%w: election node %s is gone", ErrFenced, f.NodePath)
	case failed > 0 && (errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrNodeExists)):
		return nil, fmt.Errorf("%w: another writer changed %s (%v)", ErrFenced, opPath(ops[failed-1]), err)
	}
	return nil, fmt.Errorf("zookeeper multi: %w", err)
}

func opPath(op any) string {
	switch o := op.(type) {
	case *zk.SetDataRequest:
		return o.Path
	case *zk.CreateRequest:
		return o.Path
	case *zk.CheckVersionRequest:
		return o.Path
	}
	return "?"
}

// ensureRoot creates the root and its parents (with the ACL) where missing. Existing nodes
// are not touched (creating over them would need permissions we may not have).
func (s *ZKStore) ensureRoot(ctx context.Context) error {
	var err error
	fn := func() {
		cur := ""
		for _, part := range strings.Split(strings.Trim(s.root, "/"), "/") {
			if part == "" {
				continue
			}
			cur += "/" + part
			var ok bool
			if ok, _, err = s.conn.Exists(cur); err != nil || ok {
				if err != nil {
					err = fmt.Errorf("check %s: %w", cur, err)
					return
				}
				continue
			}
			if _, err = s.conn.Create(cur, nil, 0, s.acl); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				err = fmt.Errorf("create %s: %w", cur, err)
				return
			}
			err = nil
		}
	}
	if cerr := s.call(ctx, fn); cerr != nil {
		return cerr
	}
	return err
}

// LoadFrameworkID implements Store.
func (s *ZKStore) LoadFrameworkID(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _, err := s.readFrameworkID(ctx)
	return id, err
}

// readFrameworkID returns the stored id and the node's version (-1 when there is no node).
func (s *ZKStore) readFrameworkID(ctx context.Context) (string, int32, error) {
	var (
		data []byte
		stat *zk.Stat
		err  error
	)
	if cerr := s.call(ctx, func() { data, stat, err = s.conn.Get(s.fwPath) }); cerr != nil {
		return "", 0, fmt.Errorf("load framework id %s: %w", s.fwPath, cerr)
	}
	if errors.Is(err, zk.ErrNoNode) {
		return "", -1, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("load framework id %s: %w", s.fwPath, err)
	}
	return strings.TrimSpace(string(data)), stat.Version, nil
}

// SaveFrameworkID implements Store.
func (s *ZKStore) SaveFrameworkID(ctx context.Context, f Fence, id string) error {
	if err := validID(id); err != nil {
		return fmt.Errorf("save framework id %s: %w", s.fwPath, err)
	}
	if f.NodePath == "" {
		return fmt.Errorf("save framework id %s: %w: empty fence", s.fwPath, ErrFenced)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, version, err := s.readFrameworkID(ctx)
	if err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	var op any
	switch {
	case stored == id:
		// Nothing to write; confirm the fence and that the node is unchanged.
		op = &zk.CheckVersionRequest{Path: s.fwPath, Version: version}
	case stored != "":
		s.log.Error("framework_id_conflict", "node", s.fwPath, "stored", stored, "new", id)
		return fmt.Errorf("save framework id %s: %w: stored %q, refusing to replace it with %q", s.fwPath, ErrFrameworkIDConflict, stored, id)
	case version >= 0:
		op = &zk.SetDataRequest{Path: s.fwPath, Data: []byte(id), Version: version}
	default:
		if err := s.ensureRoot(ctx); err != nil {
			return fmt.Errorf("save framework id %s: %w", s.fwPath, err)
		}
		op = &zk.CreateRequest{Path: s.fwPath, Data: []byte(id), Acl: s.acl}
	}
	if _, err := s.fencedMulti(ctx, f, op); err != nil {
		if errors.Is(err, ErrFenced) {
			s.log.Warn("framework_id_fenced", "node", s.fwPath, "fence", f.NodePath, "token", f.Token, "error", err)
		}
		return fmt.Errorf("save framework id %s: %w", s.fwPath, err)
	}
	if stored != id {
		s.log.Info("framework_id_saved", "node", s.fwPath, "framework_id", id, "token", f.Token)
	}
	return nil
}

// validID refuses ids that could not round-trip through the stored text.
func validID(id string) error {
	if id == "" || strings.TrimSpace(id) != id || strings.ContainsAny(id, "\n\r\x00") || len(id) > 1024 {
		return fmt.Errorf("invalid framework id %q", id)
	}
	return nil
}

var _ Store = (*ZKStore)(nil)
