package replica

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/framework"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/state"
)

// payloadVersion is the version of the checkpoint payload this binary writes.
const payloadVersion = 1

// payload is what a checkpoint holds: the controller's state and the task ledger, stamped
// with the writer's fencing token.
type payload struct {
	Version    int                      `json:"v"`
	Token      int64                    `json:"token"`
	Controller json.RawMessage          `json:"controller"`
	Ledger     framework.LedgerSnapshot `json:"ledger"`
}

// errStepDown marks errors after which the leader must stop leading (fenced writes).
var errStepDown = errors.New("step down")

// gzipAbove: payloads larger than this are gzipped, so that a ledger of many live tasks (whose
// records repeat agent IDs and prefixes) stays well under the store's 60 KiB bound.
const gzipAbove = 16 << 10

// encodePayload marshals p, gzipped when large.
func encodePayload(p payload) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil || len(b) <= gzipAbove {
		return b, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodePayload decodes a checkpoint's payload into the controller state and ledger.
func decodePayload(b []byte) (loop.State, framework.LedgerSnapshot, error) {
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return loop.State{}, framework.LedgerSnapshot{}, fmt.Errorf("checkpoint payload: %w", err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, 16<<20)); err != nil {
			return loop.State{}, framework.LedgerSnapshot{}, fmt.Errorf("checkpoint payload: %w", err)
		}
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		return loop.State{}, framework.LedgerSnapshot{}, fmt.Errorf("checkpoint payload: %w", err)
	}
	if p.Version > payloadVersion {
		return loop.State{}, framework.LedgerSnapshot{}, fmt.Errorf("checkpoint payload version %d is newer than this binary's %d", p.Version, payloadVersion)
	}
	s, err := loop.UnmarshalState(p.Controller)
	if err != nil {
		return loop.State{}, framework.LedgerSnapshot{}, fmt.Errorf("checkpoint payload: %w", err)
	}
	return s, p.Ledger, nil
}

// checkpointRecorder is what the checkpointer reports to (metrics.Metrics).
type checkpointRecorder interface {
	CheckpointDone(took time.Duration, bytes int)
	CheckpointFailed(took time.Duration, class string)
}

// checkpointer writes the leader's checkpoints: after ticks that changed the state, at most
// every interval (coalesced), and at once when the scheduler is about to launch (intent
// before LAUNCH). Every write is fenced; a fenced write means this replica no longer leads.
// Offer and SaveNow are safe from any goroutine; Run is owned by the term.
type checkpointer struct {
	store    state.Store
	fence    state.Fence
	ledger   *framework.Ledger
	interval time.Duration
	rec      checkpointRecorder
	log      hclog.Logger

	mu    sync.Mutex // serialises writes and guards ctrl/dirty/last
	ctrl  loop.State
	dirty bool
	last  time.Time
	kick  chan struct{}
}

func newCheckpointer(store state.Store, fence state.Fence, ledger *framework.Ledger, ctrl loop.State, interval time.Duration, rec checkpointRecorder, log hclog.Logger) *checkpointer {
	return &checkpointer{store: store, fence: fence, ledger: ledger, ctrl: ctrl, interval: interval, rec: rec, log: log, kick: make(chan struct{}, 1)}
}

// Offer hands over the controller state after a tick.
func (c *checkpointer) Offer(s loop.State) {
	c.mu.Lock()
	c.ctrl, c.dirty = s, true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// SaveNow writes a checkpoint now (the ledger as it is, with any new intents).
func (c *checkpointer) SaveNow(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveLocked(ctx)
}

func (c *checkpointer) saveLocked(ctx context.Context) error {
	start := time.Now()
	ctrl, err := loop.MarshalState(&c.ctrl)
	if err == nil {
		var b []byte
		b, err = encodePayload(payload{Version: payloadVersion, Token: c.fence.Token, Controller: ctrl, Ledger: c.ledger.Snapshot()})
		if err == nil {
			err = c.store.Save(ctx, c.fence, state.Checkpoint{Schema: state.Schema, Token: c.fence.Token, WrittenAt: start, Payload: b})
			if err == nil {
				c.dirty, c.last = false, time.Now()
				c.rec.CheckpointDone(time.Since(start), len(b))
				return nil
			}
		}
	}
	class := "other"
	switch {
	case errors.Is(err, state.ErrFenced):
		class = "fenced"
		err = fmt.Errorf("%w: checkpoint: %w", errStepDown, err)
	case errors.Is(err, state.ErrTooLarge):
		class = "encode"
	case errors.Is(err, state.ErrCorrupt), errors.Is(err, state.ErrFutureSchema):
		class = "conflict"
	case ctx.Err() != nil:
		class = "other"
	default:
		class = "zookeeper"
	}
	c.rec.CheckpointFailed(time.Since(start), class)
	return fmt.Errorf("checkpoint: %w", err)
}

// Run writes pending state at most every interval until ctx is done. It returns an error
// wrapping errStepDown when a write was fenced.
func (c *checkpointer) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.kick:
		}
		c.mu.Lock()
		wait := c.interval - time.Since(c.last)
		c.mu.Unlock()
		if wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		c.mu.Lock()
		var err error
		if c.dirty {
			err = c.saveLocked(ctx)
		}
		c.mu.Unlock()
		if err != nil {
			if errors.Is(err, errStepDown) {
				return err
			}
			c.log.Warn("checkpoint_failed", "error", err)
		}
	}
}
