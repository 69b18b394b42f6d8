package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Options configure one chaos run.
type Options struct {
	Cluster ClusterConfig
	// Kinds are the fault kinds, injected in order (Quick) or drawn at random (Count > 0).
	Kinds []string
	// Count: if > 0, inject this many faults drawn from Kinds (each kind in turn, shuffled per
	// round), else inject Kinds once each in order.
	Count int
	// Seed of the random draws.
	Seed uint64
	// Baseline is how long the fault-free phase lasts (after WarmUp).
	Baseline time.Duration
	// WarmUp: at most this long for the metric to reach the band before the baseline.
	WarmUp time.Duration
	// GapMin and GapMax bound the quiet time after a fault has settled.
	GapMin, GapMax time.Duration
	// Limits of the checks (zero: LimitsFor the cluster's plant).
	Limits Limits
	// Out is where the report files go (empty: none written).
	Out string
	Log hclog.Logger
}

// QuickOptions is the quick subset: one ZooKeeper server, each QuickKinds fault once.
func QuickOptions(binary, dir string) Options {
	return Options{
		Cluster:  ClusterConfig{Binary: binary, Dir: dir, Ensemble: 1},
		Kinds:    QuickKinds,
		Seed:     1,
		Baseline: 10 * time.Second, WarmUp: 15 * time.Second,
		GapMin: 2 * time.Second, GapMax: 4 * time.Second,
	}
}

// FullOptions is the full run: a 3-server ensemble and count faults of every kind.
func FullOptions(binary, dir string, count int) Options {
	return Options{
		Cluster:  ClusterConfig{Binary: binary, Dir: dir, Ensemble: 3},
		Kinds:    FullKinds,
		Count:    count,
		Seed:     uint64(time.Now().UnixNano()),
		Baseline: 60 * time.Second, WarmUp: 30 * time.Second,
		GapMin: 2 * time.Second, GapMax: 6 * time.Second,
	}
}

// Result is a finished run.
type Result struct {
	Evaluation
	Snapshot Snapshot
	// Phases and Limits the checks used.
	Phases  Phases
	Limits  Limits
	Started time.Time
	Took    time.Duration
	// Targets are the pass/fail lines of the targets.
	Targets []Target
}

// Target is one of the run's performance targets.
type Target struct {
	Name string
	Want string
	Got  string
	OK   bool
}

// Failed reports whether an invariant was violated or a target missed.
func (r *Result) Failed() bool {
	if len(r.Violations) > 0 {
		return true
	}
	for _, t := range r.Targets {
		if !t.OK {
			return true
		}
	}
	return false
}

// Run starts a cluster, injects the faults, checks the invariants and writes the report.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = hclog.NewNullLogger()
	}
	o.Cluster.Log = o.Log
	o.Cluster.defaults()
	if o.Limits == (Limits{}) {
		o.Limits = LimitsFor(PlantOf(o.Cluster))
	}
	res := &Result{Started: time.Now()}
	c, err := StartCluster(ctx, o.Cluster)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	defer c.Close()
	o.Log.Info("cluster_up", "dir", o.Cluster.Dir, "master", c.MasterAt, "plant", c.PlantAt, "zk_servers", len(c.ZK))

	obs := NewObserver(c, 50*time.Millisecond)
	octx, ocancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = obs.Run(octx) }()
	defer func() { ocancel(); wg.Wait() }()

	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	// Warm up, then a fault-free baseline.
	deadline := time.Now().Add(o.WarmUp)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if sz, err := c.PlantSize(ctx); err == nil && abs(sz-o.Cluster.Target) <= o.Limits.Band/2 {
			break
		}
		sleep(250 * time.Millisecond)
	}
	baseFrom := time.Now()
	sleep(o.Baseline)
	baseTo := time.Now()

	inj := NewInjector(c, o.Seed)
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	schedule := o.Kinds
	if o.Count > 0 {
		schedule = nil
		for len(schedule) < o.Count {
			round := append([]string{}, o.Kinds...)
			rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
			schedule = append(schedule, round...)
		}
		schedule = schedule[:o.Count]
	}
	var faults []Fault
	var liveness []Violation
	for n, kind := range schedule {
		if ctx.Err() != nil {
			break
		}
		f := inj.Inject(ctx, kind)
		faults = append(faults, f)
		lvl := hclog.Info
		if f.Err != "" {
			lvl = hclog.Warn
		}
		o.Log.Log(lvl, "fault", "n", n+1, "of", len(schedule), "kind", kind, "old_leader", f.OldLeader, "old_term", f.OldTerm,
			"took", f.End.Sub(f.Start).Round(time.Millisecond), "error", f.Err)
		bound := 3*o.Cluster.SessionTimeout + 10*time.Second
		if err := inj.Settle(ctx, bound); err != nil {
			o.Log.Warn("no_leader_after_fault", "kind", kind, "error", err)
			liveness = append(liveness, Violation{Check: "no-leader", At: f.End,
				Detail: fmt.Sprintf("%s: no replica leads and decides within %v after the fault ended", kind, bound)})
			if len(liveness) >= 2 {
				o.Log.Error("cluster_wedged", "after_faults", n+1)
				break
			}
		}
		gap := o.GapMin
		if o.GapMax > o.GapMin {
			gap += time.Duration(rng.Int64N(int64(o.GapMax - o.GapMin)))
		}
		sleep(gap)
	}
	faultsTo := time.Now()

	// Settle and compare the leader's ledger with the master: starve, wait for every task to
	// end, then the leader must count none pending or running.
	drain := drainCheck(ctx, c, o.Log)
	obs.Refresh(ctx)
	ocancel()
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	snap := obs.Snapshot()
	res.Phases = Phases{BaseFrom: baseFrom, BaseTo: baseTo, FaultsFrom: baseTo, FaultsTo: faultsTo}
	res.Limits = o.Limits
	res.Evaluation = Evaluate(snap, faults, o.Limits, res.Phases)
	res.Violations = append(res.Violations, liveness...)
	res.Violations = append(res.Violations, drain...)
	res.Snapshot = snap
	res.Took = time.Since(res.Started)
	res.Targets = targets(res, o)
	if o.Out != "" {
		if err := WriteReport(o.Out, res); err != nil {
			return res, fmt.Errorf("report: %w", err)
		}
		o.Log.Info("report_written", "dir", o.Out, "files", filepath.Join(o.Out, "report.md"))
	}
	return res, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// drainCheck: no task left counted as running after it ended.
