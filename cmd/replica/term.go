package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/relay-mesos/relay-mesos/framework"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/metrics"
	"github.com/relay-mesos/relay-mesos/state"
)

// Leadership is what a term needs of election.Leadership (or of the standalone lock).
type Leadership interface {
	Context() context.Context
	Token() int64
	NodePath() string
	Resign(ctx context.Context) error
}

// errOrphans is returned when the checkpoint holds tasks but no FrameworkID is stored: a new
// registration would orphan those tasks, so the replica waits for an operator.
var errOrphans = errors.New("the checkpoint's ledger holds tasks but no FrameworkID is stored; refusing to register a new framework (it would orphan them): restore the framework-id node or remove the checkpoint")

// lead runs one leadership term until the leadership or ctx ends, or something fails. It
// returns nil on shutdown (ctx done), the cause otherwise. Every goroutine it starts has
// stopped when it returns.
func (r *Replica) lead(ctx context.Context, l Leadership) error {
	termCtx, cancel := context.WithCancelCause(l.Context())
	stop := context.AfterFunc(ctx, func() { cancel(context.Canceled) })
	defer stop()
	defer cancel(nil)

	fence := state.Fence{NodePath: l.NodePath(), Token: l.Token()}
	log := r.log.With("term", l.Token())

	// 1. The checkpoint and the FrameworkID, read after winning (never what was read at start).
	ctrlState, ledger, resumed, from, err := r.loadCheckpoint(termCtx)
	if err != nil {
		return err
	}
	fwID, err := r.store.LoadFrameworkID(termCtx)
	if err != nil {
		return fmt.Errorf("load framework id: %w", err)
	}
	if fwID == "" && ledger.Live() > 0 {
		r.metrics.Error("takeover", errOrphans)
		log.Error("refusing_new_framework_id", "live_tasks", ledger.Live())
		return errOrphans
	}
	r.setFrameworkID(fwID)
	r.metrics.LeadershipAcquired(l.Token(), resumed)
	log.Info("leading", "framework_id", fwID, "resumed", resumed, "live_tasks", ledger.Live())

	ctrl := loop.New(r.loopCfg)
	ctrl.Restore(ctrlState)
	// /status shows this term's state from its first moment: the checkpoint's, not whatever a
	// previous term of this replica last showed.
	r.mu.Lock()
	r.lastTerms, r.lastLedger = ctrl.Terms(), ledger.Counts(r.frameworkCfg.CoolerKill)
	r.resumed = nil
	if resumed {
		b, _ := json.Marshal(r.lastTerms)
		r.resumed = &metrics.ResumeInfo{Term: l.Token(), FromToken: from.Token, WrittenAt: from.WrittenAt, Terms: b}
	}
	r.mu.Unlock()
	cp := newCheckpointer(r.store, fence, ledger, ctrlState, r.cfg.CheckpointInterval, r.metrics, log.Named("checkpoint"))

	hooks := framework.Hooks{
		OnSubscribed: func(ctx context.Context, id string) error {
			if id != fwID {
				if fwID != "" {
					return fmt.Errorf("mesos handed back framework id %s, stored is %s", id, fwID)
				}
				if err := r.store.SaveFrameworkID(ctx, fence, id); err != nil {
					if errors.Is(err, state.ErrFenced) {
						return fmt.Errorf("%w: save framework id: %w", framework.ErrStepDown, err)
					}
					return fmt.Errorf("save framework id: %w", err)
				}
				fwID = id
			}
			r.setFrameworkID(id)
			return nil
		},
		BeforeLaunch: func(ctx context.Context, _ []framework.TaskRecord) error {
			if err := cp.SaveNow(ctx); err != nil {
				if errors.Is(err, errStepDown) {
					return fmt.Errorf("%w: %w", framework.ErrStepDown, err)
				}
				return err
			}
			return nil
		},
	}
	fcfg := r.frameworkCfg
	fcfg.Term = l.Token()
	sched, err := framework.New(fcfg, fwID, ledger, hooks, r.metrics, r.log.Named("framework"))
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	r.setScheduler(sched)
	defer r.setScheduler(nil)

	obs := loop.ObserverFunc(func(rec *loop.TickRecord) {
		r.observeTick(rec)
		cp.Offer(rec.State)
		if r.trace != nil {
			r.trace.Tick(rec)
		}
	})
	runner, err := loop.NewRunner(r.runnerCfg, ctrl, r.reader, sched, obs, nil, r.log)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}

	var parts termParts
	fail := func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			cancel(err)
		}
	}
	parts.Go("mesos", func() { fail(sched.Run(termCtx)) })
	parts.Go("checkpoints", func() { fail(cp.Run(termCtx)) })
	parts.Go("controller", func() {
		select {
		case <-termCtx.Done():
			return
		case <-sched.Ready():
		}
		r.setDeciding(true)
		defer r.setDeciding(false)
		log.Info("deciding")
		fail(runner.Run(termCtx))
	})
	if r.cfg.FailoverDrill > 0 {
		parts.Go("drill", func() {
			select {
			case <-termCtx.Done():
			case <-time.After(r.cfg.FailoverDrill):
				r.metrics.Handoff("drill")
				cancel(errDrill)
			}
		})
	}
	<-termCtx.Done()
	// The election node is deleted only once every part has stopped acting (Resign, after
	// lead returns): a part slow to stop keeps the other replicas waiting, so it is named.
	parts.Wait(slowStop, func(running []string) {
		log.Warn("term_slow_to_stop", "waiting_for", running, "after", slowStop, "cause", context.Cause(termCtx))
	})

	cause := context.Cause(termCtx)
	// Still the leader and shutting down (or handing off): a final fenced checkpoint, so the
	// next leader resumes from the very last tick.
	if l.Context().Err() == nil && (ctx.Err() != nil || errors.Is(cause, errDrill)) {
		fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := cp.SaveNow(fctx); err != nil {
			log.Warn("final_checkpoint_failed", "error", err)
		}
		fcancel()
	}
	switch {
	case ctx.Err() != nil:
		r.metrics.LeadershipLost("shutdown")
		return nil
	case errors.Is(cause, errDrill):
		r.metrics.LeadershipLost("drill")
		return errDrill
	case errors.Is(cause, errStepDown) || errors.Is(cause, framework.ErrStepDown) || errors.Is(cause, framework.ErrFailedOver):
		r.metrics.LeadershipLost("fenced")
	case l.Context().Err() != nil:
		r.metrics.LeadershipLost("session_lost")
	default:
		r.metrics.LeadershipLost("error")
	}
	return cause
}

