package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"syscall"
	"time"
)

// Fault kinds.
const (
	FaultKill9        = "kill9-leader"
	FaultSIGTERM      = "sigterm-leader"
	FaultSIGSTOP      = "sigstop-leader"
	FaultZKRestart    = "zk-restart"
	FaultZKMemberLoss = "zk-member-loss"
	FaultZKQuorumLoss = "zk-quorum-loss"
	FaultZKCut        = "zk-cut-leader"
	FaultZKSlow       = "zk-slow-leader"
	FaultMesosCut     = "mesos-drop-streams"
	FaultMasterRest   = "master-restart"
	FaultLoseTasks    = "lose-tasks"
	FaultStarve       = "starvation"
	FaultMetricFail   = "metric-fail"
	FaultMetricHang   = "metric-hang"
)

// QuickKinds is the quick subset, one of each, in order.
var QuickKinds = []string{FaultKill9, FaultSIGTERM, FaultSIGSTOP, FaultZKRestart, FaultZKCut, FaultMesosCut,
	FaultMasterRest, FaultLoseTasks, FaultStarve, FaultMetricFail}

// FullKinds is every kind the full run draws from (the ensemble ones need 3 servers).
var FullKinds = []string{FaultKill9, FaultSIGTERM, FaultSIGSTOP, FaultZKRestart, FaultZKMemberLoss, FaultZKQuorumLoss,
	FaultZKCut, FaultZKSlow, FaultMesosCut, FaultMasterRest, FaultLoseTasks, FaultStarve, FaultMetricFail, FaultMetricHang}

// Fault is one injected fault.
type Fault struct {
	Kind string
	// Start is when it was injected; End when it was lifted (the same for instant faults).
	Start, End time.Time
	// OldLeader and OldTerm: who led when it began (-1/0: nobody).
	OldLeader int
	OldTerm   int64
	// Lost are the task IDs the harness made TASK_LOST.
	Lost []string
	// Killed: the harness may have made tasks end KILLED/FAILED in this window (none so far).
	Err string
}

// Injector injects faults into a cluster.
type Injector struct {
	c   *Cluster
	rng *rand.Rand
}