func drainCheck(ctx context.Context, c *Cluster, log hclog.Logger) []Violation {
	var out []Violation
	if _, err := c.Post(ctx, c.MasterURL()+"/admin/resources?spec="+url.QueryEscape("cpus:0;mem:0;disk:0")); err != nil {
		return []Violation{{Check: "ledger-vs-master", At: time.Now(), Detail: "could not starve the agent to settle: " + err.Error()}}
	}
	defer func() {
		_, _ = c.Post(context.Background(), c.MasterURL()+"/admin/resources?spec="+url.QueryEscape(c.Cfg.Resources))
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := c.MasterState(ctx); err == nil && len(st.Tasks) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Let the leader tick on the final updates.
	time.Sleep(time.Duration(3*c.Cfg.Delay*float64(time.Second)) + time.Second)
	st, err := c.MasterState(ctx)
	if err != nil {
		return []Violation{{Check: "ledger-vs-master", At: time.Now(), Detail: "master state: " + err.Error()}}
	}
	i, ls := c.Leader(ctx)
	if ls == nil {
		return []Violation{{Check: "ledger-vs-master", At: time.Now(), Detail: "no deciding leader to compare"}}
	}
	live := len(st.Tasks)
	counted := ls.Ledger.Total.Pending + ls.Ledger.Total.Running
	log.Info("drain", "leader", i, "master_live_tasks", live, "leader_counts", counted)
	if counted != live {
		out = append(out, Violation{Check: "ledger-vs-master", At: time.Now(),
			Detail: fmt.Sprintf("leader (replica %d) counts %d tasks pending or running; the master has %d live", i, counted, live)})
	}
	return out
}

// targets evaluates the targets.
func targets(r *Result, o Options) []Target {
	var out []Target
	per := byKind(r.Faults)
	if fs := per[FaultKill9]; len(fs) > 0 {
		bound := o.Cluster.SessionTimeout + time.Second
		p99 := percentile(failovers(fs), 0.99)
		out = append(out, Target{Name: "failover after kill -9 (p99)", Want: "<= " + bound.String(), Got: fmtDur(p99), OK: p99 >= 0 && p99 <= bound})
	}
	if fs := per[FaultSIGTERM]; len(fs) > 0 {
		p99 := percentile(failovers(fs), 0.99)
		out = append(out, Target{Name: "handoff after SIGTERM (p99)", Want: "< 500ms", Got: fmtDur(p99), OK: p99 >= 0 && p99 < 500*time.Millisecond})
	}
	out = append(out, Target{Name: "invariant violations", Want: "0", Got: fmt.Sprint(len(r.Violations)), OK: len(r.Violations) == 0})
	if o.Count > 0 {
		out = append(out, Target{Name: "faults injected", Want: fmt.Sprintf(">= %d", o.Count), Got: fmt.Sprint(len(r.Faults)), OK: len(r.Faults) >= o.Count})
	}
	return out
}
