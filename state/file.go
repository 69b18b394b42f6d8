package state

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Names of the state files in a FileStore's directory.
const (
	checkpointFile  = "checkpoint.json"
	frameworkIDFile = "framework-id"
)

// FileStore keeps the state in a directory, for a single replica without ZooKeeper:
// checkpoint.json and framework-id, each replaced atomically. Writes are fenced by the
// FileLock on the same directory: the fence must name its lock file, carry the current token
// (dir/token) and the lock must be held. Its methods are safe for concurrent use.
type FileStore struct {
	dir string
	log hclog.Logger

	mu sync.Mutex
	cp fileState // the checkpoint file as this store last saw it
}

// fileState is what a store knows of the checkpoint file.
type fileState struct {
	known  bool
	exists bool
	sum    [32]byte // sha256 of the file's bytes: a change means another writer
	token  int64
	bad    error // the last read found it corrupt or from a newer schema; Save refuses
}

// NewFile returns a store in dir, creating dir (mode 0700) if needed.
func NewFile(dir string, log hclog.Logger) (*FileStore, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	return &FileStore{dir: abs, log: log.Named("state")}, nil
}

// Dir is the store's directory.
func (s *FileStore) Dir() string { return s.dir }

func (s *FileStore) cpPath() string { return filepath.Join(s.dir, checkpointFile) }

// Load implements Store.
func (s *FileStore) Load(ctx context.Context) (Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", s.cpPath(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.readCheckpoint()
	if err != nil {
		return Checkpoint{}, err
	}
	if !s.cp.exists {
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", s.cpPath(), ErrNoCheckpoint)
	}
	return c, nil
}

func (s *FileStore) readCheckpoint() (Checkpoint, error) {
	s.cp.known = false
	b, err := os.ReadFile(s.cpPath())
	if errors.Is(err, os.ErrNotExist) {
		s.cp = fileState{known: true}
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint: %w", err)
	}
	c, err := decode(b)
	if err != nil {
		s.cp = fileState{bad: err}
		s.log.Error("checkpoint_unreadable", "file", s.cpPath(), "bytes", len(b), "error", err)
		return Checkpoint{}, fmt.Errorf("load checkpoint %s: %w", s.cpPath(), err)
	}
	s.cp = fileState{known: true, exists: true, sum: sha256.Sum256(b), token: c.Token}
	return c, nil
}

// checkFence reports ErrFenced unless f is the current holder of the FileLock on s.dir.
func (s *FileStore) checkFence(f Fence) error {
	lock := filepath.Join(s.dir, lockFile)
	if filepath.Clean(f.NodePath) != lock {
		return fmt.Errorf("%w: fence %q is not this store's lock %s", ErrFenced, f.NodePath, lock)
	}
	token, err := readToken(s.dir)
	if err != nil {
		return fmt.Errorf("check fence: %w", err)
	}
	if token != f.Token {
		return fmt.Errorf("%w: lock %s was acquired again (token %d, ours %d)", ErrFenced, lock, token, f.Token)
	}
	// The token is ours; make sure the lock is still held (not resigned).
	lf, err := os.OpenFile(lock, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: lock %s is gone", ErrFenced, lock)
	}
	if err != nil {
		return fmt.Errorf("check fence: %w", err)
	}
	defer lf.Close()
	err = syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		_ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		return fmt.Errorf("%w: nobody holds lock %s", ErrFenced, lock)
	case errors.Is(err, syscall.EWOULDBLOCK):
		return nil
	default:
		return fmt.Errorf("check fence %s: %w", lock, err)
	}
}

// Save implements Store.
func (s *FileStore) Save(ctx context.Context, f Fence, c Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath(), err)
	}
	at := c.WrittenAt
	if at.IsZero() {
		at = time.Now()
	}
	data, err := encode(f.Token, at, c.Payload)
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cp.bad != nil {
		return fmt.Errorf("save checkpoint %s: refusing to overwrite a checkpoint this replica cannot read (load it successfully or remove it first): %w", s.cpPath(), s.cp.bad)
	}
	if err := s.checkFence(f); err != nil {
		s.logFenced(err, f)
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath(), err)
	}
	if !s.cp.known {
		if _, err := s.readCheckpoint(); err != nil {
			if s.cp.bad != nil {
				return fmt.Errorf("save checkpoint %s: refusing to overwrite a checkpoint this replica cannot read: %w", s.cpPath(), err)
			}
			return fmt.Errorf("save checkpoint: %w", err)
		}
	} else if err := s.unchanged(); err != nil {
		s.cp.known = false
		s.logFenced(err, f)
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath(), err)
	}
	if s.cp.exists && s.cp.token > f.Token {
		err := fmt.Errorf("%w: it was written with token %d, ours is %d", ErrFenced, s.cp.token, f.Token)
		s.logFenced(err, f)
		return fmt.Errorf("save checkpoint %s: %w", s.cpPath(), err)
	}
	for _, t := range removeTemps(s.dir, checkpointFile) {
		s.log.Warn("removed_partial_write", "file", t)
	}
	if err := writeAtomic(s.dir, checkpointFile, data); err != nil {
		s.cp.known = false
		return fmt.Errorf("save checkpoint: %w", err)
	}
	s.cp = fileState{known: true, exists: true, sum: sha256.Sum256(data), token: f.Token}
	s.log.Debug("checkpoint_saved", "file", s.cpPath(), "token", f.Token, "bytes", len(data))
	return nil
}

// unchanged reports ErrFenced when the checkpoint file is not what this store last read or
// wrote.
func (s *FileStore) unchanged() error {
	b, err := os.ReadFile(s.cpPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
		if s.cp.exists {
			return fmt.Errorf("%w: %s was removed by another writer", ErrFenced, s.cpPath())
		}
		return nil
	case err != nil:
		return fmt.Errorf("read checkpoint: %w", err)
	case !s.cp.exists || sha256.Sum256(b) != s.cp.sum:
		return fmt.Errorf("%w: %s was changed by another writer", ErrFenced, s.cpPath())
	}
	return nil
}

func (s *FileStore) logFenced(err error, f Fence) {
	if errors.Is(err, ErrFenced) {
		s.log.Warn("checkpoint_fenced", "file", s.cpPath(), "fence", f.NodePath, "token", f.Token, "error", err)
	}
}

// LoadFrameworkID implements Store.
func (s *FileStore) LoadFrameworkID(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("load framework id: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readFrameworkID()
}

func (s *FileStore) readFrameworkID() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, frameworkIDFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load framework id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SaveFrameworkID implements Store.
func (s *FileStore) SaveFrameworkID(ctx context.Context, f Fence, id string) error {
	p := filepath.Join(s.dir, frameworkIDFile)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save framework id %s: %w", p, err)
	}
	if err := validID(id); err != nil {
		return fmt.Errorf("save framework id %s: %w", p, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkFence(f); err != nil {
		s.logFenced(err, f)
		return fmt.Errorf("save framework id %s: %w", p, err)
	}
	stored, err := s.readFrameworkID()
	if err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	switch {
	case stored == id:
		return nil
	case stored != "":
		s.log.Error("framework_id_conflict", "file", p, "stored", stored, "new", id)
		return fmt.Errorf("save framework id %s: %w: stored %q, refusing to replace it with %q", p, ErrFrameworkIDConflict, stored, id)
	}
	removeTemps(s.dir, frameworkIDFile)
	if err := writeAtomic(s.dir, frameworkIDFile, []byte(id+"\n")); err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	s.log.Info("framework_id_saved", "file", p, "framework_id", id, "token", f.Token)
	return nil
}

var _ Store = (*FileStore)(nil)
