package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/election/zktest"
)

// ClusterConfig says what to start.
type ClusterConfig struct {
	// Binary is the relay-mesos binary.
	Binary string
	// PlantCommand starts the plant as its own process (see ServePlantFromEnv); empty runs
	// the plant inside the harness.
	PlantCommand []string
	// Dir holds every process's data and logs.
	Dir string
	// Replicas (default 3).
	Replicas int
	// Ensemble is the number of ZooKeeper servers (1 or 3; default 1).
	Ensemble int
	// SessionTimeout of the replicas' ZooKeeper sessions (default 4s).
	SessionTimeout time.Duration
	// Delay is --delay in seconds (default 0.5).
	Delay float64
	// Target is the queue length the replicas hold (default 20).
	Target float64
	// Plant is the queue.
	Plant PlantConfig
	// TakePerRound and Rounds: each warmer task takes TakePerRound items once a second,
	// Rounds times (defaults 10 and 3).
	TakePerRound, Rounds int
	// Resources of the agent (default cpus:4;mem:4096;disk:10000).
	Resources string
	Log       hclog.Logger
}

func (c *ClusterConfig) defaults() {
	if c.Replicas <= 0 {
		c.Replicas = 3
	}
	if c.Ensemble <= 0 {
		c.Ensemble = 1
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 4 * time.Second
	}
	if c.Delay <= 0 {
		c.Delay = 0.5
	}
	if c.Target == 0 {
		c.Target = 20
	}
	if c.Plant.Rate == 0 {
		c.Plant = DefaultPlantConfig()
	}
	if c.TakePerRound <= 0 {
		c.TakePerRound = 10
	}
	if c.Rounds <= 0 {
		c.Rounds = 3
	}
	if c.Resources == "" {
		c.Resources = "cpus:4;mem:4096;disk:10000"
	}
	if c.Log == nil {
		c.Log = hclog.NewNullLogger()
	}
}

// Validate rejects a config that cannot start.
func (c ClusterConfig) Validate() error {
	switch {
	case c.Binary == "":
		return errors.New("chaos: no relay-mesos binary")
	case c.Dir == "":
		return errors.New("chaos: no dir")
	case c.Ensemble != 1 && c.Ensemble != 3:
		return fmt.Errorf("chaos: ensemble of %d servers (want 1 or 3)", c.Ensemble)
	}
	return nil
}

// Replica is one `relay-mesos run` process and its ZooKeeper proxies.
type Replica struct {
	*Proc
	Index  int
	Listen string
	// ZKProxies: one per ZooKeeper server, between this replica and that server.
	ZKProxies []*zktest.Proxy
}

// URL is the replica's HTTP base URL.
func (r *Replica) URL() string { return "http://" + r.Listen }

// Cluster is ZooKeeper, the embedded Mesos master, the plant and the replicas, each a
// separate process on 127.0.0.1 (the plant may run inside the harness).
type Cluster struct {
	Cfg      ClusterConfig
	ZK       []*zktest.Process
	Master   *Proc
	MasterAt string
	Replicas []*Replica
	// PlantAt is the plant's host:port.
	PlantAt string

	plantProc *Proc
	plant     *Plant
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	http      *http.Client
	log       hclog.Logger
}

