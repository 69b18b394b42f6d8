// Package state stores the replica's durable state (the FrameworkID and the checkpoint) as
// versioned bytes, in ZooKeeper with fenced writes or in a local file.
package state
