package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ExportedNames is every metric name the package exports (the deploy tests compare the
// Prometheus rules and the Grafana dashboard against the binary's /metrics).
var exportedNames = []string{
	"relay_mesos_offers_received_total", "relay_mesos_offers_declined_total", "relay_mesos_offers_used_total",
	"relay_mesos_offers_rescinded_total", "relay_mesos_offer_to_accept_seconds", "relay_mesos_tasks_launched_total",
	"relay_mesos_tasks_ended_total", "relay_mesos_task_kills_total", "relay_mesos_mesos_events_total",
	"relay_mesos_mesos_problems_total", "relay_mesos_mesos_disconnects_total", "relay_mesos_mesos_subscribed",
	"relay_mesos_mesos_subscriptions_total", "relay_mesos_framework_info", "relay_mesos_launch_backoff_seconds",
	"relay_mesos_metric", "relay_mesos_metric_refresh_ticks", "relay_mesos_target", "relay_mesos_error", "relay_mesos_controller_term",
	"relay_mesos_decision_units", "relay_mesos_units_requested_total", "relay_mesos_units_granted_total",
	"relay_mesos_tasks", "relay_mesos_starved", "relay_mesos_starvation_streak_seconds",
	"relay_mesos_starved_seconds_total", "relay_mesos_ticks_total", "relay_mesos_tick_misses_total",
	"relay_mesos_tick_duration_seconds", "relay_mesos_last_tick_timestamp_seconds", "relay_mesos_source_misses_total",
	"relay_mesos_is_leader", "relay_mesos_leader_term", "relay_mesos_leader_known", "relay_mesos_leader_changes_total",
	"relay_mesos_leadership_acquired_total", "relay_mesos_leadership_lost_total", "relay_mesos_failovers_total",
	"relay_mesos_handoffs_total", "relay_mesos_zk_session_state", "relay_mesos_zk_session_losses_total",
	"relay_mesos_checkpoint_duration_seconds", "relay_mesos_checkpoint_bytes",
	"relay_mesos_last_checkpoint_timestamp_seconds", "relay_mesos_checkpoints_total",
	"relay_mesos_checkpoint_failures_total",
}

func gatherNames(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func TestEveryNameExportedFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	got := gatherNames(t, reg)
	for _, n := range exportedNames {
		if _, ok := got[n]; !ok {
			t.Errorf("%s is not in /metrics before any call", n)
		}
	}
	for n := range got {
		if strings.HasPrefix(n, "relay_mesos_") && !contains(exportedNames, n) {
			t.Errorf("%s is exported but not in the test's list (add it to the report and the deploy files)", n)
		}
	}
	for _, n := range []string{"go_goroutines", "process_open_fds"} {
		if _, ok := got[n]; !ok {
			t.Errorf("%s missing: the Go and process collectors are not registered", n)
		}
	}
	// Before the first tick the readings are NaN, not 0.
	for _, n := range []string{"relay_mesos_metric", "relay_mesos_target", "relay_mesos_error"} {
		if v := got[n].GetMetric()[0].GetGauge().GetValue(); !math.IsNaN(v) {
			t.Errorf("%s = %v before any tick, want NaN", n, v)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestNewTwiceOnOneRegistryKeepsCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector()) //nolint:staticcheck // a caller that registered its own
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("New panicked on a registry that already has the Go collector: %v", r)
		}
	}()
	New(reg)
}

func TestFrameworkMethodsGiveExactSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.OffersReceived(5)
	m.OffersReceived(0)
	m.OffersDeclined(3)
	m.OffersUsed(2)
	m.OfferRescinded()
	m.OfferToAccept(0.02)
	m.TaskLaunched("warmer")
	m.TaskLaunched("warmer")
	m.TaskLaunched("cooler")
	m.TaskEnded("warmer", "TASK_FAILED")
	m.TaskEnded("warmer", "finished")
	m.TaskKillSent("cooler")
	m.LaunchBackoff("warmer", 4)
	m.MesosEvent("OFFERS")
	m.MesosEvent("HEARTBEAT")
	m.MesosEvent("HEARTBEAT")
	m.MesosProblem("call_failed")
	m.Subscribed("fw-1")
	m.Disconnected("heartbeat_timeout")

	for _, c := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"offers received", m.offersReceived, 5},
		{"offers declined", m.offersDeclined, 3},
		{"offers used", m.offersUsed, 2},
		{"offers rescinded", m.offersRescinded, 1},
		{"warmers launched", m.tasksLaunched.WithLabelValues("warmer"), 2},
		{"coolers launched", m.tasksLaunched.WithLabelValues("cooler"), 1},
		{"TASK_FAILED is failed", m.tasksEnded.WithLabelValues("warmer", "failed"), 1},
		{"finished", m.tasksEnded.WithLabelValues("warmer", "finished"), 1},
		{"cooler kills", m.taskKills.WithLabelValues("cooler"), 1},
		{"warmer launch backoff", m.launchBackoff.WithLabelValues("warmer"), 4},
		{"no cooler launch backoff", m.launchBackoff.WithLabelValues("cooler"), 0},
		{"heartbeats", m.mesosEvents.WithLabelValues("heartbeat"), 2},
		{"offers events", m.mesosEvents.WithLabelValues("offers"), 1},
		{"problems", m.mesosProblems.WithLabelValues("call_failed"), 1},
		{"subscriptions", m.mesosSubscriptions, 1},
		{"subscribed after disconnect", m.mesosSubscribed, 0},
		{"disconnects", m.mesosDisconnects.WithLabelValues("heartbeat_timeout"), 1},
		{"framework id", m.frameworkInfo.WithLabelValues("fw-1"), 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.frameworkInfo); n != 1 {
		t.Errorf("framework_info has %d series, want 1 (the current ID only)", n)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP relay_mesos_offer_to_accept_seconds Seconds from receiving an offer to accepting it.
# TYPE relay_mesos_offer_to_accept_seconds histogram
relay_mesos_offer_to_accept_seconds_bucket{le="0.001"} 0
relay_mesos_offer_to_accept_seconds_bucket{le="0.005"} 0
relay_mesos_offer_to_accept_seconds_bucket{le="0.01"} 0
relay_mesos_offer_to_accept_seconds_bucket{le="0.025"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="0.05"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="0.1"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="0.25"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="0.5"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="1"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="2.5"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="5"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="10"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="30"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="60"} 1
relay_mesos_offer_to_accept_seconds_bucket{le="+Inf"} 1
relay_mesos_offer_to_accept_seconds_sum 0.02
relay_mesos_offer_to_accept_seconds_count 1
`), "relay_mesos_offer_to_accept_seconds"); err != nil {
		t.Error(err)
	}
}

func TestLabelValuesAreBounded(t *testing.T) {
	m := New(prometheus.NewRegistry())
	for i := 0; i < 500; i++ {
		m.TaskEnded(fmt.Sprintf("kind-%d", i), fmt.Sprintf("TASK_WEIRD_%d", i))
		m.MesosProblem(fmt.Sprintf("class %d", i))
		m.SourceMiss(fmt.Sprintf("source%d", i), fmt.Sprintf("class%d", i))
		m.Tick(TickReport{Time: time.Unix(int64(i), 0), Terms: map[string]float64{fmt.Sprintf("t%d", i): 1}})
	}
	for _, c := range []struct {
		name string
		c    prometheus.Collector
		max  int
	}{
		{"tasks_ended (3 kinds x 16 states)", m.tasksEnded, 3 * 16},
		{"mesos_problems", m.mesosProblems, 16},
		{"source_misses (32 sources x 12 classes)", m.sourceMisses, 32 * 12},
		{"controller_term", m.terms, maxTerms},
	} {
		if n := testutil.CollectAndCount(c.c); n > c.max {
			t.Errorf("%s has %d series after 500 distinct values, want <= %d", c.name, n, c.max)
		}
	}
	if got := testutil.ToFloat64(m.tasksEnded.WithLabelValues("other", "other")); got == 0 {
		t.Error("values past the bound are not counted as other")
	}
}

func tick(at time.Time, metric float64, ok bool) TickReport {
	return TickReport{Time: at, Metric: metric, Target: 50, MetricOK: ok, TargetOK: true}
}

// The metric's refresh period found by the runner is exported as it comes, and back to 0.
func TestMetricRefreshTicksFollowsTheTicks(t *testing.T) {
	m := New(prometheus.NewRegistry())
	t0 := time.Unix(1000, 0)
	for i, every := range []int{0, 15, 15, 0} {
		r := tick(t0.Add(time.Duration(i)*time.Second), 42, true)
		r.MetricEvery = every
		m.Tick(r)
		if got := testutil.ToFloat64(m.refreshTicks); got != float64(every) {
			t.Fatalf("tick %d: metric_refresh_ticks = %v, want %d", i, got, every)
		}
	}
}

func TestMissIsNaNAndNullNeverZero(t *testing.T) {
	m := New(prometheus.NewRegistry())
	t0 := time.Unix(1000, 0)
	m.Tick(tick(t0, 42, true))
	if got := testutil.ToFloat64(m.metric); got != 42 {
		t.Fatalf("metric = %v after a reading of 42", got)
	}
	if got := testutil.ToFloat64(m.errorG); got != 8 {
		t.Fatalf("error = %v, want 50-42 = 8", got)
	}
	m.Tick(tick(t0.Add(time.Second), 999, false)) // a miss: the value must be ignored
	for name, g := range map[string]prometheus.Gauge{"metric": m.metric, "error": m.errorG} {
		if got := testutil.ToFloat64(g); !math.IsNaN(got) {
			t.Errorf("%s = %v after a miss, want NaN", name, got)
		}
	}
	if got := testutil.ToFloat64(m.target); got != 50 {
		t.Errorf("target = %v; its own reading was fine", got)
	}
	if got := testutil.ToFloat64(m.tickMisses); got != 1 {
		t.Errorf("tick misses = %v, want 1", got)
	}
	h := m.History()
	if len(h) != 2 || h[1].Metric != nil || h[1].Target == nil {
		t.Fatalf("history after a miss = %+v, want a null metric at the second point", h)
	}
	b, _ := json.Marshal(h[1])
	if !strings.Contains(string(b), `"metric":null`) {
		t.Errorf("a missed point encodes as %s, want metric null", b)
	}
	// A reading flagged OK but not finite is not plotted either.
	m.Tick(tick(t0.Add(2*time.Second), math.Inf(1), true))
	if p := m.History()[2]; p.Metric != nil {
		t.Errorf("an infinite reading is plotted as %v", *p.Metric)
	}
}

func TestHistoryRingIsBounded(t *testing.T) {
	m := New(prometheus.NewRegistry(), WithHistory(5), WithEvents(3))
	t0 := time.Unix(1000, 0)
	for i := 0; i < 12; i++ {
		m.Tick(tick(t0.Add(time.Duration(i)*time.Second), float64(i), true))
		m.Event("test", fmt.Sprintf("event %d", i))
	}
	h := m.History()
	if len(h) != 5 {
		t.Fatalf("history holds %d points, want 5", len(h))
	}
	for i, p := range h {
		if want := float64(7 + i); p.Metric == nil || *p.Metric != want {
			t.Errorf("point %d = %v, want %v (the newest, oldest first)", i, p.Metric, want)
		}
	}
	if ev := m.Events(); len(ev) != 3 || ev[2].Message != "event 11" {
		t.Errorf("events = %+v, want the 3 newest", ev)
	}
}

func TestRepeatedEventsFold(t *testing.T) {
	m := New(prometheus.NewRegistry())
	for i := 0; i < 4; i++ {
		m.MesosProblem("call_failed")
	}
	ev := m.Events()
	if len(ev) != 1 || ev[0].Count != 4 {
		t.Errorf("events = %+v, want one event with count 4", ev)
	}
}