// StartCluster starts everything and waits until one replica leads and decides.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{Cfg: cfg, http: &http.Client{Timeout: 2 * time.Second}, log: cfg.Log}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	// ZooKeeper.
	if cfg.Ensemble == 1 {
		p, err := zktest.Launch(filepath.Join(cfg.Dir, "zk"), 0, zktest.Options{})
		if err != nil {
			return nil, fmt.Errorf("zookeeper: %w", err)
		}
		c.ZK = []*zktest.Process{p}
	} else {
		e, err := zktest.LaunchEnsemble(filepath.Join(cfg.Dir, "zk"), cfg.Ensemble, zktest.Options{})
		if err != nil {
			return nil, fmt.Errorf("zookeeper ensemble: %w", err)
		}
		c.ZK = e.Members
	}
	// The plant.
	pctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if len(cfg.PlantCommand) > 0 {
		port, err := zktest.FreePort()
		if err != nil {
			return nil, err
		}
		c.PlantAt = fmt.Sprintf("127.0.0.1:%d", port)
		c.plantProc = &Proc{Name: "plant", Path: cfg.PlantCommand[0], Args: cfg.PlantCommand[1:], Log: filepath.Join(cfg.Dir, "plant.log"),
			Env: []string{fmt.Sprintf("%s=%s,%g,%g", PlantEnv, c.PlantAt, cfg.Plant.Rate, cfg.Plant.Initial)}}
		if err := c.plantProc.Start(); err != nil {
			return nil, err
		}
	} else {
		p, err := NewPlant(cfg.Plant)
		if err != nil {
			return nil, err
		}
		c.plant, c.PlantAt = p, p.Addr()
		c.wg.Add(1)
		go func() { defer c.wg.Done(); _ = p.Run(pctx) }()
	}
	if err := c.waitHTTP(ctx, "http://"+c.PlantAt+"/stats", 20*time.Second); err != nil {
		return nil, fmt.Errorf("plant: %w", err)
	}
	// The master.
	port, err := zktest.FreePort()
	if err != nil {
		return nil, err
	}
	c.MasterAt = fmt.Sprintf("127.0.0.1:%d", port)
	c.Master = &Proc{Name: "mesos-local", Path: cfg.Binary, Log: filepath.Join(cfg.Dir, "master.log"),
		Args: []string{"mesos-local", "--listen", c.MasterAt, "--work-dir", filepath.Join(cfg.Dir, "master"), "--admin", "--resources", cfg.Resources}}
	if err := c.Master.Start(); err != nil {
		return nil, err
	}
	if err := c.waitHTTP(ctx, c.MasterURL()+"/health", 20*time.Second); err != nil {
		return nil, fmt.Errorf("mesos-local: %w", err)
	}
	// The replicas.
	for i := range cfg.Replicas {
		r := &Replica{Index: i}
		var addrs []string
		for _, z := range c.ZK {
			p, err := zktest.NewProxy(z.Addr())
			if err != nil {
				return nil, err
			}
			r.ZKProxies = append(r.ZKProxies, p)
			addrs = append(addrs, p.Addr())
		}
		lp, err := zktest.FreePort()
		if err != nil {
			return nil, err
		}
		r.Listen = fmt.Sprintf("127.0.0.1:%d", lp)
		warmer := fmt.Sprintf(`for i in $(seq %d); do curl -s -m 1 -X POST 'http://%s/take?n=%d' >/dev/null; sleep 1; done; exit 0`, cfg.Rounds, c.PlantAt, cfg.TakePerRound)
		r.Proc = &Proc{Name: fmt.Sprintf("replica-%d", i), Path: cfg.Binary, Log: filepath.Join(cfg.Dir, fmt.Sprintf("replica-%d.log", i)),
			Args: []string{"run",
				"--zk", "zk://" + strings.Join(addrs, ",") + "/relay-mesos/chaos",
				"--zk-session-timeout", cfg.SessionTimeout.String(),
				"--master", c.MasterAt,
				"--listen", r.Listen,
				"--delay", strconv.FormatFloat(cfg.Delay, 'g', -1, 64),
				"--metric", "http://" + c.PlantAt + "/size",
				"--target", strconv.FormatFloat(cfg.Target, 'g', -1, 64),
				"--warmer", warmer,
				"--failover-timeout", "1h",
				"--state-dir", filepath.Join(cfg.Dir, fmt.Sprintf("replica-%d", i)),
				// The controller's per-tick trace, beside the log: what a violation is read with.
				"--trace-file", filepath.Join(cfg.Dir, fmt.Sprintf("replica-%d.trace.jsonl", i)),
			}}
		c.Replicas = append(c.Replicas, r)
		if err := r.Start(); err != nil {
			return nil, err
		}
	}
	if _, err := c.WaitLeader(ctx, 0, 60*time.Second); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// PlantEnv carries "listen,rate,initial" to a plant process.
const PlantEnv = "RELAY_CHAOS_PLANT"

