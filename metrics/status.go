package metrics

import (
	"encoding/json"
	"time"
)

// Roles of a replica.
const (
	// RoleLeader: holds the lock, subscribes to Mesos and decides.
	RoleLeader = "leader"
	// RoleFollower: a standby that knows the leader.
	RoleFollower = "follower"
	// RoleCandidate: campaigning, leader unknown (starting, or the session was lost).
	RoleCandidate = "candidate"
	// RoleStandalone: no ZooKeeper; the only replica, it leads on its own.
	RoleStandalone = "standalone"
)

// Status is what /status serves: one replica's view of itself and of the cluster. The
// StatusProvider fills it; the server adds Time, the recent Events and Errors kept by
// Metrics, the ledger Total, and ZooKeeper from Metrics when the provider left its State
// empty.
type Status struct {
	// Role is one of the Role* constants.
	Role string `json:"role"`
	// ID and Address identify this replica (Address: --advertise, host:port).
	ID      string `json:"id"`
	Address string `json:"address"`
	// Leader is the leader as this replica sees it in the election nodes (nil: none known).
	Leader *LeaderInfo `json:"leader"`
	// FrameworkID is the Mesos FrameworkID (empty before the first subscription).
	FrameworkID string      `json:"framework_id"`
	Mesos       MesosStatus `json:"mesos"`
	ZooKeeper   ZKStatus    `json:"zookeeper"`
	// Controller is the controller's state as the provider chooses to show it (opaque JSON,
	// e.g. loop.Terms); absent on a follower.
	Controller json.RawMessage `json:"controller,omitempty"`
	Ledger     LedgerSummary   `json:"ledger"`
	// Resumed is what this leader's term restored from the checkpoint (nil: started fresh, or
	// not leading): the token of the checkpoint's writer and the controller terms it held.
	Resumed *ResumeInfo `json:"resumed,omitempty"`
	// Sources is the health of the metric and target sources (opaque JSON: misses in a row,
	// last error per source), so that a run of misses is visible.
	Sources json.RawMessage `json:"sources,omitempty"`
	// Errors and Events: the provider's own, followed by those Metrics keeps, oldest first.
	Errors []ErrorNote `json:"errors"`
	Events []Event     `json:"events"`
	// Time is when the server took this status.
	Time time.Time `json:"time"`
}

// LeaderInfo names the leader.
type LeaderInfo struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// Token is the leader's fencing token (term).
	Token int64 `json:"token"`
}

// MesosStatus is this replica's connection to Mesos.
type MesosStatus struct {
	// Master is the master's address as configured or discovered.
	Master string `json:"master,omitempty"`
	// Subscribed: a live subscription (SUBSCRIBED received, heartbeats arriving).
	Subscribed bool `json:"subscribed"`
	// Deciding: reconciliation is done and the controller ticks.
	Deciding bool `json:"deciding"`
}

// ZKStatus is this replica's ZooKeeper session.
type ZKStatus struct {
	// State is one of the ZK* constants.
	State string `json:"state"`
	// Since is when the session entered State (zero: since start).
	Since time.Time `json:"since"`
	// LostSeconds is how long the session has not been connected (0 while connected or
	// without ZooKeeper). The server computes it from State and Since.
	LostSeconds float64 `json:"lost_seconds"`
}

// LedgerSummary is the task ledger per kind and in total.
type LedgerSummary struct {
	Warmer TaskCounts `json:"warmer"`
	Cooler TaskCounts `json:"cooler"`
	// Total is computed by the server.
	Total TaskCounts `json:"total"`
}

// StatusProvider gives the replica's status. Status is called on HTTP handler goroutines,
// concurrently; it must be cheap and must not block.
type StatusProvider interface {
	Status() Status
}

// StatusFunc adapts a function to StatusProvider.
type StatusFunc func() Status

// Status calls f.
func (f StatusFunc) Status() Status { return f() }

// zkLost reports whether the session is not usable in state (no ZooKeeper is never lost).
func zkLost(state string) bool { return state != ZKConnected && state != ZKNone && state != "" }

// ResumeInfo is the checkpoint a leader's term resumed from.
type ResumeInfo struct {
	// Term is the resuming leader's fencing token; FromToken the checkpoint writer's.
	Term      int64           `json:"term"`
	FromToken int64           `json:"from_token"`
	WrittenAt time.Time       `json:"written_at"`
	Terms     json.RawMessage `json:"terms"`
}
