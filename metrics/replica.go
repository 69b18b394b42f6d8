package metrics

import (
	"fmt"
	"time"
)

// This file holds the replica's methods: leadership, ZooKeeper session, checkpoints.

func (m *Metrics) buildReplica(f *factory) {
	m.isLeader = f.gauge("is_leader", "1 while this replica is the acting leader (or runs standalone), else 0.")
	m.leaderTerm = f.gauge("leader_term", "Fencing token (term) of the leader as this replica last saw it (0 before any).")
	m.leaderKnown = f.gauge("leader_known", "1 while this replica knows who the leader is, else 0.")
	m.leaderChanges = f.counter("leader_changes_total", "Changes of the leader (id or term) seen by this replica.")
	m.leadershipAcquired = f.counter("leadership_acquired_total", "Times this replica became the leader.")
	m.leadershipLost = f.counterVec("leadership_lost_total",
		"Times this replica stopped leading, by reason (session_lost, lock_lost, fenced, resigned, drill, shutdown, error, other).",
		"reason")
	m.failovers = f.counter("failovers_total", "Times this replica took over from another leader and resumed from its checkpoint.")
	m.handoffs = f.counterVec("handoffs_total", "Times this replica gave leadership away on purpose, by reason (drill, resign, shutdown).", "reason")
	m.zkState = f.gaugeVec("zk_session_state",
		"1 for the current ZooKeeper session state (none, connecting, connected, disconnected, expired, auth_failed, closed, unknown), 0 for the others.",
		"state")
	m.zkLosses = f.counter("zk_session_losses_total", "ZooKeeper sessions lost (expired, or disconnected past the bound).")
	m.ckptDuration = f.histogram("checkpoint_duration_seconds", "Duration of one checkpoint write, successful or not.",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})
	m.ckptBytes = f.gauge("checkpoint_bytes", "Size of the latest checkpoint written, in bytes.")
	m.ckptLast = f.gauge("last_checkpoint_timestamp_seconds", "Unix time of the latest successful checkpoint (0 before any).")
	m.ckptTotal = f.counter("checkpoints_total", "Checkpoints written.")
	m.ckptFailures = f.counterVec("checkpoint_failures_total",
		"Failed checkpoint writes, by class (fenced, conflict, encode, zookeeper, io, other).", "class")
}