// ServePlantFromEnv runs the plant when PlantEnv is set (the harness re-executing itself as
// the plant process) and reports whether it did; the caller then exits.
func ServePlantFromEnv() bool {
	v := os.Getenv(PlantEnv)
	if v == "" {
		return false
	}
	parts := strings.Split(v, ",")
	cfg := DefaultPlantConfig()
	cfg.Listen = parts[0]
	if len(parts) > 2 {
		cfg.Rate, _ = strconv.ParseFloat(parts[1], 64)
		cfg.Initial, _ = strconv.ParseFloat(parts[2], 64)
	}
	p, err := NewPlant(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return true
}

// MasterURL is the master's base URL.
func (c *Cluster) MasterURL() string { return "http://" + c.MasterAt }

func (c *Cluster) waitHTTP(ctx context.Context, url string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		resp, err := c.http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not up after %v: %v", url, bound, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close stops every process the cluster started.
func (c *Cluster) Close() {
	for _, r := range c.Replicas {
		_ = r.Stop(5 * time.Second)
		for _, p := range r.ZKProxies {
			p.Close()
		}
	}
	if c.Master != nil {
		_ = c.Master.Stop(5 * time.Second)
	}
	if c.plantProc != nil {
		_ = c.plantProc.Stop(2 * time.Second)
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	for _, z := range c.ZK {
		z.Stop()
	}
}

// ReplicaStatus is the part of a replica's /status the harness reads.
type ReplicaStatus struct {
	Role        string `json:"role"`
	ID          string `json:"id"`
	FrameworkID string `json:"framework_id"`
	Leader      *struct {
		ID    string `json:"id"`
		Token int64  `json:"token"`
	} `json:"leader"`
	Mesos struct {
		Subscribed bool `json:"subscribed"`
		Deciding   bool `json:"deciding"`
	} `json:"mesos"`
	Controller map[string]float64 `json:"controller"`
	// Resumed: the checkpoint this leader's term restored (writer's token and its terms).
	Resumed *struct {
		Term      int64              `json:"term"`
		FromToken int64              `json:"from_token"`
		WrittenAt time.Time          `json:"written_at"`
		Terms     map[string]float64 `json:"terms"`
	} `json:"resumed"`
	Ledger struct {
		Total struct {
			Pending int `json:"pending"`
			Running int `json:"running"`
		} `json:"total"`
	} `json:"ledger"`
	Events []struct {
		Time    time.Time `json:"time"`
		Kind    string    `json:"kind"`
		Message string    `json:"message"`
	} `json:"events"`
	// Term is this replica's own latest leadership term, from its events (0: none seen).
	Term int64 `json:"-"`
	// TermAt is when that term began, as the replica recorded it.
	TermAt time.Time `json:"-"`
}

var termRE = regexp.MustCompile(`\(term (\d+)\)`)

// Status reads replica i's /status.
func (c *Cluster) Status(ctx context.Context, i int) (*ReplicaStatus, error) {
	var st ReplicaStatus
	if err := c.getJSON(ctx, c.Replicas[i].URL()+"/status", &st); err != nil {
		return nil, err
	}
	for _, e := range st.Events {
		if e.Kind != "leadership" && e.Kind != "failover" {
			continue
		}
		if m := termRE.FindStringSubmatch(e.Message); m != nil {
			if t, err := strconv.ParseInt(m[1], 10, 64); err == nil && !e.Time.Before(st.TermAt) {
				st.Term, st.TermAt = t, e.Time
			}
		}
	}
	return &st, nil
}

// Leading reports whether the status is of an acting, deciding leader.
func (s *ReplicaStatus) Leading() bool { return s != nil && s.Role == "leader" && s.Mesos.Deciding }

// WaitLeader waits until a replica leads and decides with a term above minTerm; it returns
// that replica's index.
func (c *Cluster) WaitLeader(ctx context.Context, minTerm int64, bound time.Duration) (int, error) {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		for i := range c.Replicas {
			if st, err := c.Status(ctx, i); err == nil && st.Leading() && st.Term > minTerm {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return -1, fmt.Errorf("no replica leads and decides (term > %d) after %v", minTerm, bound)
}

// Leader returns the index and status of the deciding leader, or -1.
func (c *Cluster) Leader(ctx context.Context) (int, *ReplicaStatus) {
	for i := range c.Replicas {
		if st, err := c.Status(ctx, i); err == nil && st.Leading() {
			return i, st
		}
	}
	return -1, nil
}

// MasterState reads the master's /state.
func (c *Cluster) MasterState(ctx context.Context) (*MasterState, error) {
	var st MasterState
	if err := c.getJSON(ctx, c.MasterURL()+"/state", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// PlantSize is the true queue length.
func (c *Cluster) PlantSize(ctx context.Context) (float64, error) {
	var st struct {
		Size float64 `json:"size"`
	}
	if err := c.getJSON(ctx, "http://"+c.PlantAt+"/stats", &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// Post sends a POST to url and fails on a status other than 200.
func (c *Cluster) Post(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("POST %s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func (c *Cluster) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// MasterState is the part of the master's /state the harness reads.
type MasterState struct {
	Frameworks []struct {
		ID            string `json:"id"`
		Connected     bool   `json:"connected"`
		Subscriptions []struct {
			StreamID string    `json:"stream_id"`
			Number   int       `json:"number"`
			At       time.Time `json:"at"`
		} `json:"subscriptions"`
	} `json:"frameworks"`
	CompletedFrameworks []struct {
		ID string `json:"id"`
	} `json:"completed_frameworks"`
	Tasks          []MasterTask `json:"tasks"`
	CompletedTasks []MasterTask `json:"completed_tasks"`
	Launches       []struct {
		TaskID       string    `json:"task_id"`
		FrameworkID  string    `json:"framework_id"`
		StreamID     string    `json:"stream_id"`
		Subscription int       `json:"subscription"`
		At           time.Time `json:"at"`
	} `json:"launches"`
}

// MasterTask is one task in the master's /state.
type MasterTask struct {
	ID                     string            `json:"id"`
	FrameworkID            string            `json:"framework_id"`
	State                  string            `json:"state"`
	Message                string            `json:"message"`
	Labels                 map[string]string `json:"labels"`
	LaunchedAt             time.Time         `json:"launched_at"`
	EndedAt                *time.Time        `json:"ended_at"`
	LaunchedBySubscription int               `json:"launched_by_subscription"`
}

var taskTermRE = regexp.MustCompile(`^relay-[a-z]+-t(\d+)-\d+$`)

// TaskTerm is the term in a task ID (relay-<kind>-t<term>-<seq>), or 0.
func TaskTerm(id string) int64 {
	m := taskTermRE.FindStringSubmatch(id)
	if m == nil {
		return 0
	}
	t, _ := strconv.ParseInt(m[1], 10, 64)
	return t
}
