// Package chaos is the failover test harness: it starts ZooKeeper, the embedded Mesos master,
// replicas and a plant as separate processes, injects faults and checks the invariants.
//
// # Checks on the metric
//
// Besides the leadership invariants (one acting leader, one FrameworkID, no task ended by a
// failover or launched twice, the ledger matching the master, the controller state carried
// over), the harness holds the controlled queue to bounds derived from the plant (LimitsFor;
// default plant: 2 items/s arrive, a warmer task takes 10 items/s for 3 s, target 20, tick
// 0.5 s). A fault window lasts from the injection to the fault's end or the new leader
// deciding, whichever is later, plus a 1 s grace; time inside windows, or with no deciding
// leader, never counts against the controller.
//
//   - metric-recovery: after each fault ends the metric is back within the band (one task's
//     net effect, 30 - 2x3 = 24 items) within 30 s of time outside fault windows. The clock
//     pauses inside later faults instead of giving up when the next fault starts, so a
//     metric that never comes back is caught however closely faults follow each other;
//     faults ending in the same excursion are one violation.
//   - metric-stall: the metric out of band with no task launched or running for more than
//     12 s outside fault windows (the time arrivals alone need to add another task's worth).
//   - metric-band: at least 60% of the samples outside fault windows are in band.
//   - metric-iae: the faulted phase's IAE per minute is at most 3x the fault-free baseline's,
//     or 2880 (a mean error of two tasks' worth), whichever is larger.
//   - windup: after a starvation or a leaderless gap, the launches of the next 3 s may take at
//     most the error then plus the arrivals until they end, plus two tasks' worth; more is an
//     overshoot of the target the error did not justify (counted in items: the real queue
//     stops at 0, so the overshoot cannot be read off the metric).
//   - overshoot: the same bound for a burst at any other time outside fault windows (with a
//     target of 20 and a band of 24, a queue driven to 0 is still in band, so only the
//     launches show a controller emptying the queue with tasks it did not need).
//
// The reasons for each number are at LimitsFor. `chaos -recheck DIR` runs these checks again
// over a finished run's report files.
package chaos
