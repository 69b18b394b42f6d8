package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relay-mesos/relay-mesos/cmd/config"
	"github.com/relay-mesos/relay-mesos/cmd/replica"
	"github.com/relay-mesos/relay-mesos/election"
	"github.com/relay-mesos/relay-mesos/framework"
	"github.com/relay-mesos/relay-mesos/framework/localmaster"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/metrics"
	"github.com/relay-mesos/relay-mesos/state"
)

// runReplica is `relay-mesos run`: one replica, wired from the flags.
func runReplica(ctx context.Context, c *config.Run, log hclog.Logger) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}
	fcfg, err := frameworkConfig(c)
	if err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}
	advertise := advertiseAddr(c.Listen, c.Advertise)

	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	timeout := c.SourceTimeout
	if timeout <= 0 {
		timeout = min(time.Duration(float64(c.TickDelay())*0.8), 30*time.Second)
	}
	sources, err := loop.ParseSources(c.Metric, c.Target, c.SourceList(), loop.SourceOptions{
		Timeout: timeout, Log: log.Named("source"), Misses: m,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}
	lcfg := loop.DefaultConfig()
	lcfg.HasWarmer = c.Warmer != ""
	lcfg.HasCooler = c.Cooler != ""
	lcfg.CoolerKills = strings.TrimSpace(c.Cooler) == "kill"
	lcfg.MaxPerTick, lcfg.MaxInFlight = c.MaxPerTick, c.MaxInFlight
	lcfg.Tolerance, lcfg.Lookback, lcfg.Delay = c.Tolerance, c.Lookback, c.TickDelay()
	lcfg.MetricScale = c.MetricScale
	if err := lcfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}

	trace, err := openTrace(c.Tracing, log)
	if err != nil {
		return err
	}
	if trace != nil {
		defer func() {
			if err := trace.Close(); err != nil {
				log.Warn("trace_close_failed", "path", trace.Path(), "error", err)
			}
		}()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 4)

	// The embedded master, for a single replica on one machine.
	if c.Master == "local" {
		lm, err := localmaster.New(localmaster.Config{
			Listen: "127.0.0.1:0", Resources: c.LocalResources, WorkDir: filepath.Join(c.StateDir, "mesos-local"),
			KillTasksOnExit: true,
		}, log.Named("mesos-local"))
		if err != nil {
			return fmt.Errorf("embedded master: %w", err)
		}
		fcfg.Master = lm.URL()
		log.Info("embedded_master", "url", lm.URL(), "resources", c.LocalResources)
		wg.Add(1)
		go func() { defer wg.Done(); errs <- wrapErr("embedded master", lm.Run(ctx)) }()
	}

	// Election and state: ZooKeeper, or a file lock and files for a single replica.
	var (
		store      state.Store
		elect      replica.Campaigner
		standalone = c.ZK == ""
		leaderView replica.LeaderView
		zkc        *election.Client
	)
	if standalone {
		fs, err := state.NewFile(c.StateDir, log.Named("state"))
		if err != nil {
			return fmt.Errorf("state dir: %w", err)
		}
		store, elect = fs, fileCampaigner{dir: c.StateDir, log: log}
		m.ZKSession(metrics.ZKNone)
	} else {
		servers, root, err := election.ParseURL(c.ZK)
		if err != nil {
			return fmt.Errorf("%w: %v", errConfig, err)
		}
		auth := ""
		if c.ZKAuthFile != "" {
			b, err := os.ReadFile(c.ZKAuthFile)
			if err != nil {
				return fmt.Errorf("%w: --zk-auth-file: %v", errConfig, err)
			}
			auth = strings.TrimSpace(string(b))
		}
		zkc, err = election.Connect(ctx, election.Config{
			Servers: servers, Root: root, SessionTimeout: c.ZKSessionTimeout, ID: advertise, Address: advertise, Auth: auth,
		}, log)
		if err != nil {
			return fmt.Errorf("zookeeper: %w", err)
		}
		defer zkc.Close()
		store = state.NewZK(zkc.Conn(), zkc.Root(), zkc.ACL(), log.Named("state"))
		elect = zkCampaigner{zkc}
		var lmu sync.Mutex
		var seen *metrics.LeaderInfo
		leaderView = func() *metrics.LeaderInfo {
			lmu.Lock()
			defer lmu.Unlock()
			if seen == nil {
				return nil
			}
			cp := *seen
			return &cp
		}
		wg.Add(1)
		go func() { // the leader watcher: who leads, and the session state, for metrics and /status
			defer wg.Done()
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			losses := zkc.SessionLosses()
			for {
				m.ZKSession(zkc.SessionState())
				if n := zkc.SessionLosses(); n > losses {
					for ; losses < n; losses++ {
						m.ZKSessionLost()
					}
				}
				li, err := zkc.Leader(ctx)
				lmu.Lock()
				if err == nil && li.ID != "" {
					seen = &metrics.LeaderInfo{ID: li.ID, Address: li.Address, Token: li.Token}
					m.LeaderSeen(li.ID, li.Token)
				} else if err == nil || errors.Is(err, election.ErrNoLeader) {
					seen = nil
					m.LeaderSeen("", 0)
				}
				lmu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}

	rep, err := replica.New(replica.Config{
		ID: advertise, Address: advertise, CheckpointInterval: c.CheckpointInterval,
		ExitOnLeadershipLoss: c.ExitOnLeadershipLoss, FailoverDrill: c.FailoverDrill, MasterURL: fcfg.Master,
	}, replica.Parts{
		Loop: lcfg, Runner: loop.RunnerConfig{Delay: c.TickDelay(), SourceTimeout: timeout},
		Framework: fcfg, Reader: moved(c.Moves, sources), Store: store, Elect: elect, Metrics: m, Sources: sources,
		Trace: traceObserver(trace),
	}, log)
	if err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}
	scfg := metrics.DefaultServerConfig()
	scfg.Listen = c.Listen
	srv, err := metrics.NewServer(scfg, m, reg, rep.StatusProvider(standalone, leaderView), log)
	if err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}
	log.Info("starting", "listen", c.Listen, "advertise", advertise, "master", c.Master, "zk", c.ZK != "", "state_dir", c.StateDir)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- wrapErr("http server", srv.Run(ctx)) }()
	go func() { defer wg.Done(); errs <- wrapErr("replica", rep.Run(ctx)) }()

	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if first == nil {
			first = err
		}
	}
	return first
}