// LeadershipAcquired records that this replica now leads with fencing token (0 when
// standalone). failover is true when it took over from another leader and resumed from that
// leader's checkpoint. Call it before the first tick of the term.
func (m *Metrics) LeadershipAcquired(token int64, failover bool) {
	at := m.now()
	m.isLeader.Set(1)
	m.leaderKnown.Set(1)
	m.leaderTerm.Set(float64(token))
	m.leadershipAcquired.Inc()
	if failover {
		m.failovers.Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.leading, m.st.token = true, token
	m.resetControllerLocked()
	if failover {
		m.eventLocked(at, EventFailover, fmt.Sprintf("took over as leader (term %d) and resumed from the last checkpoint", token))
	} else {
		m.eventLocked(at, EventLeadership, fmt.Sprintf("became leader (term %d)", token))
	}
}

// LeadershipLost records that this replica stopped leading, for reason (session_lost,
// lock_lost, fenced, resigned, drill, shutdown, error; other words are bounded). The
// controller gauges become NaN/0: only a leader reports them. No-op when not leading.
func (m *Metrics) LeadershipLost(reason string) {
	r := m.lossReasons.value(reason)
	at := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.st.leading {
		return
	}
	m.st.leading = false
	m.isLeader.Set(0)
	m.leadershipLost.WithLabelValues(r).Inc()
	m.resetControllerLocked()
	m.eventLocked(at, EventLeadership, fmt.Sprintf("stopped leading (term %d): %s", m.st.token, r))
}

// Handoff records that the leader gives leadership away on purpose, for reason (drill,
// resign, shutdown). Call LeadershipLost too when it is done.
func (m *Metrics) Handoff(reason string) {
	r := m.handoffWhys.value(reason)
	m.handoffs.WithLabelValues(r).Inc()
	m.event(m.now(), EventFailover, "handing off leadership: "+r)
}

// LeaderSeen records the leader as the election nodes show it (id "" when none is known).
// A change from one known leader (id or token) to another counts as a leader change; the
// first leader a replica sees does not.
func (m *Metrics) LeaderSeen(id string, token int64) {
	at := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if id == "" {
		if m.leaderKnownLocked() {
			m.eventLocked(at, EventLeadership, "no leader known")
		}
		m.leaderKnown.Set(0)
		m.st.leaderID = "" // keep leaderToken to compare with the next leader
		return
	}
	prevID, prevToken := m.st.leaderID, m.st.leaderToken
	m.st.leaderID, m.st.leaderToken = id, token
	m.leaderKnown.Set(1)
	m.leaderTerm.Set(float64(token))
	if prevID == id && prevToken == token {
		return
	}
	if m.st.leaderSeen && (prevToken != token || (prevID != "" && prevID != id)) {
		m.leaderChanges.Inc()
	}
	m.st.leaderSeen = true
	m.eventLocked(at, EventLeadership, fmt.Sprintf("leader is %s (term %d)", id, token))
}

func (m *Metrics) leaderKnownLocked() bool { return m.st.leaderID != "" }

// ZKSession records the ZooKeeper session state: one of the ZK* constants (anything else
// is "unknown").
func (m *Metrics) ZKSession(state string) {
	s := state
	switch state {
	case ZKNone, ZKConnecting, ZKConnected, ZKDisconnected, ZKExpired, ZKAuthFailed, ZKClosed:
	default:
		s = ZKUnknown
	}
	at := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if s == m.st.zk {
		return
	}
	prev := m.st.zk
	m.st.zk, m.st.zkSince = s, at
	m.setZKGauge(s)
	if prev == ZKConnected || s == ZKConnected || s == ZKExpired || s == ZKAuthFailed {
		m.eventLocked(at, EventZooKeeper, "ZooKeeper session "+s)
	}
}

// ZKState returns the latest session state and since when it holds (zero time before any
// call to ZKSession).
func (m *Metrics) ZKState() (state string, since time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.zk, m.st.zkSince
}

func (m *Metrics) setZKGauge(s string) {
	for _, z := range zkStates {
		m.zkState.WithLabelValues(z).Set(b2f(z == s))
	}
}

// ZKSessionLost counts one lost session (expired, or disconnected past the bound the
// election uses).
func (m *Metrics) ZKSessionLost() {
	m.zkLosses.Inc()
	m.event(m.now(), EventZooKeeper, "ZooKeeper session lost")
}

// CheckpointDone records a successful checkpoint write of size bytes that took took.
func (m *Metrics) CheckpointDone(took time.Duration, bytes int) {
	m.ckptDuration.Observe(took.Seconds())
	m.ckptBytes.Set(float64(bytes))
	m.ckptTotal.Inc()
	at := m.now()
	m.ckptLast.Set(float64(at.UnixNano()) / 1e9)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.ckptFailing {
		m.st.ckptFailing = false
		m.eventLocked(at, EventCheckpoint, "checkpoints succeed again")
	}
}

// CheckpointFailed records a failed checkpoint write of class (fenced, conflict, encode,
// zookeeper, io, other) that took took.
func (m *Metrics) CheckpointFailed(took time.Duration, class string) {
	c := m.ckptClasses.value(class)
	m.ckptDuration.Observe(took.Seconds())
	m.ckptFailures.WithLabelValues(c).Inc()
	at := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.ckptFailing = true
	m.eventLocked(at, EventCheckpoint, "checkpoint failed: "+c)
}

// Leading reports whether LeadershipAcquired was called without a LeadershipLost since.
func (m *Metrics) Leading() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.leading
}
