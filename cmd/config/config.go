// Package config is the command line of relay-mesos: every flag, its environment variable and
// its default, in one place, and the validation that turns a bad value into a one-line error.
// Flags map to one struct per subcommand; the wiring in cmd/ turns them into each package's
// own Config.
package config

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// CLI is the whole command line. Global flags come first.
type CLI struct {
	LogLevel  string `env:"RELAY_LOG_LEVEL" default:"info" enum:"trace,debug,info,warn,error" help:"Log level (${enum})."`
	LogFormat string `env:"RELAY_LOG_FORMAT" default:"text" enum:"text,json" help:"Log format: text (key=value) or json."`

	Run          Run          `cmd:"" help:"Run one replica: campaign for leadership, then control the metric through Mesos."`
	Simulate     Simulate     `cmd:"" help:"Run the controller against a simulated plant described by a scenario file; CSV on stdout."`
	BenchControl BenchControl `cmd:"" name:"bench-control" help:"Run every scenario in the given directories and print control figures against the references."`
	MesosLocal   MesosLocal   `cmd:"" name:"mesos-local" help:"Run the embedded single-node Mesos master+agent (the v1 scheduler API) standalone."`
	Env          Env          `cmd:"" help:"Print every environment variable the run command reads, with its flag and default."`
}

// Control is what the thermostat controls and how (the names Relay users know).
type Control struct {
	Metric  string   `env:"RELAY_METRIC" help:"Source of the metric (see loop/SOURCES.md): a number, cmd:..., http(s)://..., prom:URL QUERY, file:PATH, a schedule, or expr:..."`
	Target  string   `env:"RELAY_TARGET" help:"Source of the target, same forms as --metric."`
	Warmer  string   `env:"RELAY_WARMER" help:"Bash command of a warmer task (meant to raise the metric)."`
	Cooler  string   `env:"RELAY_COOLER" help:"Bash command of a cooler task (meant to lower the metric), or 'kill' to kill running warmer tasks instead."`
	Moves   string   `env:"RELAY_MOVES" default:"metric" enum:"metric,target" help:"Which source the warmer and cooler tasks move (${enum}): the metric (default), or the target, as in Relay's web-server example (metric = desired servers from the load, target = running instances; a warmer starts an instance)."`
	Sources []string `env:"RELAY_SOURCES" sep:"none" name:"source" placeholder:"NAME=SPEC" help:"Named source usable in expr: specs (repeatable; in the env var, separate entries by newlines or ';;')."`

	Delay         float64       `env:"RELAY_DELAY" default:"1" help:"Seconds between ticks."`
	Lookback      int           `env:"RELAY_LOOKBACK" default:"100" help:"Ticks of history the controller learns the plant's response from."`
	SourceTimeout time.Duration `env:"RELAY_SOURCE_TIMEOUT" default:"0s" help:"Timeout of one source read (0 = 80% of --delay, at most 30s)."`
	MaxPerTick    int           `env:"RELAY_MAX_PER_TICK" default:"100" help:"Most units of one kind asked for in one tick."`
	MaxInFlight   int           `env:"RELAY_MAX_IN_FLIGHT" default:"1000" help:"Most units of one kind pending or running at once."`
	Tolerance     float64       `env:"RELAY_TOLERANCE" default:"0" help:"No action while |target - metric| is within this band (metric units); readings within it of a known wall (an empty queue) are taken as at the wall; above 0, a learned effect within two standard errors of nothing is not taken at its word. Set it to the metric's noise band."`
	MetricScale   float64       `env:"RELAY_METRIC_SCALE" default:"0" help:"Metric units the controller takes as one of its own: 0 chooses from the first readings (1 for readings from 1 to 300, below 3 only whole ones; else a power of ten); set it (e.g. 0.01 for a CPU share) when the first readings mislead. A checkpointed controller keeps its scale."`
}

