package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTickSetsDecisionLedgerAndGranted(t *testing.T) {
	m := New(prometheus.NewRegistry())
	t0 := time.Unix(1000, 0)
	m.Tick(TickReport{Time: t0, Metric: 10, Target: 20, MetricOK: true, TargetOK: true,
		Requested: KindUnits{Warmer: 3}, Took: 20 * time.Millisecond,
		Terms: map[string]float64{"drift": -0.5, "warmer_per_unit": 2}})
	// The next tick: one of the three was not launched.
	m.Tick(TickReport{Time: t0.Add(time.Second), Metric: 12, Target: 20, MetricOK: true, TargetOK: true,
		Ledger:    Ledger{Warmer: TaskCounts{Ungranted: 1, Pending: 2, Running: 4}, Cooler: TaskCounts{Running: 1}},
		Requested: KindUnits{Warmer: 1}, Starved: true})

	for _, c := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"units requested (3 + 1)", m.requested.WithLabelValues("warmer"), 4},
		{"units granted (3 asked, 1 ungranted)", m.granted.WithLabelValues("warmer"), 2},
		{"decision units now", m.decision.WithLabelValues("warmer"), 1},
		{"ungranted", m.tasks.WithLabelValues("warmer", "ungranted"), 1},
		{"pending", m.tasks.WithLabelValues("warmer", "pending"), 2},
		{"running", m.tasks.WithLabelValues("warmer", "running"), 4},
		{"cooler running", m.tasks.WithLabelValues("cooler", "running"), 1},
		{"error", m.errorG, 8},
		{"drift term", m.terms.WithLabelValues("drift"), -0.5},
		{"per-unit term", m.terms.WithLabelValues("warmer_per_unit"), 2},
		{"ticks", m.ticks, 2},
		{"starved", m.starved, 1},
		{"last tick", m.lastTick, 1001},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.terms.WithLabelValues("cooler_lag")); !math.IsNaN(got) {
		t.Errorf("a term never reported = %v, want NaN", got)
	}
	h := m.History()
	if h[1].Granted.Warmer != 2 || h[1].Requested.Warmer != 1 || h[1].Running.Warmer != 4 || h[1].Pending.Warmer != 2 {
		t.Errorf("history point = %+v", h[1])
	}
}

