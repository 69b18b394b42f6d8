package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/framework"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/metrics"
	"github.com/relay-mesos/relay-mesos/state"
)

// Config is the replica's wiring, built by cmd from the flags.
type Config struct {
	// ID names this replica (its advertised host:port).
	ID string
	// Address is where others reach this replica's endpoints.
	Address string
	// CheckpointInterval: least time between two checkpoints.
	CheckpointInterval time.Duration
	// ExitOnLeadershipLoss: return from Run when a term ends instead of campaigning again.
	ExitOnLeadershipLoss bool
	// FailoverDrill: if > 0 the leader hands off at this interval.
	FailoverDrill time.Duration
	// MasterURL is shown in /status.
	MasterURL string
}

// Campaigner is what the replica needs of the election (election.Client, or the standalone
// lock): Campaign blocks until this replica leads.
type Campaigner interface {
	Campaign(ctx context.Context) (Leadership, error)
}

// Replica is one `relay-mesos run` process.
type Replica struct {
	cfg          Config
	loopCfg      loop.Config
	runnerCfg    loop.RunnerConfig
	frameworkCfg framework.Config
	reader       loop.Reader
	store        state.Store
	elect        Campaigner
	metrics      *metrics.Metrics
	sources      SourceStatuser
	trace        loop.Observer
	log          hclog.Logger

	mu          sync.Mutex
	frameworkID string
	sched       *framework.Scheduler
	deciding    bool
	lastTerms   loop.Terms
	lastLedger  loop.Ledger
	resumed     *metrics.ResumeInfo
	leading     bool
}

// Parts are the collaborators a Replica is built from.
type Parts struct {
	Loop      loop.Config
	Runner    loop.RunnerConfig
	Framework framework.Config
	Reader    loop.Reader
	Store     state.Store
	Elect     Campaigner
	Metrics   *metrics.Metrics
	// Sources, if set, is shown in /status (misses per source).
	Sources SourceStatuser
	// Trace, if set, is told about every tick this replica runs as the leader (a loop.Trace
	// for --trace-file). nil: none.
	Trace loop.Observer
}

// SourceStatuser reports the metric and target sources' health (loop.Sources).
type SourceStatuser interface {
	Status() loop.SourceStatus
}

// New returns a replica.
func New(cfg Config, p Parts, log hclog.Logger) (*Replica, error) {
	if p.Reader == nil || p.Store == nil || p.Elect == nil || p.Metrics == nil {
		return nil, errors.New("replica: missing collaborator")
	}
	if err := p.Loop.Validate(); err != nil {
		return nil, err
	}
	if err := p.Runner.Validate(); err != nil {
		return nil, err
	}
	return &Replica{
		cfg: cfg, loopCfg: p.Loop, runnerCfg: p.Runner, frameworkCfg: p.Framework,
		reader: p.Reader, store: p.Store, elect: p.Elect, metrics: p.Metrics, sources: p.Sources, trace: p.Trace, log: log.Named("replica"),
	}, nil
}

// Run campaigns and leads until ctx is done. Every failure of a term returns the replica to
// candidacy after a backoff; it exits early only with ExitOnLeadershipLoss. It returns nil
// on shutdown.
func (r *Replica) Run(ctx context.Context) error {
	var wait retryWait
	for ctx.Err() == nil {
		l, err := r.elect.Campaign(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d := wait.afterCampaignFailed()
			r.log.Warn("campaign_failed", "error", err, "retry_in", d)
			r.metrics.Error("campaign", err)
			sleep(ctx, d)
			continue
		}
		r.setLeading(true)
		began := time.Now()
		err = r.lead(ctx, l)
		lasted := time.Since(began)
		r.setLeading(false)
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if rerr := l.Resign(rctx); rerr != nil {
			r.log.Warn("resign_failed", "error", rerr)
		}
		cancel()
		if ctx.Err() != nil {
			r.log.Info("stopped", "reason", "shutdown")
			return nil
		}
		if errors.Is(err, errDrill) {
			r.log.Info("handed_off", "reason", "drill")
			sleep(ctx, 500*time.Millisecond+rand.N(500*time.Millisecond)) // let a follower win
			wait.reset()
			continue
		}
		kv := []any{"error", err, "lasted", lasted}
		var d time.Duration
		if !r.cfg.ExitOnLeadershipLoss {
			d = wait.afterTerm(lasted)
			kv = append(kv, "retry_in", d)
		}
		r.log.Warn("leadership_ended", kv...)
		if err != nil {
			r.metrics.Error("leadership", err)
		}
		if r.cfg.ExitOnLeadershipLoss {
			return fmt.Errorf("leadership lost: %w", err)
		}
		sleep(ctx, d)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (r *Replica) setFrameworkID(id string) {
	r.mu.Lock()
	r.frameworkID = id
	r.mu.Unlock()
}

func (r *Replica) setScheduler(s *framework.Scheduler) {
	r.mu.Lock()
	r.sched = s
	r.mu.Unlock()
}

func (r *Replica) setDeciding(b bool) {
	r.mu.Lock()
	r.deciding = b
	r.mu.Unlock()
}

func (r *Replica) setLeading(b bool) {
	r.mu.Lock()
	r.leading = b
	r.mu.Unlock()
}

// observeTick reports a tick to the metrics (and keeps what /status shows).
func (r *Replica) observeTick(rec *loop.TickRecord) {
	in, d := rec.Input, rec.Decision
	r.mu.Lock()
	r.lastTerms, r.lastLedger = rec.Terms, in.Ledger
	r.mu.Unlock()
	r.metrics.Tick(metrics.TickReport{
		Time: rec.Time, Metric: in.Metric.Value, MetricOK: in.Metric.OK, Target: in.Target.Value, TargetOK: in.Target.OK,
		Requested: metrics.KindUnits{Warmer: d.Warmers, Cooler: d.Coolers},
		Ledger:    metricsLedger(in.Ledger),
		Starved:   d.Starved, Terms: termsMap(rec.Terms), Took: rec.Took, MetricEvery: rec.MetricEvery,
	})
}

func metricsLedger(l loop.Ledger) metrics.Ledger {
	c := func(k loop.KindCounts) metrics.TaskCounts {
		return metrics.TaskCounts{Ungranted: k.Ungranted, Pending: k.Pending, Running: k.Running}
	}
	return metrics.Ledger{Warmer: c(l.Warmer), Cooler: c(l.Cooler)}
}

func termsMap(t loop.Terms) map[string]float64 {
	b, _ := json.Marshal(t)
	m := map[string]float64{}
	_ = json.Unmarshal(b, &m)
	return m
}
