// Package sim runs controllers against simulated plants in virtual time: it reads scenario
// files (../shared/scenarios/FORMAT.md), simulates the plant and the cluster's supply tick by
// tick, and computes the control figures (IAE, overshoot, post-starvation overshoot, cost,
// deadlock). Three controllers can drive a plant: the project's own (package loop, fed a task
// ledger through a simulated loop.Actuator), the original Relay controller re-implemented
// faithfully, and a greedy reference that knows the plant exactly but not the future target.
// Bench runs directories of scenarios through all three and checks the project's targets.
//
// The deadlock figure is FORMAT.md's (a run of 50 ticks more than 1 off the target with nothing
// executed while supply was available), counting only ticks at which one unit of an action
// that exists would have brought the metric at t+lag closer to the target at t+lag
// (Row.CanHelp): read literally, a plant that no action can help deadlocks every controller, the reference too.
package sim
