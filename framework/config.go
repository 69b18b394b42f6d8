package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrConfig marks a configuration the scheduler cannot work with.
var ErrConfig = errors.New("framework config")

// Config is what the scheduler needs: where Mesos is, how the framework registers, and what
// one warmer or cooler task looks like.
type Config struct {
	// Master: host:port, http(s)://host:port, or zk://host:port,.../mesos.
	Master string
	// FrameworkInfo.
	Name, User, Principal, Secret, Role, Hostname, WebUIURL string
	Checkpoint                                              bool
	FailoverTimeout                                         time.Duration

	// Task is one unit's resources; Constraints filter agents by attribute.
	Task        Resources
	Constraints []Constraint

	// Warmer and Cooler are bash commands; CoolerKill makes a cooler unit a kill of the newest
	// running warmer task instead.
	Warmer, Cooler string
	CoolerKill     bool
	Env            map[string]string
	URIs           []string
	Docker         *Docker
	// MaxFailures: stop launching after this many failed tasks in a row (0 = never).
	MaxFailures int
	// LaunchBackoff delays the next launch of a kind after one of its tasks failed (TASK_FAILED
	// or TASK_ERROR for a reason of its own, not of its agent), doubling with each failure in
	// a row up to LaunchBackoffMax (defaults 1 s and 60 s); a task of the kind that finishes
	// clears it. Offers are declined meanwhile and the demand is reported ungranted.
	LaunchBackoff, LaunchBackoffMax time.Duration
	// KillGrace, if > 0, is the tasks' kill policy: time between SIGTERM and SIGKILL.
	KillGrace time.Duration

	// RefuseSeconds is the decline filter for offers that are not needed (default 5 s while
	// there is demand, 60 s without; SUPPRESS covers the rest).
	RefuseSeconds time.Duration
	// HeartbeatMisses: missed heartbeats before the stream is considered dead (default 5).
	HeartbeatMisses int
	// ReconcileWait bounds how long the first reconciliation may delay deciding (default 5 s).
	ReconcileWait time.Duration
	// ReconcileInterval is the periodic implicit reconciliation (default 10 min).
	ReconcileInterval time.Duration
	// LaunchTimeout: a launched task without any update this long is reconciled (default 60 s).
	LaunchTimeout time.Duration
	// CallTimeout bounds every call but SUBSCRIBE (default 20 s).
	CallTimeout time.Duration
	// Backoff bounds between subscription attempts (defaults 250 ms .. 15 s).
	MinBackoff, MaxBackoff time.Duration
	// Term is written into task labels (the leader's fencing token), for audits.
	Term int64
	// Clock is the scheduler's time (nil: time.Now). Tests inject one to control backoffs.
	Clock func() time.Time
}

// Docker runs tasks in a container image.
type Docker struct {
	Image      string
	Network    string // HOST, BRIDGE, NONE, USER
	ForcePull  bool
	Parameters map[string]string
	Volumes    []Volume
}

// Volume is host_path:container_path:mode.
type Volume struct {
	HostPath, ContainerPath string
	ReadOnly                bool
}

// Resources of one task.
type Resources struct {
	CPUs, Mem, Disk float64
}

// Constraint is one agent attribute constraint: attribute OP value, OP in EQ, LIKE, UNLIKE.
type Constraint struct {
	Attribute, Op, Value string
	re                   *regexp.Regexp
}

// WithDefaults fills in the defaults.
func (c Config) WithDefaults() Config {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Name == "" {
		c.Name = "relay-mesos"
	}
	if c.User == "" {
		c.User = currentUser()
	}
	if c.Role == "" {
		c.Role = "*"
	}
	def(&c.FailoverTimeout, 7*24*time.Hour)
	def(&c.RefuseSeconds, 5*time.Second)
	def(&c.ReconcileWait, 5*time.Second)
	def(&c.ReconcileInterval, 10*time.Minute)
	def(&c.LaunchTimeout, 60*time.Second)
	def(&c.CallTimeout, 20*time.Second)
	def(&c.MinBackoff, 250*time.Millisecond)
	def(&c.MaxBackoff, 15*time.Second)
	def(&c.LaunchBackoff, time.Second)
	def(&c.LaunchBackoffMax, 60*time.Second)
	if c.HeartbeatMisses <= 0 {
		c.HeartbeatMisses = 5
	}
	if c.Task == (Resources{}) {
		c.Task = Resources{CPUs: 0.1, Mem: 32}
	}
	return c
}

