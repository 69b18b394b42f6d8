package metrics

import (
	"strings"
	"sync"
)

// Label values that callers pass (task states, event types, error classes, source names) are
// normalised and bounded here, so that no caller can grow a metric's series without limit.

// otherLabel is the value every label takes once its set of distinct values is full.
const otherLabel = "other"

// maxLabelLen bounds one label value, in bytes.
const maxLabelLen = 40

// normLabel lowercases v, keeps [a-z0-9_] (anything else becomes '_'), strips a leading
// "task_" (Mesos task states) and bounds the length. Empty input gives "unknown".
func normLabel(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	v = strings.TrimPrefix(v, "task_")
	var b strings.Builder
	for _, r := range v {
		if b.Len() >= maxLabelLen {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// labelSet admits at most max distinct values of one label; later new values become
// "other". Safe for concurrent use.
type labelSet struct {
	mu   sync.Mutex
	seen map[string]bool
	max  int
	norm bool
}

// newLabelSet returns a set that starts with known (which count towards max).
func newLabelSet(max int, norm bool, known ...string) *labelSet {
	s := &labelSet{seen: map[string]bool{otherLabel: true}, max: max, norm: norm}
	for _, k := range known {
		s.seen[k] = true
	}
	return s
}

// value returns the label value to use for v.
func (s *labelSet) value(v string) string {
	if s.norm {
		v = normLabel(v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[v] {
		return v
	}
	if len(s.seen) >= s.max {
		return otherLabel
	}
	s.seen[v] = true
	return v
}

// Kinds are the two actions; any other kind is counted as "other".
var knownKinds = []string{"warmer", "cooler"}

// Task end states (Mesos TaskState without the TASK_ prefix, lowercased).
var knownTaskStates = []string{
	"finished", "failed", "killed", "lost", "error", "dropped", "gone", "gone_by_operator",
	"unreachable", "unknown",
}

// Mesos v1 scheduler event types, lowercased.
var knownMesosEvents = []string{
	"subscribed", "offers", "inverse_offers", "rescind", "rescind_inverse_offer", "update",
	"update_operation_status", "message", "failure", "error", "heartbeat", "unknown",
}

// Ledger states of the tasks gauge.
var ledgerStates = []string{"ungranted", "pending", "running"}

// Source miss classes pre-initialised on the metric and target sources.
var knownMissClasses = []string{"timeout", "command", "parse", "http", "invalid", "other"}

// Checkpoint failure classes pre-initialised.
var knownCheckpointClasses = []string{"fenced", "conflict", "encode", "zookeeper", "io", "other"}

// Leadership loss reasons pre-initialised.
var knownLossReasons = []string{"session_lost", "lock_lost", "fenced", "resigned", "drill", "shutdown", "error", "other"}

// ZooKeeper session states, one gauge series each (exactly one is 1).
const (
	// ZKNone: no ZooKeeper configured (a single standalone replica).
	ZKNone = "none"
	// ZKConnecting: no session yet, or reconnecting within the session timeout.
	ZKConnecting = "connecting"
	// ZKConnected: a live session.
	ZKConnected = "connected"
	// ZKDisconnected: the connection dropped; the session may still be alive on the server.
	ZKDisconnected = "disconnected"
	// ZKExpired: the server expired the session (ephemeral nodes are gone).
	ZKExpired = "expired"
	// ZKAuthFailed: authentication was rejected.
	ZKAuthFailed = "auth_failed"
	// ZKClosed: the client closed the session (shutdown).
	ZKClosed = "closed"
	// ZKUnknown: a state ZKSession did not recognise.
	ZKUnknown = "unknown"
)

var zkStates = []string{ZKNone, ZKConnecting, ZKConnected, ZKDisconnected, ZKExpired, ZKAuthFailed, ZKClosed, ZKUnknown}

// Known controller term names: the JSON names of loop.Terms. Other names are accepted up to
// maxTerms in all.
var knownTerms = []string{
	"drift", "warmer_per_unit", "cooler_per_unit", "warmer_lag", "warmer_life", "cooler_lag", "cooler_life",
}

const maxTerms = 16
