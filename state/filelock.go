package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Names of the lock files in a state directory.
const (
	lockFile  = "lock"
	tokenFile = "token"
)

// lockPoll is how often AcquireFileLock retries a held lock.
const lockPoll = 200 * time.Millisecond

// FileLock is the standalone replica's leadership: an exclusive flock on dir/lock. Each
// acquisition increments the counter in dir/token, which is the fencing token. Its methods
// are safe for concurrent use.
type FileLock struct {
	f      *os.File
	path   string
	token  int64
	ctx    context.Context
	cancel context.CancelFunc
	log    hclog.Logger
	once   sync.Once
}

// AcquireFileLock blocks until it holds the lock on dir (creating dir with mode 0700 if
// needed) or ctx is done; it polls every 200 ms. The lock is held until Resign.
func AcquireFileLock(ctx context.Context, dir string, log hclog.Logger) (*FileLock, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("filelock")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("file lock: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("file lock: %w", err)
	}
	p, err := filepath.Abs(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("file lock: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("file lock: %w", err)
	}
	waiting := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("file lock %s: %w", p, err)
		}
		if !waiting {
			log.Info("lock_waiting", "path", p)
			waiting = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("file lock %s: %w", p, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	token, err := bumpToken(filepath.Dir(p))
	if err != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		return nil, fmt.Errorf("file lock %s: %w", p, err)
	}
	// For operators: who holds it.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid=%d token=%d\n", os.Getpid(), token)), 0)
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &FileLock{f: f, path: p, token: token, ctx: lctx, cancel: cancel, log: log}
	log.Info("lock_acquired", "path", p, "token", token)
	return l, nil
}

// readToken reads the acquisition counter in dir (0 when there is none).
func readToken(dir string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(dir, tokenFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read token: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("token file %s holds %q, not a counter: %w", filepath.Join(dir, tokenFile), prefix(b), ErrCorrupt)
	}
	return n, nil
}

// bumpToken increments the counter (the caller holds the lock).
func bumpToken(dir string) (int64, error) {
	n, err := readToken(dir)
	if err != nil {
		return 0, err
	}
	n++
	if err := writeAtomic(dir, tokenFile, []byte(strconv.FormatInt(n, 10)+"\n")); err != nil {
		return 0, fmt.Errorf("bump token: %w", err)
	}
	return n, nil
}

// Context is cancelled by Resign, never otherwise.
func (l *FileLock) Context() context.Context { return l.ctx }

// Token is this acquisition's fencing token.
func (l *FileLock) Token() int64 { return l.token }

// NodePath is the lock file's path; FileStore writes are fenced on it.
func (l *FileLock) NodePath() string { return l.path }

// Resign cancels the context and releases the lock. It is idempotent and does not block.
func (l *FileLock) Resign(context.Context) error {
	var err error
	l.once.Do(func() {
		l.cancel()
		if uerr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN); uerr != nil {
			err = fmt.Errorf("release %s: %w", l.path, uerr)
		}
		if cerr := l.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("release %s: %w", l.path, cerr)
		}
		l.log.Info("lock_released", "path", l.path, "token", l.token)
	})
	return err
}
