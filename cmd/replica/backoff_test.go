package replica

import (
	"testing"
	"time"
)

// A replica waits longer after each failure in a row, but a term that lasted is not one of
// them: a long-lived leader that loses its lease campaigns again at once, however many
// blips it has had before.
func TestRetryWaitStartsAgainAfterAStableTerm(t *testing.T) {
	type event struct {
		campaign bool          // a failed campaign; else a term that lasted `lasted`
		lasted   time.Duration // the term's length
		want     time.Duration // the least wait (a term's wait is jittered up to twice this)
	}
	short, long := 2*time.Second, 2*time.Hour
	cases := []struct {
		name   string
		events []event
	}{
		{"failures in a row double up to the most", []event{
			{campaign: true, want: 200 * time.Millisecond},
			{campaign: true, want: 400 * time.Millisecond},
			{lasted: short, want: 800 * time.Millisecond},
			{lasted: short, want: 1600 * time.Millisecond},
			{lasted: short, want: 3200 * time.Millisecond},
			{campaign: true, want: 6400 * time.Millisecond},
			{lasted: short, want: 10 * time.Second},
			{lasted: short, want: 10 * time.Second},
		}},
		{"a long term after many short ones waits the least", []event{
			{lasted: short, want: 200 * time.Millisecond},
			{lasted: short, want: 400 * time.Millisecond},
			{lasted: short, want: 800 * time.Millisecond},
			{lasted: short, want: 1600 * time.Millisecond},
			{lasted: short, want: 3200 * time.Millisecond},
			{lasted: short, want: 6400 * time.Millisecond},
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: short, want: 400 * time.Millisecond},
		}},
		{"long terms once a week, for months", []event{
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: long, want: 200 * time.Millisecond},
			{lasted: stableTerm, want: 200 * time.Millisecond},
		}},
		{"campaigns that fail after a long term still back off", []event{
			{lasted: long, want: 200 * time.Millisecond},
			{campaign: true, want: 400 * time.Millisecond},
			{campaign: true, want: 800 * time.Millisecond},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w retryWait
			for i, e := range c.events {
				if e.campaign {
					if got := w.afterCampaignFailed(); got != e.want {
						t.Fatalf("event %d (failed campaign): waits %v, want %v", i, got, e.want)
					}
					continue
				}
				if got := w.afterTerm(e.lasted); got < e.want || got >= 2*e.want {
					t.Fatalf("event %d (term of %v): waits %v, want %v to %v", i, e.lasted, got, e.want, 2*e.want)
				}
			}
		})
	}
}
