// Package election is the ZooKeeper leader-election recipe: Campaign blocks until this
// candidate leads and returns a Leadership whose context is cancelled the moment leadership is
// in doubt, with a fencing token that grows across leaders.
package election
