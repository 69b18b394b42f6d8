package state

import (
	"context"
	"errors"
	"time"
)

// Schema is the envelope schema this binary writes (and the newest it reads).
const Schema = 1

// Size bounds.
const (
	// MaxPayload is the largest payload Save accepts, in bytes.
	MaxPayload = 60 << 10
	// MaxEnvelope bounds the stored bytes (envelope and payload): they stay below 64 KiB.
	MaxEnvelope = 64<<10 - 1
)

// Sentinel errors; callers branch on them with errors.Is. Returned errors wrap them with the
// node or file concerned.
var (
	// ErrNoCheckpoint: no checkpoint is stored yet.
	ErrNoCheckpoint = errors.New("state: no checkpoint stored")
	// ErrFenced: the write was refused because the writer no longer holds the lock (its
	// election node is gone, another writer moved the state, or a newer token wrote it). The
	// writer must stop acting as leader.
	ErrFenced = errors.New("state: write fenced (this replica no longer leads)")
	// ErrCorrupt: the stored checkpoint cannot be read (bad format or checksum).
	ErrCorrupt = errors.New("state: checkpoint is corrupt")
	// ErrFutureSchema: the stored checkpoint was written by a newer schema than Schema.
	ErrFutureSchema = errors.New("state: checkpoint was written by a newer version")
	// ErrFrameworkIDConflict: a different FrameworkID is already stored.
	ErrFrameworkIDConflict = errors.New("state: a different framework id is already stored")
	// ErrTooLarge: the payload exceeds MaxPayload (or its envelope MaxEnvelope).
	ErrTooLarge = errors.New("state: checkpoint too large")
)

// Fence identifies the writer: its election node (or lock file) and its fencing token.
type Fence struct {
	NodePath string
	Token    int64
}

// Checkpoint is one stored checkpoint. On Save, the store stamps the envelope with Schema and
// the fence's token (the Schema and Token fields are ignored) and with WrittenAt (the current
// time when zero).
type Checkpoint struct {
	Schema    int
	Token     int64
	WrittenAt time.Time
	Payload   []byte
}

// Store keeps the checkpoint and the FrameworkID. Implementations are safe for concurrent
// use; their calls block until done or ctx is done.
type Store interface {
	// Load returns the stored checkpoint: ErrNoCheckpoint when none, ErrCorrupt or
	// ErrFutureSchema (wrapped, naming the node or file) when it cannot be read.
	Load(ctx context.Context) (Checkpoint, error)
	// Save writes c, fenced by f: ErrFenced when the fence fails or another writer moved the
	// state since this store last read or wrote it.
	Save(ctx context.Context, f Fence, c Checkpoint) error
	// LoadFrameworkID returns the stored FrameworkID, "" when none.
	LoadFrameworkID(ctx context.Context) (string, error)
	// SaveFrameworkID stores id, fenced by f; it refuses to replace a different stored id
	// (ErrFrameworkIDConflict). Saving the stored id again only checks the fence.
	SaveFrameworkID(ctx context.Context, f Fence, id string) error
}
