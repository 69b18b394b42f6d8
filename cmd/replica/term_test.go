package replica

import (
	"slices"
	"testing"
	"time"
)

// A term whose parts are slow to stop names the ones still running (its election node, kept
// until they stop, holds the other replicas back); a term that stops at once says nothing.
func TestATermSlowToStopNamesThePartsStillRunning(t *testing.T) {
	cases := []struct {
		name  string
		parts map[string]time.Duration // how long each part takes to stop
		want  []string                 // named as still running; nil: nothing logged
	}{
		{"every part stops at once", map[string]time.Duration{"mesos": 0, "checkpoints": 0, "controller": 0}, nil},
		{"the Mesos part hangs", map[string]time.Duration{"mesos": 400 * time.Millisecond, "checkpoints": 0, "controller": 0}, []string{"mesos"}},
		{"two parts hang", map[string]time.Duration{"mesos": 400 * time.Millisecond, "checkpoints": 0, "controller": 400 * time.Millisecond}, []string{"controller", "mesos"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p termParts
			release := make(chan struct{})
			for _, name := range []string{"mesos", "checkpoints", "controller"} {
				d := c.parts[name]
				p.Go(name, func() {
					<-release
					time.Sleep(d)
				})
			}
			close(release)
			var got []string
			calls := 0
			began := time.Now()
			p.Wait(100*time.Millisecond, func(running []string) {
				calls++
				got = running
			})
			if took := time.Since(began); took < c.parts["mesos"] {
				t.Fatalf("Wait returned after %v, before the parts stopped", took)
			}
			if c.want == nil {
				if calls != 0 {
					t.Fatalf("named %v as slow, want nothing", got)
				}
				return
			}
			if calls != 1 {
				t.Fatalf("slow callback called %d times, want 1", calls)
			}
			sorted := slices.Sorted(slices.Values(got))
			if !slices.Equal(sorted, c.want) {
				t.Fatalf("named %v as still running, want %v", got, c.want)
			}
		})
	}
}
