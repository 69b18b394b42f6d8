package framework

import (
	"context"
	"hash/fnv"
	"sync"
)

// ackWorkers and ackQueue size the acknowledger of one subscription: a few ACKNOWLEDGE calls
// in flight at once, and a queue deep enough for a burst of updates (two per launched task)
// before the event loop has to wait.
const (
	ackWorkers = 4
	ackQueue   = 1024
)

// ack is one ACKNOWLEDGE to send.
type ack struct {
	agent, task string
	uuid        []byte
}

// acker sends the ACKNOWLEDGE calls of one subscription off its event loop, so that reading
// events never waits on an HTTP round trip per status update. Each task's acknowledgements go
// through one worker (chosen by a hash of the task ID), in the order its updates arrived;
// different tasks' go out in parallel. What is still queued when the subscription ends is
// dropped: the master resends every unacknowledged update to the next subscription.
type acker struct {
	queues []chan ack
	wg     sync.WaitGroup
}

// startAcker runs workers that call send for every queued ack until ctx ends.
func startAcker(ctx context.Context, workers, depth int, send func(ctx context.Context, a ack)) *acker {
	a := &acker{queues: make([]chan ack, workers)}
	for i := range a.queues {
		q := make(chan ack, depth)
		a.queues[i] = q
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case x := <-q:
					send(ctx, x)
				}
			}
		}()
	}
	return a
}

// enqueue queues x behind the task's earlier acknowledgements. It waits while that queue is
// full, and gives up (false) when ctx ends.
func (a *acker) enqueue(ctx context.Context, x ack) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(x.task))
	select {
	case a.queues[h.Sum32()%uint32(len(a.queues))] <- x:
		return true
	case <-ctx.Done():
		return false
	}
}

// wait returns once every worker has stopped (after the ctx given to startAcker ends).
func (a *acker) wait() { a.wg.Wait() }
