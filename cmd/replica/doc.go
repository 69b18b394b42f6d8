// Package replica is the wiring of one `relay-mesos run` process: it campaigns for leadership
// (ZooKeeper, or a local file lock when running alone), and while it leads it loads the
// checkpoint, subscribes to Mesos with the stored FrameworkID, reconciles, ticks the controller
// and writes fenced checkpoints; on any loss it stops acting at once and campaigns again. It
// also serves the operator endpoints on every replica.
package replica