// SourceList returns the named source entries, splitting env-style entries on newlines and ';;'.
func (c Control) SourceList() []string {
	var out []string
	for _, s := range c.Sources {
		for _, line := range strings.Split(s, "\n") {
			for _, part := range strings.Split(line, ";;") {
				if p := strings.TrimSpace(part); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// Validate rejects values that cannot work, naming the flag.
func (c Control) Validate() error {
	switch {
	case strings.TrimSpace(c.Metric) == "":
		return errors.New("--metric (RELAY_METRIC) is required")
	case strings.TrimSpace(c.Target) == "":
		return errors.New("--target (RELAY_TARGET) is required")
	case strings.TrimSpace(c.Warmer) == "" && strings.TrimSpace(c.Cooler) == "":
		return errors.New("--warmer (RELAY_WARMER) or --cooler (RELAY_COOLER) is required")
	case !(c.Delay > 0) || math.IsInf(c.Delay, 0):
		return fmt.Errorf("--delay (RELAY_DELAY) must be a finite number of seconds > 0, got %v", c.Delay)
	case c.Lookback <= 0:
		return fmt.Errorf("--lookback (RELAY_LOOKBACK) must be > 0, got %d", c.Lookback)
	case c.SourceTimeout < 0:
		return fmt.Errorf("--source-timeout (RELAY_SOURCE_TIMEOUT) must be >= 0, got %v", c.SourceTimeout)
	case c.MaxPerTick <= 0:
		return fmt.Errorf("--max-per-tick (RELAY_MAX_PER_TICK) must be > 0, got %d", c.MaxPerTick)
	case c.MaxInFlight <= 0:
		return fmt.Errorf("--max-in-flight (RELAY_MAX_IN_FLIGHT) must be > 0, got %d", c.MaxInFlight)
	case c.Tolerance < 0 || math.IsNaN(c.Tolerance) || math.IsInf(c.Tolerance, 0):
		return fmt.Errorf("--tolerance (RELAY_TOLERANCE) must be a finite number >= 0, got %v", c.Tolerance)
	case c.MetricScale < 0 || math.IsNaN(c.MetricScale) || math.IsInf(c.MetricScale, 0):
		return fmt.Errorf("--metric-scale (RELAY_METRIC_SCALE) must be a finite number >= 0, got %v", c.MetricScale)
	}
	for _, s := range c.SourceList() {
		if name, spec, ok := strings.Cut(s, "="); !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(spec) == "" {
			return fmt.Errorf("--source (RELAY_SOURCES): %q is not NAME=SPEC", s)
		}
	}
	return nil
}

// TickDelay is --delay as a duration.
func (c Control) TickDelay() time.Duration { return time.Duration(c.Delay * float64(time.Second)) }

// Mesos is how the replica talks to Mesos and what its tasks look like.
type Mesos struct {
	Master              string        `env:"RELAY_MESOS_MASTER" help:"Mesos master: host:port, http(s)://host:port, zk://host:port,.../mesos, or 'local' for the embedded single-node master."`
	LocalResources      string        `env:"RELAY_MESOS_LOCAL_RESOURCES" default:"cpus:4;mem:4096;disk:10000" help:"Resources of the embedded agent when --master is local."`
	FrameworkName       string        `env:"RELAY_MESOS_FRAMEWORK_NAME" default:"relay-mesos" help:"Framework name shown in Mesos."`
	FrameworkUser       string        `env:"RELAY_MESOS_FRAMEWORK_USER" help:"User the tasks run as (default: the current user)."`
	FrameworkPrincipal  string        `env:"RELAY_MESOS_FRAMEWORK_PRINCIPAL" help:"Principal for authentication and rate limiting."`
	FrameworkSecretFile string        `env:"RELAY_MESOS_FRAMEWORK_SECRET_FILE" type:"path" help:"File holding the principal's secret (never logged)."`
	FrameworkRole       string        `env:"RELAY_MESOS_FRAMEWORK_ROLE" default:"*" help:"Role the framework registers with."`
	Checkpoint          bool          `env:"RELAY_MESOS_CHECKPOINT" default:"true" negatable:"" help:"Ask agents to checkpoint tasks so they survive agent restarts."`
	FailoverTimeout     time.Duration `env:"RELAY_MESOS_FAILOVER_TIMEOUT" default:"168h" help:"How long Mesos keeps the framework's tasks while no replica is subscribed."`
	TaskResources       string        `env:"RELAY_MESOS_TASK_RESOURCES" default:"cpus:0.1;mem:32" help:"Resources of one task: cpus:0.1;mem:32;disk:0 (or the original cpus=0.1,mem=32)."`
	Constraints         string        `env:"RELAY_MESOS_CONSTRAINTS" help:"Agent attribute constraints, e.g. rack:EQ:r1,host:LIKE:web.*"`
	Environment         string        `env:"RELAY_MESOS_ENVIRONMENT" type:"path" help:"File of KEY=VAL lines added to every task's environment."`
	Env                 []string      `env:"RELAY_MESOS_ENV" sep:"none" placeholder:"KEY=VAL" help:"Task environment variable (repeatable; env: newline-separated)."`
	URIs                string        `name:"uris" env:"RELAY_MESOS_URIS" help:"Comma-separated URIs fetched into each task's sandbox."`
	DockerImage         string        `env:"RELAY_MESOS_DOCKER_IMAGE" help:"Run tasks in this Docker image."`
	DockerNetwork       string        `env:"RELAY_MESOS_DOCKER_NETWORK" default:"BRIDGE" enum:"HOST,BRIDGE,NONE,USER" help:"Docker network mode (${enum})."`
	ForcePullImage      bool          `env:"RELAY_MESOS_FORCE_PULL_IMAGE" help:"Pull the image before every task."`
	DockerParameters    string        `env:"RELAY_MESOS_DOCKER_PARAMETERS" help:"Extra docker run parameters: key=value,key=value (or a JSON object)."`
	Volumes             string        `env:"RELAY_MESOS_VOLUMES" help:"Volumes: host_path:container_path:RO|RW,..."`
	MaxFailures         int           `env:"RELAY_MESOS_MAX_FAILURES" default:"0" help:"Stop launching after this many failed tasks in a row (0 = never)."`
	LaunchBackoff       time.Duration `env:"RELAY_MESOS_LAUNCH_BACKOFF" default:"1s" help:"Delay before the next launch of a kind after one of its tasks failed; doubles with each failure in a row."`
	LaunchBackoffMax    time.Duration `env:"RELAY_MESOS_LAUNCH_BACKOFF_MAX" default:"60s" help:"Longest launch delay after failed tasks."`
}

// EnvList returns --env entries, splitting newline-separated env values.
func (m Mesos) EnvList() []string {
	var out []string
	for _, s := range m.Env {
		for _, line := range strings.Split(s, "\n") {
			if p := strings.TrimSpace(line); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Validate rejects values that cannot work, naming the flag.
func (m Mesos) Validate() error {
	switch {
	case strings.TrimSpace(m.Master) == "":
		return errors.New("--master (RELAY_MESOS_MASTER) is required: host:port, zk://.../mesos, or local")
	case m.FailoverTimeout <= 0:
		return fmt.Errorf("--failover-timeout (RELAY_MESOS_FAILOVER_TIMEOUT) must be > 0 (0 would kill every task when a replica fails), got %v", m.FailoverTimeout)
	case m.MaxFailures < 0:
		return fmt.Errorf("--max-failures (RELAY_MESOS_MAX_FAILURES) must be >= 0, got %d", m.MaxFailures)
	case m.LaunchBackoff <= 0:
		return fmt.Errorf("--launch-backoff (RELAY_MESOS_LAUNCH_BACKOFF) must be > 0, got %v", m.LaunchBackoff)
	case m.LaunchBackoffMax < m.LaunchBackoff:
		return fmt.Errorf("--launch-backoff-max (RELAY_MESOS_LAUNCH_BACKOFF_MAX) must be >= --launch-backoff %v, got %v", m.LaunchBackoff, m.LaunchBackoffMax)
	}
	for _, e := range m.EnvList() {
		if k, _, ok := strings.Cut(e, "="); !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("--env (RELAY_MESOS_ENV): %q is not KEY=VAL", e)
		}
	}
	return nil
}

// HA is leader election, checkpoints and the operator endpoints.
type HA struct {
	ZK                   string        `env:"RELAY_MESOS_ZK" help:"ZooKeeper for leader election and checkpoints: zk://host:port,.../relay-mesos/NAME (empty: one replica, state in --state-dir)."`
	ZKSessionTimeout     time.Duration `env:"RELAY_MESOS_ZK_SESSION_TIMEOUT" default:"10s" help:"ZooKeeper session timeout; bounds failover after a crash."`
	ZKAuthFile           string        `env:"RELAY_MESOS_ZK_AUTH_FILE" type:"path" help:"File holding user:password for ZooKeeper digest auth; nodes get ACLs for that identity."`
	StateDir             string        `env:"RELAY_MESOS_STATE_DIR" default:"./relay-mesos-state" help:"Directory of the file state store (used when --zk is empty) and the local master's work dir."`
	CheckpointInterval   time.Duration `env:"RELAY_MESOS_CHECKPOINT_INTERVAL" default:"1s" help:"Least time between two checkpoints of the controller state."`
	ExitOnLeadershipLoss bool          `env:"RELAY_MESOS_EXIT_ON_LEADERSHIP_LOSS" help:"Exit (status 1) when leadership is lost, for supervisors that restart; default is to campaign again."`
	FailoverDrill        time.Duration `env:"RELAY_MESOS_FAILOVER_DRILL" default:"0s" help:"If > 0, the leader hands off leadership at this interval, to exercise failover."`
	Listen               string        `env:"RELAY_MESOS_LISTEN" default:"127.0.0.1:8080" help:"Address of /metrics, /healthz, /readyz, /status, /leader and the dashboard."`
	Advertise            string        `env:"RELAY_MESOS_ADVERTISE" help:"Address other replicas and operators use to reach this one (default: --listen)."`
}

// Validate rejects values that cannot work, naming the flag.
func (h HA) Validate() error {
	switch {
	case h.ZK != "" && !strings.HasPrefix(h.ZK, "zk://"):
		return fmt.Errorf("--zk (RELAY_MESOS_ZK) must look like zk://host:port,.../path, got %q", h.ZK)
	case h.ZKSessionTimeout < time.Second:
		return fmt.Errorf("--zk-session-timeout (RELAY_MESOS_ZK_SESSION_TIMEOUT) must be >= 1s, got %v", h.ZKSessionTimeout)
	case h.CheckpointInterval <= 0:
		return fmt.Errorf("--checkpoint-interval (RELAY_MESOS_CHECKPOINT_INTERVAL) must be > 0, got %v", h.CheckpointInterval)
	case h.FailoverDrill < 0:
		return fmt.Errorf("--failover-drill (RELAY_MESOS_FAILOVER_DRILL) must be >= 0, got %v", h.FailoverDrill)
	case strings.TrimSpace(h.Listen) == "":
		return errors.New("--listen (RELAY_MESOS_LISTEN) is required")
	}
	return nil
}

// Tracing is the per-tick controller trace (loop.Trace). Only the leader ticks, so only the
// leader writes; every replica writes its own file (give each its own path, e.g. with
// $MESOS_TASK_ID or $HOST in it).
type Tracing struct {
	TraceFile     string `env:"RELAY_TRACE_FILE" placeholder:"FILE" help:"Write one JSON line per tick (what the controller saw, decided and learned) to this file; its directory must exist. $VAR and $${VAR} are expanded from the environment: each replica needs its own path (trace-$MESOS_TASK_ID.jsonl). Empty: no trace."`
	TraceMaxBytes int64  `env:"RELAY_TRACE_MAX_BYTES" default:"67108864" help:"Size at which the trace file is renamed to FILE.1 (replacing an older one) and a new FILE started: at most twice this on disk."`
}

// Validate rejects values that cannot work, naming the flag.
func (t Tracing) Validate() error {
	if t.TraceMaxBytes <= 0 {
		return fmt.Errorf("--trace-max-bytes (RELAY_TRACE_MAX_BYTES) must be > 0, got %d", t.TraceMaxBytes)
	}
	return nil
}

// Run is the replica.
type Run struct {
	Control `embed:""`
	Mesos   `embed:""`
	HA      `embed:""`
	Tracing `embed:""`
}

// Validate checks every group.
func (r *Run) Validate() error {
	for _, v := range []interface{ Validate() error }{r.Control, r.Mesos, r.HA, r.Tracing} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Simulate runs one scenario.
type Simulate struct {
	Scenario string `required:"" type:"existingfile" help:"Scenario file (../shared/scenarios/FORMAT.md)."`
	Plot     string `help:"Also draw SP, PV and actions to this PNG file."`
	Trace    string `placeholder:"FILE" help:"Also write the controller's per-tick trace (JSON lines, as run --trace-file writes it) to this file, replacing it."`
}

// BenchControl runs scenario directories.
type BenchControl struct {
	Dirs []string `arg:"" optional:"" help:"Directories of scenario files."`
}

// MesosLocal is the standalone embedded master.
type MesosLocal struct {
	Listen    string `env:"RELAY_MESOS_LOCAL_LISTEN" default:"127.0.0.1:5050" help:"Address of the master's HTTP API."`
	Resources string `env:"RELAY_MESOS_LOCAL_RESOURCES" default:"cpus:4;mem:4096;disk:10000" help:"Resources of the single agent."`
	WorkDir   string `env:"RELAY_MESOS_LOCAL_WORK_DIR" default:"./mesos-local" help:"Work dir: task sandboxes and the state that survives a restart."`
	Admin     bool   `env:"RELAY_MESOS_LOCAL_ADMIN" help:"Enable the /admin/ fault hooks (tests and chaos only)."`
}

// Env prints the environment variables.
type Env struct{}

// EnvVar is one flag of the run command (or a global flag) with its environment variable.
type EnvVar struct {
	Env, Flag, Default, Help string
}

// Parser builds the kong parser of the whole command line.
func Parser(cli *CLI, opts ...kong.Option) (*kong.Kong, error) {
	base := []kong.Option{
		kong.Name("relay-mesos"),
		kong.Description("A thermostat for distributed systems, run as a highly available Apache Mesos framework."),
		kong.UsageOnError(),
	}
	return kong.New(cli, append(base, opts...)...)
}

// EnvVars lists every environment variable of the run command and the global flags, as kong
// sees them, sorted by name.
func EnvVars() []EnvVar {
	k, err := Parser(&CLI{})
	if err != nil {
		panic(fmt.Sprintf("config: the CLI grammar is invalid: %v", err)) // a programming error, caught by tests
	}
	seen := map[string]bool{}
	var out []EnvVar
	add := func(flags []*kong.Flag) {
		for _, f := range flags {
			for _, e := range f.Envs {
				if !seen[e] {
					seen[e] = true
					out = append(out, EnvVar{Env: e, Flag: "--" + f.Name, Default: f.Default, Help: f.Help})
				}
			}
		}
	}
	add(k.Model.Flags)
	for _, n := range k.Model.Children {
		if n.Name == "run" {
			add(n.Flags)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out
}