// errDrill ends a term on purpose (--failover-drill).
var errDrill = errors.New("failover drill: handing off leadership")

// loadCheckpoint reads the checkpoint. No checkpoint means a fresh controller and an empty
// ledger; a corrupt one or one from a newer binary is an error (the node is left untouched).
func (r *Replica) loadCheckpoint(ctx context.Context) (loop.State, *framework.Ledger, bool, state.Checkpoint, error) {
	cp, err := r.store.Load(ctx)
	if errors.Is(err, state.ErrNoCheckpoint) {
		return loop.NewState(), framework.NewLedger(), false, state.Checkpoint{}, nil
	}
	if err != nil {
		r.metrics.Error("checkpoint", err)
		return loop.State{}, nil, false, state.Checkpoint{}, fmt.Errorf("load checkpoint: %w", err)
	}
	s, snap, err := decodePayload(cp.Payload)
	if err != nil {
		r.metrics.Error("checkpoint", err)
		return loop.State{}, nil, false, state.Checkpoint{}, fmt.Errorf("load checkpoint: %w", err)
	}
	return s, framework.RestoreLedger(snap), true, cp, nil
}

// slowStop is how long a term's parts may take to stop before the wait is logged.
const slowStop = 2 * time.Second

// termParts runs a term's goroutines and knows which of them are still running.
type termParts struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	running []string
}

// Go runs fn as the part called name.
func (p *termParts) Go(name string, fn func()) {
	p.mu.Lock()
	p.running = append(p.running, name)
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.done(name)
		fn()
	}()
}

func (p *termParts) done(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, n := range p.running {
		if n == name {
			p.running = append(p.running[:i], p.running[i+1:]...)
			return
		}
	}
}

// Wait waits for every part; if some are still running after slow, it calls slowFn with their
// names once, and goes on waiting.
func (p *termParts) Wait(slow time.Duration, slowFn func(running []string)) {
	stopped := make(chan struct{})
	go func() { p.wg.Wait(); close(stopped) }()
	t := time.NewTimer(slow)
	defer t.Stop()
	select {
	case <-stopped:
		return
	case <-t.C:
	}
	p.mu.Lock()
	running := append([]string(nil), p.running...)
	p.mu.Unlock()
	slowFn(running)
	<-stopped
}
