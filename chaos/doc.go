// Package chaos is the failover test harness: it starts ZooKeeper, the embedded Mesos master,
// replicas and a plant as separate processes, injects faults and checks the invariants.
package chaos