// NewInjector returns an injector with a seeded random source.
func NewInjector(c *Cluster, seed uint64) *Injector {
	return &Injector{c: c, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (in *Injector) sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Inject runs one fault of kind to its end (lifted), and returns its record. It does not
// wait for recovery beyond what the fault itself needs (a restarted replica is started).
func (in *Injector) Inject(ctx context.Context, kind string) Fault {
	c := in.c
	f := Fault{Kind: kind, OldLeader: -1}
	if i, st := c.Leader(ctx); st != nil {
		f.OldLeader, f.OldTerm = i, st.Term
	}
	st := c.Cfg.SessionTimeout
	f.Start = time.Now()
	var err error
	switch kind {
	case FaultKill9, FaultSIGTERM:
		if f.OldLeader < 0 {
			err = fmt.Errorf("no leader to signal")
			break
		}
		r := c.Replicas[f.OldLeader]
		if kind == FaultKill9 {
			r.Kill()
		} else {
			_ = r.Signal(syscall.SIGTERM)
			if !r.Wait(10 * time.Second) {
				r.Kill()
				err = fmt.Errorf("replica %d did not exit within 10s of SIGTERM", f.OldLeader)
			}
		}
		f.End = time.Now()
		// Restart once another replica leads (or after the session timeout).
		if _, werr := c.WaitLeader(ctx, f.OldTerm, st+10*time.Second); werr != nil && err == nil {
			err = werr
		}
		if serr := r.Start(); serr != nil && err == nil {
			err = serr
		}
		return in.done(f, err)
	case FaultSIGSTOP:
		if f.OldLeader < 0 {
			err = fmt.Errorf("no leader to pause")
			break
		}
		r := c.Replicas[f.OldLeader]
		_ = r.Signal(syscall.SIGSTOP)
		in.sleep(ctx, st+time.Duration(1000+in.rng.IntN(2000))*time.Millisecond)
		_ = r.Signal(syscall.SIGCONT)
	case FaultZKRestart:
		z := c.ZK[in.rng.IntN(len(c.ZK))]
		z.Stop()
		in.sleep(ctx, time.Duration(200+in.rng.IntN(800))*time.Millisecond)
		err = z.Start()
	case FaultZKMemberLoss:
		z := c.ZK[in.rng.IntN(len(c.ZK))]
		z.Kill()
		in.sleep(ctx, time.Duration(3000+in.rng.IntN(5000))*time.Millisecond)
		err = z.Start()
	case FaultZKQuorumLoss:
		if len(c.ZK) < 3 {
			err = fmt.Errorf("quorum loss needs an ensemble")
			break
		}
		a := in.rng.IntN(3)
		b := (a + 1 + in.rng.IntN(2)) % 3
		c.ZK[a].Kill()
		c.ZK[b].Kill()
		in.sleep(ctx, time.Duration(2000+in.rng.IntN(int(st.Milliseconds())+2000))*time.Millisecond)
		errs := make(chan error, 2)
		go func() { errs <- c.ZK[a].Start() }()
		go func() { errs <- c.ZK[b].Start() }()
		if e := <-errs; e != nil {
			err = e
		}
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	case FaultZKCut, FaultZKSlow:
		if f.OldLeader < 0 {
			err = fmt.Errorf("no leader to cut")
			break
		}
		r := c.Replicas[f.OldLeader]
		var hold time.Duration
		for _, p := range r.ZKProxies {
			if kind == FaultZKCut {
				p.Cut()
			} else {
				p.SetLatency(time.Duration(500+in.rng.IntN(1500)) * time.Millisecond)
			}
		}
		if kind == FaultZKCut {
			hold = st + time.Duration(500+in.rng.IntN(2500))*time.Millisecond
		} else {
			hold = time.Duration(3000+in.rng.IntN(4000)) * time.Millisecond
		}
		in.sleep(ctx, hold)
		for _, p := range r.ZKProxies {
			p.Restore()
		}
	case FaultMesosCut:
		_, err = c.Post(ctx, c.MasterURL()+"/admin/drop-streams")
	case FaultMasterRest:
		c.Master.Kill()
		in.sleep(ctx, time.Duration(200+in.rng.IntN(1500))*time.Millisecond)
		if err = c.Master.Start(); err == nil {
			err = c.waitHTTP(ctx, c.MasterURL()+"/health", 20*time.Second)
		}
	case FaultLoseTasks:
		var b []byte
		b, err = c.Post(ctx, fmt.Sprintf("%s/admin/lose-tasks?n=%d", c.MasterURL(), 1+in.rng.IntN(3)))
		if err == nil {
			var out struct {
				Lost []string `json:"lost"`
			}
			_ = json.Unmarshal(b, &out)
			f.Lost = out.Lost
		}
	case FaultStarve:
		// The spec is query-escaped: Go's servers drop a query pair holding a raw ';', so an
		// unescaped spec arrived empty (the agent lost its resources until the next master
		// restart, and "starvation" became minutes-long stalls).
		if _, err = c.Post(ctx, c.MasterURL()+"/admin/resources?spec="+url.QueryEscape("cpus:0;mem:0;disk:0")); err != nil {
			break
		}
		in.sleep(ctx, time.Duration(4000+in.rng.IntN(6000))*time.Millisecond)
		_, err = c.Post(ctx, c.MasterURL()+"/admin/resources?spec="+url.QueryEscape(c.Cfg.Resources))
	case FaultMetricFail, FaultMetricHang:
		mode := "fail"
		if kind == FaultMetricHang {
			mode = "hang"
		}
		d := time.Duration(2000+in.rng.IntN(4000)) * time.Millisecond
		if _, err = c.Post(ctx, fmt.Sprintf("http://%s/admin/fault?mode=%s&for=%s", c.PlantAt, mode, d)); err == nil {
			in.sleep(ctx, d)
		}
	default:
		err = fmt.Errorf("unknown fault kind %q", kind)
	}
	f.End = time.Now()
	return in.done(f, err)
}

func (in *Injector) done(f Fault, err error) Fault {
	if err != nil {
		f.Err = err.Error()
	}
	return f
}

// Settle waits until a replica leads and decides, and every replica process runs.
func (in *Injector) Settle(ctx context.Context, bound time.Duration) error {
	for _, r := range in.c.Replicas {
		if !r.Running() {
			if err := r.Start(); err != nil {
				return err
			}
		}
	}
	_, err := in.c.WaitLeader(ctx, 0, bound)
	return err
}
