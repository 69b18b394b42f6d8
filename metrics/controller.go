package metrics

import (
	"fmt"
	"math"
	"time"
)

// TickReport is what one controller tick saw and did (cmd adapts loop.TickRecord to it).
type TickReport struct {
	// Time is the tick's time (the controller's clock).
	Time time.Time
	// Metric and Target are the readings; a reading with OK false is a miss: its value is
	// ignored and the gauges become NaN, the history point null.
	Metric, Target     float64
	MetricOK, TargetOK bool
	// Requested is what this tick's decision asked for.
	Requested KindUnits
	// Ledger is the ledger the tick decided on (its Ungranted is what the previous tick's
	// request did not get; granted units are derived from it).
	Ledger Ledger
	// Starved: the previous tick's request was not fully granted.
	Starved bool
	// Terms are the controller's internal values by name (the JSON names of loop.Terms:
	// drift, warmer_per_unit, cooler_per_unit, warmer_lag, warmer_life, cooler_lag,
	// cooler_life; other names are accepted up to 16 in all, later ones are dropped).
	Terms map[string]float64
	// Took is how long the tick took (sources, controller and actuator).
	Took time.Duration
	// MetricEvery is how many ticks the metric holds each value when it changes only at such a
	// regular period (loop.TickRecord.MetricEvery); 0 otherwise.
	MetricEvery int
}

// maxTickGap bounds the time between two ticks that still counts as starved time; a longer
// gap (a paused process) is not counted.
const maxTickGap = 5 * time.Minute

func (m *Metrics) buildController(f *factory) {
	m.metric = f.gauge("metric", "Latest metric reading (NaN after a miss or on a follower).")
	m.target = f.gauge("target", "Latest target reading (NaN after a miss or on a follower).")
	m.errorG = f.gauge("error", "target - metric at the latest tick (NaN after a miss or on a follower).")
	m.refreshTicks = f.gauge("metric_refresh_ticks",
		"Ticks the metric holds each value when it changes only at such a regular period of 3 or more (a series scraped less often than it is read: set --delay to the scrape interval); 0 otherwise.")
	m.terms = f.gaugeVec("controller_term",
		"Controller internals by term: drift (metric units per tick), warmer_per_unit and cooler_per_unit (learned effect of one unit, metric units), warmer_lag, warmer_life, cooler_lag, cooler_life (ticks).",
		"term")
	m.decision = f.gaugeVec("decision_units", "Units the latest tick's decision asked for, by kind.", "kind")
	m.requested = f.counterVec("units_requested_total", "Units asked for by the controller, by kind.", "kind")
	m.granted = f.counterVec("units_granted_total", "Units asked for and launched before the next tick, by kind.", "kind")
	m.tasks = f.gaugeVec("tasks",
		"Tasks in the ledger by kind and state (ungranted, pending, running) at the latest tick; 0 on a follower.",
		"kind", "state")
	m.starved = f.gauge("starved", "1 while the latest tick's previous request was not fully granted (not enough offers).")
	m.starvedStreak = f.gauge("starvation_streak_seconds", "Seconds the current starvation has lasted (0 when not starved).")
	m.starvedSeconds = f.counter("starved_seconds_total", "Seconds spent starved (requests not fully granted).")
	m.ticks = f.counter("ticks_total", "Controller ticks run.")
	m.tickMisses = f.counter("tick_misses_total", "Ticks where the metric or the target could not be read (no action taken).")
	m.tickDuration = f.histogram("tick_duration_seconds", "Duration of one tick (sources, controller, actuator).",
		[]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30})
	m.lastTick = f.gauge("last_tick_timestamp_seconds", "Unix time of the latest tick (0 before the first).")
	m.sourceMisses = f.counterVec("source_misses_total",
		"Failed reads of a source (metric, target or a named source), by class (timeout, command, parse, http, invalid, other).",
		"source", "class")
}