// Validate rejects what cannot work.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Master) == "" {
		return fmt.Errorf("%w: no Mesos master", ErrConfig)
	}
	if _, _, err := parseMaster(c.Master); err != nil {
		return err
	}
	switch {
	case c.Warmer == "" && c.Cooler == "" && !c.CoolerKill:
		return fmt.Errorf("%w: neither a warmer nor a cooler", ErrConfig)
	case c.CoolerKill && c.Warmer == "":
		return fmt.Errorf("%w: --cooler kill needs a warmer to kill", ErrConfig)
	case c.Task.CPUs < 0 || c.Task.Mem < 0 || c.Task.Disk < 0 || c.Task.CPUs+c.Task.Mem+c.Task.Disk == 0:
		return fmt.Errorf("%w: task resources must be >= 0 and not all zero", ErrConfig)
	case c.LaunchBackoffMax < c.LaunchBackoff:
		return fmt.Errorf("%w: launch backoff max %s is below the launch backoff %s", ErrConfig, c.LaunchBackoffMax, c.LaunchBackoff)
	}
	return nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

// ParseResources reads "cpus:0.1;mem:32;disk:0" (or the original "cpus=0.1,mem=32").
func ParseResources(spec string) (Resources, error) {
	var r Resources
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return r, nil
	}
	for _, part := range strings.FieldsFunc(spec, func(c rune) bool { return c == ';' || c == ',' }) {
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			k, v, ok = strings.Cut(part, "=")
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return r, fmt.Errorf("%w: task resources: %q is not NAME:NUMBER", ErrConfig, part)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "cpus":
			r.CPUs = f
		case "mem":
			r.Mem = f
		case "disk":
			r.Disk = f
		default:
			return r, fmt.Errorf("%w: task resources: unknown resource %q (cpus, mem, disk)", ErrConfig, k)
		}
	}
	return r, nil
}

// ParseConstraints reads "attr:OP:value,..." with OP one of EQ, LIKE (regexp), UNLIKE.
func ParseConstraints(spec string) ([]Constraint, error) {
	var out []Constraint
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.SplitN(part, ":", 3)
		if len(f) != 3 || f[0] == "" {
			return nil, fmt.Errorf("%w: constraint %q is not attribute:OP:value", ErrConfig, part)
		}
		c := Constraint{Attribute: f[0], Op: strings.ToUpper(f[1]), Value: f[2]}
		switch c.Op {
		case "EQ":
		case "LIKE", "UNLIKE":
			re, err := regexp.Compile("^(?:" + c.Value + ")$")
			if err != nil {
				return nil, fmt.Errorf("%w: constraint %q: %v", ErrConfig, part, err)
			}
			c.re = re
		default:
			return nil, fmt.Errorf("%w: constraint %q: operator %q is not EQ, LIKE or UNLIKE", ErrConfig, part, f[1])
		}
		out = append(out, c)
	}
	return out, nil
}

// Match reports whether an agent with these attributes (text values) satisfies c. The
// attribute "hostname" is the agent's hostname.
func (c Constraint) Match(attrs map[string]string) bool {
	v, ok := attrs[c.Attribute]
	switch c.Op {
	case "EQ":
		return ok && v == c.Value
	case "LIKE":
		return ok && c.re.MatchString(v)
	case "UNLIKE":
		return !ok || !c.re.MatchString(v)
	}
	return false
}

// ParseEnvFile reads KEY=VAL lines (blank lines and # comments skipped) into env.
func ParseEnvFile(path string, env map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: environment file: %v", ErrConfig, err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || strings.TrimSpace(k) == "" {
			entry := line
			if len(entry) > 40 {
				entry = entry[:40] + "..."
			}
			return fmt.Errorf("%w: environment file %s line %d: %q is not KEY=VAL", ErrConfig, path, i+1, entry)
		}
		env[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return nil
}

// ParseVolumes reads host_path:container_path:RO|RW,...
func ParseVolumes(spec string) ([]Volume, error) {
	var out []Volume
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, ":")
		if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
			return nil, fmt.Errorf("%w: volume %q is not host_path:container_path[:RO|RW]", ErrConfig, part)
		}
		v := Volume{HostPath: f[0], ContainerPath: f[1]}
		if len(f) == 3 {
			switch strings.ToUpper(f[2]) {
			case "RO":
				v.ReadOnly = true
			case "RW":
			default:
				return nil, fmt.Errorf("%w: volume %q: mode must be RO or RW", ErrConfig, part)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseParameters reads key=value,key=value docker parameters, or a JSON object of strings.
func ParseParameters(spec string) (map[string]string, error) {
	out := map[string]string{}
	if t := strings.TrimSpace(spec); strings.HasPrefix(t, "{") {
		if err := json.Unmarshal([]byte(t), &out); err != nil {
			return nil, fmt.Errorf("%w: docker parameters: not a JSON object of strings: %v", ErrConfig, err)
		}
		return out, nil
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: docker parameter %q is not key=value", ErrConfig, part)
		}
		out[k] = v
	}
	return out, nil
}