// openTrace opens --trace-file, if set (nil, nil if not). $VAR and ${VAR} in the path are
// expanded from the environment (Marathon does not expand its env values, and each replica
// needs its own file: trace-$MESOS_TASK_ID.jsonl). An unset variable, or a file that cannot be
// opened (its directory missing, no permission), is a configuration error naming the flag.
func openTrace(c config.Tracing, log hclog.Logger) (*loop.Trace, error) {
	if c.TraceFile == "" {
		return nil, nil
	}
	var unset []string
	path := os.Expand(c.TraceFile, func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok {
			unset = append(unset, "$"+name)
		}
		return v
	})
	if len(unset) > 0 {
		return nil, fmt.Errorf("%w: --trace-file (RELAY_TRACE_FILE) %q: %s not set", errConfig, c.TraceFile, strings.Join(unset, ", "))
	}
	tr, err := loop.OpenTrace(path, c.TraceMaxBytes, log)
	if err != nil {
		return nil, fmt.Errorf("%w: --trace-file (RELAY_TRACE_FILE): %v", errConfig, err)
	}
	log.Info("tracing", "path", path, "max_bytes", c.TraceMaxBytes)
	return tr, nil
}

// traceObserver is the trace as the replica's observer: nil stays a nil interface.
func traceObserver(t *loop.Trace) loop.Observer {
	if t == nil {
		return nil
	}
	return t
}

func wrapErr(where string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", where, err)
}