// Tick records one controller tick: gauges, counters, the history point and starvation and
// miss events. Call it once per tick, on the leader, after the decision.
func (m *Metrics) Tick(r TickReport) {
	miss := !r.MetricOK || !r.TargetOK
	m.ticks.Inc()
	if miss {
		m.tickMisses.Inc()
	}
	m.metric.Set(reading(r.Metric, r.MetricOK))
	m.refreshTicks.Set(float64(r.MetricEvery))
	m.target.Set(reading(r.Target, r.TargetOK))
	if miss {
		m.errorG.Set(math.NaN())
	} else {
		m.errorG.Set(r.Target - r.Metric)
	}
	for name, v := range r.Terms {
		if t := m.termNames.value(name); t != otherLabel {
			m.terms.WithLabelValues(t).Set(v)
		}
	}
	if r.Took >= 0 {
		m.tickDuration.Observe(r.Took.Seconds())
	}
	m.lastTick.Set(float64(r.Time.UnixNano()) / 1e9)
	m.setLedger(r.Ledger, r.Requested)
	m.starved.Set(b2f(r.Starved))

	m.mu.Lock()
	defer m.mu.Unlock()
	var granted KindUnits
	if !m.st.lastTick.IsZero() {
		granted = KindUnits{
			Warmer: max(0, m.st.lastReq.Warmer-r.Ledger.Warmer.Ungranted),
			Cooler: max(0, m.st.lastReq.Cooler-r.Ledger.Cooler.Ungranted),
		}
		m.granted.WithLabelValues("warmer").Add(float64(granted.Warmer))
		m.granted.WithLabelValues("cooler").Add(float64(granted.Cooler))
	}
	m.trackStarvation(r)
	m.trackMiss(r.Time, miss, r.MetricOK)
	m.st.lastTick, m.st.lastReq = r.Time, r.Requested
	p := Point{
		Time:      r.Time.UnixMilli(),
		Requested: r.Requested,
		Granted:   granted,
		Pending:   KindUnits{Warmer: r.Ledger.Warmer.Pending, Cooler: r.Ledger.Cooler.Pending},
		Running:   KindUnits{Warmer: r.Ledger.Warmer.Running, Cooler: r.Ledger.Cooler.Running},
		Starved:   r.Starved,
		Token:     m.st.token,
	}
	if r.MetricOK && finite(r.Metric) {
		v := r.Metric
		p.Metric = &v
	}
	if r.TargetOK && finite(r.Target) {
		v := r.Target
		p.Target = &v
	}
	m.st.history.push(p)
}

// setLedger sets the tasks and decision gauges and adds the request to the counters.
func (m *Metrics) setLedger(l Ledger, req KindUnits) {
	for _, k := range []struct {
		name string
		c    TaskCounts
		req  int
	}{{"warmer", l.Warmer, req.Warmer}, {"cooler", l.Cooler, req.Cooler}} {
		m.tasks.WithLabelValues(k.name, "ungranted").Set(float64(k.c.Ungranted))
		m.tasks.WithLabelValues(k.name, "pending").Set(float64(k.c.Pending))
		m.tasks.WithLabelValues(k.name, "running").Set(float64(k.c.Running))
		m.decision.WithLabelValues(k.name).Set(float64(max(0, k.req)))
		if k.req > 0 {
			m.requested.WithLabelValues(k.name).Add(float64(k.req))
		}
	}
}

// trackStarvation updates the starved time and streak (m.mu held). A streak starts at the
// previous tick, when the request that was not granted was made.
func (m *Metrics) trackStarvation(r TickReport) {
	if !r.Starved {
		if !m.st.starveStart.IsZero() {
			d := m.st.lastStarved.Sub(m.st.starveStart)
			m.eventLocked(r.Time, EventStarvation, fmt.Sprintf("starvation ended after %s", d.Round(time.Second)))
			m.st.starveStart = time.Time{}
		}
		m.starvedStreak.Set(0)
		return
	}
	prev := m.st.lastTick
	gap := r.Time.Sub(prev)
	if m.st.starveStart.IsZero() {
		m.st.starveStart = r.Time
		if !prev.IsZero() && gap > 0 && gap <= maxTickGap {
			m.st.starveStart = prev
		}
		m.eventLocked(r.Time, EventStarvation, "starvation started: the cluster did not offer enough for the last request")
	}
	if !prev.IsZero() && gap > 0 && gap <= maxTickGap {
		m.starvedSeconds.Add(gap.Seconds())
	}
	m.st.lastStarved = r.Time
	m.starvedStreak.Set(r.Time.Sub(m.st.starveStart).Seconds())
}

// trackMiss notes the start and end of a run of missed ticks (m.mu held).
func (m *Metrics) trackMiss(at time.Time, miss, metricOK bool) {
	switch {
	case miss && !m.st.missing:
		what := "target"
		if !metricOK {
			what = "metric"
		}
		m.eventLocked(at, EventMiss, "cannot read the "+what+": no action until it reads again")
	case !miss && m.st.missing:
		m.eventLocked(at, EventMiss, "metric and target read again")
	}
	m.st.missing = miss
}

// SourceMiss counts one failed read of source ("metric", "target" or a named source) for
// class (timeout, command, parse, http, invalid, other; other words are accepted, bounded).
func (m *Metrics) SourceMiss(source, class string) {
	m.sourceMisses.WithLabelValues(m.sources.value(source), m.classes.value(class)).Inc()
}

// resetControllerLocked clears what only a leader reports (m.mu held).
func (m *Metrics) resetControllerLocked() {
	m.st.lastTick, m.st.lastReq, m.st.starveStart, m.st.missing = time.Time{}, KindUnits{}, time.Time{}, false
	m.metric.Set(math.NaN())
	m.target.Set(math.NaN())
	m.errorG.Set(math.NaN())
	m.starved.Set(0)
	m.starvedStreak.Set(0)
	m.setLedger(Ledger{}, KindUnits{})
}

func reading(v float64, ok bool) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
