package localmaster

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"
)

// Config configures the embedded master+agent. The zero value plus a WorkDir is usable;
// Defaults fills in the rest.
type Config struct {
	// Listen is the TCP address of the HTTP API, "127.0.0.1:0" for a free port (default).
	Listen string
	// Resources is the agent's total, "cpus:4;mem:4096;disk:10000;ports:[31000-32000]"
	// (also "cpus=4,mem=4096"). Default "cpus:4;mem:4096;disk:10000;ports:[31000-32000]".
	Resources string
	// WorkDir holds task sandboxes (WorkDir/sandboxes/<framework>/<task>/) and the persisted
	// registry (WorkDir/registry.json). A new Master on the same WorkDir recovers from it.
	// Empty means a fresh temporary directory (no recovery possible).
	WorkDir string
	// Admin enables the /admin/ fault hooks.
	Admin bool
	// Heartbeat is the HEARTBEAT interval announced in SUBSCRIBED and used on every stream.
	// Default 15s, as in Mesos.
	Heartbeat time.Duration
	// OfferInterval is the allocation cadence. Default 200ms.
	OfferInterval time.Duration
	// Hostname is the agent hostname put in offers. Default "127.0.0.1".
	Hostname string

	// UpdateRetry is the first retry interval of an unacknowledged status update; it doubles
	// up to 10 minutes, as the Mesos agent does. Default 10s.
	UpdateRetry time.Duration
	// MaxStarting bounds how many tasks are being launched (sandbox made, URIs fetched,
	// process forked and exec'd) at once; the rest of a burst of launches waits its turn. Default 2 per CPU (Go forks one process
	// at a time anyway; more only adds threads competing for the CPUs).
	MaxStarting int
	// KillTasksOnExit makes Run kill every task process before it returns. By default task
	// processes are left running (they are detached), so that a Master restarted on the same
	// WorkDir adopts them, as a framework with a failover_timeout expects.
	KillTasksOnExit bool
}

// DefaultResources is the agent's total when Config.Resources is empty.
const DefaultResources = "cpus:4;mem:4096;disk:10000;ports:[31000-32000]"

// Defaults returns cfg with every empty field set to its default.
func (cfg Config) Defaults() Config {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Resources == "" {
		cfg.Resources = DefaultResources
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.OfferInterval <= 0 {
		cfg.OfferInterval = 200 * time.Millisecond
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "127.0.0.1"
	}
	if cfg.UpdateRetry <= 0 {
		cfg.UpdateRetry = 10 * time.Second
	}
	if cfg.MaxStarting <= 0 {
		cfg.MaxStarting = 2 * runtime.NumCPU()
	}
	return cfg
}

// Validate reports the first invalid field of a defaulted Config.
func (cfg Config) Validate() error {
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return fmt.Errorf("listen %q: %w", cfg.Listen, err)
	}
	if _, err := parseResources(cfg.Resources); err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	if cfg.Heartbeat < time.Millisecond {
		return errors.New("heartbeat: must be at least 1ms")
	}
	if cfg.OfferInterval < time.Millisecond {
		return errors.New("offer interval: must be at least 1ms")
	}
	return nil
}
