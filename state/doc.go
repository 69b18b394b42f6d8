// Package state stores the replica's durable state (the FrameworkID and the checkpoint) as
// versioned bytes, in ZooKeeper with fenced writes or in a local file.
//
// The checkpoint payload is opaque to this package: Save wraps it in an envelope (format name,
// schema, the writer's fencing token, the time written, the payload's size and SHA-256) and
// Load checks it. A checkpoint that is corrupt or was written by a newer schema is refused
// with ErrCorrupt or ErrFutureSchema and is never overwritten by a store that has not read a
// good checkpoint (or found none) first: a binary that cannot read the state must not replace
// it with a blank one.
//
// Every write is fenced. In ZooKeeper (ZKStore) a write is one multi-op that checks that the
// writer's own election node still exists and that the state node still has the version this
// store last read, so a deposed or paused leader's write fails with ErrFenced and the leader
// steps down. A write is also refused when the stored checkpoint carries a higher fencing
// token than the writer's. A connection error is not ErrFenced: the write's fate is unknown,
// the store re-reads the node before the next write, and the caller may retry.
//
// Without ZooKeeper (a single replica), FileStore keeps the same contract in a directory:
// atomic writes (temporary file, fsync, rename, fsync of the directory) fenced by FileLock,
// an exclusive flock whose acquisitions are counted to give a fencing token.
//
// Sizes are bounded: a payload above MaxPayload (60 KiB) is refused with ErrTooLarge, and an
// envelope is always below 64 KiB.
package state
