package metrics

import "github.com/prometheus/client_golang/prometheus"

// This file holds the methods the framework package calls (its Recorder interface).

func (m *Metrics) buildFramework(f *factory) {
	m.offersReceived = f.counter("offers_received_total", "Resource offers received from Mesos.")
	m.offersDeclined = f.counter("offers_declined_total", "Offers declined (not needed or not fitting).")
	m.offersUsed = f.counter("offers_used_total", "Offers accepted to launch at least one task.")
	m.offersRescinded = f.counter("offers_rescinded_total", "Offers rescinded by the master before use.")
	m.offerToAccept = f.histogram("offer_to_accept_seconds",
		"Seconds from receiving an offer to accepting it.",
		[]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60})
	m.tasksLaunched = f.counterVec("tasks_launched_total", "Tasks launched (LAUNCH sent), by kind.", "kind")
	m.tasksEnded = f.counterVec("tasks_ended_total",
		"Tasks that reached a terminal state, by kind and state (finished, failed, killed, lost, error, dropped, gone, unreachable, ...).",
		"kind", "state")
	m.taskKills = f.counterVec("task_kills_total", "KILL calls sent, by kind.", "kind")
	m.mesosEvents = f.counterVec("mesos_events_total", "Events received on the Mesos scheduler stream, by type.", "type")
	m.mesosProblems = f.counterVec("mesos_problems_total",
		"Problems talking to Mesos (error events, failed calls, bad responses), by class.", "class")
	m.mesosDisconnects = f.counterVec("mesos_disconnects_total", "Losses of the Mesos subscription, by reason.", "reason")
	m.mesosSubscribed = f.gauge("mesos_subscribed", "1 while this replica is subscribed to the Mesos master, else 0.")
	m.mesosSubscriptions = f.counter("mesos_subscriptions_total", "Successful SUBSCRIBE calls (SUBSCRIBED events).")
	m.launchBackoff = f.gaugeVec("launch_backoff_seconds",
		"Launch delay of a kind after its tasks failed in a row (0 when none), by kind.", "kind")
	m.frameworkInfo = f.gaugeVec("framework_info",
		"1 with the FrameworkID this replica is subscribed with (0 with an empty ID before the first subscription).",
		"framework_id")
}

// OffersReceived counts n offers received.
func (m *Metrics) OffersReceived(n int) { addN(m.offersReceived, n) }

// OffersDeclined counts n offers declined.
func (m *Metrics) OffersDeclined(n int) { addN(m.offersDeclined, n) }

// OffersUsed counts n offers accepted.
func (m *Metrics) OffersUsed(n int) { addN(m.offersUsed, n) }

// OfferRescinded counts one rescinded offer.
func (m *Metrics) OfferRescinded() { m.offersRescinded.Inc() }

// OfferToAccept observes the seconds from an offer's arrival to its ACCEPT.
func (m *Metrics) OfferToAccept(seconds float64) {
	if seconds >= 0 {
		m.offerToAccept.Observe(seconds)
	}
}

// TaskLaunched counts one task of kind ("warmer" or "cooler") launched.
func (m *Metrics) TaskLaunched(kind string) {
	m.tasksLaunched.WithLabelValues(m.kinds.value(kind)).Inc()
}

// TaskEnded counts one task of kind that reached the terminal state ("TASK_FAILED" and
// "failed" are the same label value).
func (m *Metrics) TaskEnded(kind, state string) {
	m.tasksEnded.WithLabelValues(m.kinds.value(kind), m.states.value(state)).Inc()
}

// TaskKillSent counts one KILL sent for a task of kind.
func (m *Metrics) TaskKillSent(kind string) { m.taskKills.WithLabelValues(m.kinds.value(kind)).Inc() }

// LaunchBackoff sets the launch delay of kind after failed tasks (0: none).
func (m *Metrics) LaunchBackoff(kind string, seconds float64) {
	m.launchBackoff.WithLabelValues(m.kinds.value(kind)).Set(seconds)
}

// MesosEvent counts one event of the scheduler stream ("OFFERS", "UPDATE", ...).
func (m *Metrics) MesosEvent(eventType string) {
	m.mesosEvents.WithLabelValues(m.events.value(eventType)).Inc()
}

// MesosProblem counts one problem of class (a short, fixed word chosen by the caller) and
// notes it in the recent events.
func (m *Metrics) MesosProblem(class string) {
	c := m.problems.value(class)
	m.mesosProblems.WithLabelValues(c).Inc()
	m.event(m.now(), EventMesos, "Mesos problem: "+c)
}

// Subscribed records a successful subscription with frameworkID.
func (m *Metrics) Subscribed(frameworkID string) {
	m.mesosSubscribed.Set(1)
	m.mesosSubscriptions.Inc()
	m.mu.Lock()
	changed := m.st.subscribedID != frameworkID
	m.st.subscribedID = frameworkID
	m.mu.Unlock()
	if changed {
		m.frameworkInfo.Reset()
		m.frameworkInfo.WithLabelValues(frameworkID).Set(1)
	}
	m.event(m.now(), EventMesos, "subscribed to Mesos as framework "+frameworkID)
}

// Disconnected records the loss of the Mesos subscription for reason (a short word).
func (m *Metrics) Disconnected(reason string) {
	r := m.reasons.value(reason)
	m.mesosSubscribed.Set(0)
	m.mesosDisconnects.WithLabelValues(r).Inc()
	m.event(m.now(), EventMesos, "disconnected from Mesos: "+r)
}

func addN(c prometheus.Counter, n int) {
	if n > 0 {
		c.Add(float64(n))
	}
}
