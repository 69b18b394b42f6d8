package loop

import "time"

// Kind names the two actions a thermostat has.
type Kind int

const (
	// Warmer units are meant to raise the metric (the controller learns what they really do).
	Warmer Kind = iota
	// Cooler units are meant to lower the metric.
	Cooler
)

// String returns "warmer" or "cooler".
func (k Kind) String() string {
	if k == Cooler {
		return "cooler"
	}
	return "warmer"
}

// Sample is one reading of a source. OK is false for a miss (command failed, no number,
// timeout, HTTP error, NaN or Inf); Value is then meaningless and must not be used.
type Sample struct {
	Value float64
	OK    bool
}

// KindCounts is what the controller sees of one kind of action, in units (one unit = one task).
type KindCounts struct {
	// Ungranted: units the previous decision asked for that were not launched by the time of
	// this tick (the cluster did not offer enough). This tick's decision withdraws them.
	Ungranted int
	// Pending: launched (intent recorded or LAUNCH sent), not yet running.
	Pending int
	// Running: running now.
	Running int
}

// InFlight is Pending + Running.
func (c KindCounts) InFlight() int { return c.Pending + c.Running }

// Ledger is the task ledger as the controller sees it: counts per kind.
type Ledger struct {
	Warmer KindCounts
	Cooler KindCounts
}

// Of returns the counts of one kind.
func (l Ledger) Of(k Kind) KindCounts {
	if k == Cooler {
		return l.Cooler
	}
	return l.Warmer
}

// Input is everything one controller tick sees. Now is the only clock the controller reads.
type Input struct {
	Now    time.Time
	Metric Sample
	Target Sample
	Ledger Ledger
}

// Actuator turns decisions into tasks. framework.Scheduler implements it against Mesos;
// loop/sim implements it against a simulated plant. Both methods must not block.
type Actuator interface {
	// Withdraw cancels whatever the current demand asked for and was not yet launched, and
	// returns the ledger as of that moment, with the withdrawn units as Ungranted. Units
	// withdrawn are never launched later. Between Withdraw and the next Demand nothing is
	// launched, so the controller decides on a ledger that cannot change under it.
	Withdraw() Ledger
	// Demand sets the new demand: launch up to warmers and coolers units from now on.
	Demand(warmers, coolers int)
}