func TestStarvationTimeAndStreak(t *testing.T) {
	m := New(prometheus.NewRegistry())
	t0 := time.Unix(1000, 0)
	starved := []bool{false, true, true, true, false}
	// Starvation starts when the request of tick 0 goes unfilled: by tick 3 it has lasted
	// 3 s (ticks are 1 s apart), and the counter holds the same 3 s.
	wantStreak := []float64{0, 1, 2, 3, 0}
	for i, s := range starved {
		r := tick(t0.Add(time.Duration(i)*time.Second), 1, true)
		r.Starved = s
		m.Tick(r)
		if got := testutil.ToFloat64(m.starvedStreak); got != wantStreak[i] {
			t.Errorf("tick %d: streak = %v s, want %v", i, got, wantStreak[i])
		}
	}
	if got := testutil.ToFloat64(m.starvedSeconds); got != 3 {
		t.Errorf("starved seconds = %v, want 3", got)
	}
	var msgs []string
	for _, e := range m.Events() {
		if e.Kind == EventStarvation {
			msgs = append(msgs, e.Message)
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[1], "after 3s") {
		t.Errorf("starvation events = %q, want a start and an end after 3s", msgs)
	}
	// A pause longer than maxTickGap is not counted as starved time.
	r := tick(t0.Add(time.Hour), 1, true)
	r.Starved = true
	m.Tick(r)
	if got := testutil.ToFloat64(m.starvedSeconds); got != 3 {
		t.Errorf("starved seconds = %v after a one-hour pause, want still 3", got)
	}
}

func TestLeadershipLifecycle(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.LeaderSeen("a", 1) // the first leader seen is not a change
	m.LeaderSeen("a", 1)
	m.LeaderSeen("b", 2)
	m.LeaderSeen("", 0)
	if got := testutil.ToFloat64(m.leaderKnown); got != 0 {
		t.Errorf("leader_known = %v with no leader", got)
	}
	m.LeaderSeen("c", 3)
	if got := testutil.ToFloat64(m.leaderChanges); got != 2 {
		t.Errorf("leader changes = %v, want 2 (a->b, b->c)", got)
	}
	if got := testutil.ToFloat64(m.leaderTerm); got != 3 {
		t.Errorf("leader term = %v, want 3", got)
	}

	m.LeadershipAcquired(4, true)
	if testutil.ToFloat64(m.isLeader) != 1 || testutil.ToFloat64(m.failovers) != 1 || testutil.ToFloat64(m.leaderTerm) != 4 {
		t.Error("is_leader, failovers_total or leader_term not set on takeover")
	}
	m.Tick(TickReport{Time: time.Unix(10, 0), Metric: 5, Target: 6, MetricOK: true, TargetOK: true,
		Ledger: Ledger{Warmer: TaskCounts{Running: 3}}, Starved: true})
	if p := m.History(); p[len(p)-1].Token != 4 {
		t.Errorf("history point token = %d, want the term 4", p[len(p)-1].Token)
	}
	m.Handoff("drill")
	m.LeadershipLost("drill")
	m.LeadershipLost("drill") // not leading: ignored
	if got := testutil.ToFloat64(m.leadershipLost.WithLabelValues("drill")); got != 1 {
		t.Errorf("leadership lost (drill) = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.handoffs.WithLabelValues("drill")); got != 1 {
		t.Errorf("handoffs (drill) = %v, want 1", got)
	}
	// A follower reports no controller values: NaN readings, zero tasks, not starved.
	if got := testutil.ToFloat64(m.metric); !math.IsNaN(got) {
		t.Errorf("metric = %v on a follower, want NaN", got)
	}
	if testutil.ToFloat64(m.isLeader) != 0 || testutil.ToFloat64(m.tasks.WithLabelValues("warmer", "running")) != 0 ||
		testutil.ToFloat64(m.starved) != 0 {
		t.Error("a follower still reports leader values")
	}
}

func TestZooKeeperStateGauge(t *testing.T) {
	clock := newFakeClock(time.Unix(5000, 0))
	m := New(prometheus.NewRegistry(), WithClock(clock.Now))
	check := func(want string) {
		t.Helper()
		for _, s := range zkStates {
			v := testutil.ToFloat64(m.zkState.WithLabelValues(s))
			if (s == want) != (v == 1) || (v != 0 && v != 1) {
				t.Errorf("zk_session_state{state=%q} = %v with the session %s", s, v, want)
			}
		}
	}
	check(ZKNone)
	m.ZKSession(ZKConnected)
	check(ZKConnected)
	clock.Add(3 * time.Second)
	m.ZKSession(ZKDisconnected)
	check(ZKDisconnected)
	m.ZKSession("StateSomethingNew")
	check(ZKUnknown)
	if st, since := m.ZKState(); st != ZKUnknown || !since.Equal(time.Unix(5003, 0)) {
		t.Errorf("ZKState = %s since %v", st, since)
	}
	m.ZKSessionLost()
	if got := testutil.ToFloat64(m.zkLosses); got != 1 {
		t.Errorf("session losses = %v", got)
	}
}

func TestCheckpointMetrics(t *testing.T) {
	clock := newFakeClock(time.Unix(7000, 0))
	m := New(prometheus.NewRegistry(), WithClock(clock.Now))
	m.CheckpointFailed(30*time.Millisecond, "fenced")
	m.CheckpointDone(10*time.Millisecond, 4096)
	if got := testutil.ToFloat64(m.ckptFailures.WithLabelValues("fenced")); got != 1 {
		t.Errorf("fenced failures = %v", got)
	}
	if testutil.ToFloat64(m.ckptBytes) != 4096 || testutil.ToFloat64(m.ckptTotal) != 1 || testutil.ToFloat64(m.ckptLast) != 7000 {
		t.Error("checkpoint bytes, total or timestamp wrong")
	}
	if n := testutil.CollectAndCount(m.ckptDuration); n != 1 {
		t.Errorf("checkpoint duration histogram series = %d", n)
	}
	ev := m.Events()
	if len(ev) != 2 || ev[1].Message != "checkpoints succeed again" {
		t.Errorf("events = %+v", ev)
	}
}

func TestErrorsAreKept(t *testing.T) {
	m := New(prometheus.NewRegistry(), WithEvents(2))
	m.Error("source", errString("one"))
	m.Error("mesos", errString("two"))
	m.Error("state", errString("three"))
	m.Error("x", nil)
	errs := m.Errors()
	if len(errs) != 2 || errs[0].Message != "two" || errs[1].Where != "state" {
		t.Errorf("errors = %+v, want the two newest", errs)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func BenchmarkTick(b *testing.B) {
	m := New(prometheus.NewRegistry())
	r := TickReport{Metric: 1, Target: 2, MetricOK: true, TargetOK: true, Requested: KindUnits{Warmer: 1},
		Terms: map[string]float64{"drift": 1, "warmer_per_unit": 2, "warmer_lag": 3}}
	t0 := time.Unix(0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Time = t0.Add(time.Duration(i) * time.Second)
		m.Tick(r)
	}
}
