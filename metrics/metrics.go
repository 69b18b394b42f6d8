package metrics

import (
	"errors"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric name.
const Namespace = "relay_mesos"

// Defaults of the options.
const (
	// DefaultHistory is the number of ticks kept for the dashboard (15 minutes at one tick/s).
	DefaultHistory = 900
	// DefaultEvents is the number of recent events kept.
	DefaultEvents = 50
	// DefaultErrors is the number of recent errors kept.
	DefaultErrors = 20
)

// Option changes how New builds the Metrics.
type Option func(*options)

type options struct {
	history, events, errors int
	now                     func() time.Time
}

// WithHistory keeps n ticks (n > 0) for /api/history and the dashboard.
func WithHistory(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.history = n
		}
	}
}

// WithEvents keeps n recent events and n recent errors (n > 0).
func WithEvents(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.events, o.errors = n, n
		}
	}
}

// WithClock sets the clock that timestamps events not tied to a tick (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Metrics is every metric of one replica, with typed methods. All methods are safe for
// concurrent use, never block on I/O, and may be called before or without a server.
// Label values passed in are normalised (lowercase, [a-z0-9_]) and bounded: past a fixed
// number of distinct values per label they are counted as "other".
type Metrics struct {
	now func() time.Time

	// framework (the Recorder the framework package declares)
	offersReceived, offersDeclined, offersUsed, offersRescinded prometheus.Counter
	offerToAccept                                               prometheus.Histogram
	tasksLaunched, taskKills                                    *prometheus.CounterVec
	tasksEnded                                                  *prometheus.CounterVec
	mesosEvents, mesosProblems, mesosDisconnects                *prometheus.CounterVec
	mesosSubscribed                                             prometheus.Gauge
	mesosSubscriptions                                          prometheus.Counter
	frameworkInfo                                               *prometheus.GaugeVec
	launchBackoff                                               *prometheus.GaugeVec

	// controller (per tick)
	metric, target, errorG, refreshTicks  prometheus.Gauge
	terms                                 *prometheus.GaugeVec
	decision                              *prometheus.GaugeVec
	requested, granted                    *prometheus.CounterVec
	tasks                                 *prometheus.GaugeVec
	starved, starvedStreak                prometheus.Gauge
	starvedSeconds                        prometheus.Counter
	ticks, tickMisses                     prometheus.Counter
	tickDuration                          prometheus.Histogram
	lastTick                              prometheus.Gauge
	sourceMisses                          *prometheus.CounterVec
	isLeader, leaderTerm, leaderKnown     prometheus.Gauge
	leaderChanges, failovers              prometheus.Counter
	leadershipAcquired                    prometheus.Counter
	leadershipLost, handoffs              *prometheus.CounterVec
	zkState                               *prometheus.GaugeVec
	zkLosses                              prometheus.Counter
	ckptDuration                          prometheus.Histogram
	ckptBytes, ckptLast                   prometheus.Gauge
	ckptTotal                             prometheus.Counter
	ckptFailures                          *prometheus.CounterVec
	kinds, states, events, problems       *labelSet
	reasons, sources, classes, termNames  *labelSet
	ckptClasses, lossReasons, handoffWhys *labelSet

	mu sync.Mutex // guards the fields below
	st replicaState
}

// replicaState is what the methods remember between calls (guarded by Metrics.mu).
type replicaState struct {
	history      *ring[Point]
	events       *ring[Event]
	errs         *ring[ErrorNote]
	lastTick     time.Time // time of the previous tick in this leadership term (zero: none)
	lastReq      KindUnits // the previous tick's request
	starveStart  time.Time // zero while not starved
	lastStarved  time.Time // the latest starved tick
	missing      bool      // the previous tick was a miss
	leading      bool
	token        int64
	leaderID     string
	leaderToken  int64
	leaderSeen   bool
	zk           string
	zkSince      time.Time
	ckptFailing  bool
	subscribedID string
}

// New builds the metrics on reg (never the global registry), together with the Go and
// process collectors (ignored if reg already has them). It panics if one of its own names
// is already registered on reg: that is a wiring bug.
func New(reg prometheus.Registerer, opts ...Option) *Metrics {
	o := options{history: DefaultHistory, events: DefaultEvents, errors: DefaultErrors, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	m := &Metrics{now: o.now}
	m.st.history = newRing[Point](o.history)
	m.st.events = newRing[Event](o.events)
	m.st.errs = newRing[ErrorNote](o.errors)
	m.st.zk = ZKNone
	m.initLabels()
	f := factory{reg: reg}
	m.buildFramework(&f)
	m.buildController(&f)
	m.buildReplica(&f)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			panic(err)
		}
	}
	m.preinit()
	return m
}

func (m *Metrics) initLabels() {
	m.kinds = newLabelSet(3, true, knownKinds...)
	m.states = newLabelSet(16, true, knownTaskStates...)
	m.events = newLabelSet(20, true, knownMesosEvents...)
	m.problems = newLabelSet(16, true)
	m.reasons = newLabelSet(16, true)
	m.sources = newLabelSet(32, false, "metric", "target")
	m.classes = newLabelSet(12, true, knownMissClasses...)
	m.termNames = newLabelSet(maxTerms+1, true, knownTerms...)
	m.ckptClasses = newLabelSet(12, true, knownCheckpointClasses...)
	m.lossReasons = newLabelSet(12, true, knownLossReasons...)
	m.handoffWhys = newLabelSet(8, true, "drill", "resign", "shutdown")
}

// factory registers collectors on the caller's registry and panics on a conflict.
type factory struct{ reg prometheus.Registerer }

func (f *factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f *factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f *factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f *factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f *factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

// preinit creates the series of the known label values, so that every metric name is in
// /metrics from the start, and sets the gauges that have no value yet to NaN.
func (m *Metrics) preinit() {
	for _, k := range knownKinds {
		m.tasksLaunched.WithLabelValues(k)
		m.taskKills.WithLabelValues(k)
		m.launchBackoff.WithLabelValues(k).Set(0)
		m.requested.WithLabelValues(k)
		m.granted.WithLabelValues(k)
		m.decision.WithLabelValues(k).Set(0)
		for _, s := range knownTaskStates {
			m.tasksEnded.WithLabelValues(k, s)
		}
		for _, s := range ledgerStates {
			m.tasks.WithLabelValues(k, s).Set(0)
		}
	}
	for _, e := range knownMesosEvents {
		m.mesosEvents.WithLabelValues(e)
	}
	m.mesosProblems.WithLabelValues(otherLabel)
	m.mesosDisconnects.WithLabelValues(otherLabel)
	for _, s := range []string{"metric", "target"} {
		for _, c := range knownMissClasses {
			m.sourceMisses.WithLabelValues(s, c)
		}
	}
	for _, t := range knownTerms {
		m.terms.WithLabelValues(t).Set(math.NaN())
	}
	for _, c := range knownCheckpointClasses {
		m.ckptFailures.WithLabelValues(c)
	}
	for _, r := range knownLossReasons {
		m.leadershipLost.WithLabelValues(r)
	}
	for _, r := range []string{"drill", "resign", "shutdown", otherLabel} {
		m.handoffs.WithLabelValues(r)
	}
	m.setZKGauge(ZKNone)
	m.metric.Set(math.NaN())
	m.target.Set(math.NaN())
	m.errorG.Set(math.NaN())
	m.frameworkInfo.WithLabelValues("").Set(0)
}
