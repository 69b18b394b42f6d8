package replica

import (
	"math/rand/v2"
	"time"
)

// Waits between candidacies. A replica whose term or campaign failed waits before it campaigns
// again, twice as long after each failure in a row, up to maxRetryWait; a term that lasted
// stableTerm or longer was not a failure in a row, and the wait starts again from
// firstRetryWait (else a replica that lost its lease after a week of leading, a few times over
// a month, would wait 10 s or more to campaign after the next blip).
const (
	firstRetryWait = 200 * time.Millisecond
	maxRetryWait   = 10 * time.Second
	stableTerm     = time.Minute
)

// retryWait is the replica's backoff between candidacies; its zero value is ready.
type retryWait struct{ next time.Duration }

// afterCampaignFailed returns how long to wait after a failed campaign.
func (w *retryWait) afterCampaignFailed() time.Duration {
	d := w.current()
	w.next = min(d*2, maxRetryWait)
	return d
}

// afterTerm returns how long to wait after a term that lasted the given time ended in an
// error; the wait is jittered (d to 2d) so that replicas that lost the same leader do not
// campaign in step.
func (w *retryWait) afterTerm(lasted time.Duration) time.Duration {
	if lasted >= stableTerm {
		w.reset()
	}
	d := w.current()
	w.next = min(d*2, maxRetryWait)
	return d + rand.N(d)
}

func (w *retryWait) reset() { w.next = firstRetryWait }

func (w *retryWait) current() time.Duration {
	if w.next <= 0 {
		return firstRetryWait
	}
	return w.next
}
