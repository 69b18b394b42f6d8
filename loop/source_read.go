package loop

// Sources.Read: one tick's reads, the miss bookkeeping and Status.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Read reads every source the metric and the target need, each at most once: leaves that
// may block (cmd, http, json, prom, file) concurrently, each bounded by the timeout and by
// ctx; then the expressions, inputs first. A miss is a Sample with OK false; it is counted
// (MissRecorder, Status) and logged once per change. If ctx is cancelled (not timed out)
// during the read, both samples are misses and nothing is counted.
func (s *Sources) Read(ctx context.Context, now time.Time) (metric, target Sample) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	var wg sync.WaitGroup
	for _, n := range s.order {
		n.val, n.err = 0, nil
		switch {
		case n.leaf == nil:
		case n.cheap:
			n.val, n.err = s.readLeaf(ctx, n, now)
		default:
			wg.Go(func() { n.val, n.err = s.readLeaf(ctx, n, now) })
		}
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.Canceled) {
		return Sample{}, Sample{}
	}
	env := make(map[string]any, len(s.order)+len(srcTimeVars))
	srcTimeEnv(env, now, s.opt.Location)
	for _, n := range s.order {
		if n.expr != nil {
			n.val, n.err = s.eval(n, env)
		}
		if n.err == nil {
			env[n.name] = n.val
			n.win.push(n.val)
		}
	}
	s.mu.Lock()
	for _, n := range s.order {
		s.record(n, now)
	}
	s.mu.Unlock()
	return s.nodes[0].sample(), s.nodes[1].sample()
}

func (n *srcNode) sample() Sample {
	if n.err != nil {
		return Sample{}
	}
	return Sample{Value: n.val, OK: true}
}

func (s *Sources) readLeaf(ctx context.Context, n *srcNode, now time.Time) (float64, error) {
	rctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	v, err := n.leaf.Read(rctx, now)
	if err == nil {
		v, err = srcCheckFinite(v, "the value")
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", n.kind, err)
	}
	return v, nil
}

// eval runs an expression whose inputs were all read; a missed input is its miss.
func (s *Sources) eval(n *srcNode, env map[string]any) (float64, error) {
	for _, d := range n.deps {
		if d.err != nil {
			return 0, fmt.Errorf("input %s missed: %w", d.name, d.err)
		}
	}
	v, err := n.expr.Eval(env)
	if err != nil {
		return 0, fmt.Errorf("expr: %w", err)
	}
	return v, nil
}

// window returns up to the last k good reads of the named source, oldest first. It is
// called by mean and stdev during Read (readMu held).
func (s *Sources) window(name string, k int) []float64 {
	n := s.byName[name]
	if n == nil {
		return nil
	}
	return n.win.last(k)
}

// record updates the status of n after this tick (s.mu held), counts a miss and logs the
// first miss of a run, a change of class during a run, and the recovery.
func (s *Sources) record(n *srcNode, now time.Time) {
	st := &n.st
	st.Reads++
	st.LastRead = now
	if n.err == nil {
		if st.ConsecutiveMisses > 0 {
			s.opt.Log.Info("source_recovered", "source", n.name, "misses", st.ConsecutiveMisses,
				"value", n.val, "missing_for", now.Sub(st.MissingSince).String())
		}
		st.ConsecutiveMisses, st.MissingSince = 0, time.Time{}
		st.LastValue, st.LastGood = n.val, now
		return
	}
	class := MissClass(n.err)
	st.Misses++
	st.ConsecutiveMisses++
	if st.ConsecutiveMisses == 1 {
		st.MissingSince = now
	}
	if st.ConsecutiveMisses == 1 || class != st.LastClass {
		s.opt.Log.Warn("source_miss", "source", n.name, "class", class, "error", n.err.Error(),
			"consecutive", st.ConsecutiveMisses)
	}
	st.LastClass, st.LastError = class, n.err.Error()
	if s.opt.Misses != nil {
		s.opt.Misses.SourceMiss(n.name, class)
	}
}

// Status returns a snapshot of every source's reads and misses. Safe to call at any time.
func (s *Sources) Status() SourceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := SourceStatus{Sources: make([]SourceState, len(s.nodes))}
	for i, n := range s.nodes {
		out.Sources[i] = n.st
	}
	return out
}

// srcRing keeps the last cap good reads of a source (no memory when nobody asks).
type srcRing struct {
	buf  []float64
	next int
	full bool
}

func (r *srcRing) grow(size int) {
	if size > len(r.buf) {
		r.buf = make([]float64, size)
	}
}

func (r *srcRing) push(v float64) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	r.full = r.full || r.next == 0
}

// last returns up to k of the most recent values, oldest first.
func (r *srcRing) last(k int) []float64 {
	have := r.next
	if r.full {
		have = len(r.buf)
	}
	k = min(k, have)
	out := make([]float64, k)
	for i := range k {
		out[i] = r.buf[(r.next-k+i+len(r.buf))%len(r.buf)]
	}
	return out
}