// advertiseAddr is --advertise, or --listen with a wildcard host replaced by this host's name.
func advertiseAddr(listen, advertise string) string {
	if advertise != "" {
		return advertise
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h := os.Getenv("HOST"); h != "" {
			host = h
		} else if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// frameworkConfig maps the flags onto framework.Config.
func frameworkConfig(c *config.Run) (framework.Config, error) {
	res, err := framework.ParseResources(c.TaskResources)
	if err != nil {
		return framework.Config{}, err
	}
	cons, err := framework.ParseConstraints(c.Constraints)
	if err != nil {
		return framework.Config{}, err
	}
	env := map[string]string{}
	if c.Environment != "" {
		if err := framework.ParseEnvFile(c.Environment, env); err != nil {
			return framework.Config{}, err
		}
	}
	for _, kv := range c.EnvList() {
		k, v, _ := strings.Cut(kv, "=")
		env[strings.TrimSpace(k)] = v
	}
	secret := ""
	if c.FrameworkSecretFile != "" {
		b, err := os.ReadFile(c.FrameworkSecretFile)
		if err != nil {
			return framework.Config{}, fmt.Errorf("--framework-secret-file: %v", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	var uris []string
	for _, u := range strings.Split(c.URIs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			uris = append(uris, u)
		}
	}
	fc := framework.Config{
		Master: c.Master, Name: c.FrameworkName, User: c.FrameworkUser, Principal: c.FrameworkPrincipal,
		Secret: secret, Role: c.FrameworkRole, Checkpoint: c.Checkpoint, FailoverTimeout: c.FailoverTimeout,
		Task: res, Constraints: cons, Warmer: c.Warmer, Env: env, URIs: uris, MaxFailures: c.MaxFailures,
		LaunchBackoff: c.LaunchBackoff, LaunchBackoffMax: c.LaunchBackoffMax,
	}
	if strings.TrimSpace(c.Cooler) == "kill" {
		fc.CoolerKill = true
	} else {
		fc.Cooler = c.Cooler
	}
	if c.DockerImage != "" {
		params := map[string]string{}
		if c.DockerParameters != "" {
			if params, err = framework.ParseParameters(c.DockerParameters); err != nil {
				return framework.Config{}, err
			}
		}
		vols, err := framework.ParseVolumes(c.Volumes)
		if err != nil {
			return framework.Config{}, err
		}
		fc.Docker = &framework.Docker{Image: c.DockerImage, Network: c.DockerNetwork, ForcePull: c.ForcePullImage, Parameters: params, Volumes: vols}
	}
	if host, _, err := net.SplitHostPort(advertiseAddr(c.Listen, c.Advertise)); err == nil {
		fc.Hostname = host
		fc.WebUIURL = "http://" + advertiseAddr(c.Listen, c.Advertise) + "/"
	}
	if c.Master == "local" {
		fc.Master = "127.0.0.1:0" // replaced by the embedded master's URL
	}
	return fc, fc.WithDefaults().Validate()
}

// zkCampaigner adapts election.Client to replica.Campaigner.
type zkCampaigner struct{ c *election.Client }

func (z zkCampaigner) Campaign(ctx context.Context) (replica.Leadership, error) {
	l, err := z.c.Campaign(ctx)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// fileCampaigner is the standalone replica's lock: a flock in the state dir.
type fileCampaigner struct {
	dir string
	log hclog.Logger
}

func (f fileCampaigner) Campaign(ctx context.Context) (replica.Leadership, error) {
	l, err := state.AcquireFileLock(ctx, f.dir, f.log.Named("lock"))
	if err != nil {
		return nil, err
	}
	return l, nil
}

// mesosLocal is `relay-mesos mesos-local`: the embedded master on its own.
func mesosLocal(ctx context.Context, c *config.MesosLocal, log hclog.Logger) error {
	lm, err := localmaster.New(localmaster.Config{Listen: c.Listen, Resources: c.Resources, WorkDir: c.WorkDir, Admin: c.Admin}, log.Named("mesos-local"))
	if err != nil {
		return fmt.Errorf("%w: %v", errConfig, err)
	}
	log.Info("mesos_local_listening", "url", lm.URL(), "resources", c.Resources, "work_dir", c.WorkDir, "admin", c.Admin, "pid", strconv.Itoa(os.Getpid()))
	return lm.Run(ctx)
}

// moved returns the reader the controller ticks on. The controller holds what the tasks move at
// the other one; with --moves target (Relay's web-server example: metric = desired servers,
// target = running instances) the two are handed to it swapped, so the running instances are
// what it moves and the desired count is where it holds them.
func moved(moves string, r loop.Reader) loop.Reader {
	if moves != "target" {
		return r
	}
	return loop.ReaderFunc(func(ctx context.Context, now time.Time) (loop.Sample, loop.Sample) {
		metric, target := r.Read(ctx, now)
		return target, metric
	})
}
