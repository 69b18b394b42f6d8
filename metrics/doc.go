// Package metrics serves what operators look at: Prometheus metrics on a non-global registry,
// the health, readiness, leader and status endpoints, and the embedded live dashboard.
//
// It imports none of the project's other packages; cmd/ adapts their values to the types
// here (TickReport, Ledger, Status).
//
// # Metrics
//
// New(reg) registers every relay_mesos_* metric, and the Go and process collectors, on the
// caller's registry. Callers use typed methods: the framework's Recorder (OffersReceived,
// TaskLaunched, MesosEvent, Subscribed, ...), one Tick per controller tick on the leader,
// and the replica's LeadershipAcquired/LeadershipLost/LeaderSeen/Handoff, ZKSession,
// CheckpointDone/CheckpointFailed, SourceMiss, Error and Event. Every method is safe for
// concurrent use and does no I/O.
//
// Every label is bounded: kinds, task states, Mesos event types, ZooKeeper states and
// controller terms are fixed sets; free words (problem classes, reasons, source names) are
// normalised to [a-z0-9_] and, past a fixed number of distinct values, counted as "other".
// Known label values are created at start, so every metric name is in /metrics at once.
//
// A reading that could not be taken never reads as zero: relay_mesos_metric, _target and
// _error become NaN, the history point's metric or target is null (a gap in the chart), and
// the miss is counted in relay_mesos_tick_misses_total and (by the source reader, through
// SourceMiss) relay_mesos_source_misses_total. Followers report NaN readings and zero tasks:
// only the leader ticks.
//
// # HTTP
//
// NewServer(cfg, m, gatherer, status, logger) serves, on every replica:
//
//	/metrics      Prometheus exposition of the gatherer (the registry m was built on)
//	/healthz      200 while alive and the ZooKeeper session has not been lost for longer
//	              than ServerConfig.ZKLostBound; else 503. JSON body says why.
//	/readyz       leader/standalone: 200 when subscribed to Mesos and deciding; follower:
//	              200 as a ready standby (503 while its session is not connected);
//	              candidate: 503. The body names the role.
//	/status       the Status JSON (StatusProvider's, plus recent events and errors)
//	/leader       200 on the leader, 503 on a follower (body names the leader and its
//	              address), 502 when no leader is known
//	/api/history  the recent ticks for the chart (see History)
//	/             the dashboard; /static/ its CSS and JavaScript
//
// A follower's /api/history serves the leader's data: it fetches the leader's
// /api/history?local=1 with a short timeout (ServerConfig.ProxyTimeout) and says so in the
// response (Source "leader", From, ViewedVia). When the leader cannot be reached it answers
// 502 with the error, a link to the leader's dashboard and its own ring. The dashboard of
// any replica therefore shows the leader's chart, and says whose data it is.
//
// # Dashboard
//
// Hand-written HTML, CSS and JavaScript, embedded with go:embed: a canvas chart of metric
// and target (gaps at misses, starved spans shaded, new leader terms marked), a tasks chart
// (launches as bars, running tasks as lines), cards for the current state, and recent
// events. It polls /status and /api/history every 1.5 s. The chart canvas exposes what it
// drew in data attributes (data-points, data-gaps, data-target-points) for tests; the
// dashtest sub-package checks it in headless Chromium.
package metrics
