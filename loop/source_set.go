package loop

// Sources: the metric, the target and the named sources they use, read once per tick.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Sources reads the metric and the target each tick. It implements Reader. Read and Status
// may be called from different goroutines; Read calls are serialised.
type Sources struct {
	opt    SourceOptions
	nodes  []*srcNode // metric, target, then the named sources in flag order
	byName map[string]*srcNode
	order  []*srcNode // what Read evaluates: reachable from metric and target, inputs first

	readMu sync.Mutex // one Read at a time (windows and per-tick values)
	mu     sync.Mutex // guards every node's st
}

// srcNode is one source: metric, target or a --source entry.
type srcNode struct {
	name, flag, kind string
	leaf             Source   // nil for an expression
	cheap            bool     // a leaf that never blocks: read inline, not on a goroutine
	expr             *srcExpr // nil for a leaf
	deps             []*srcNode
	win              srcRing // last good reads, when a mean/stdev asks for them

	val float64 // this tick
	err error   // this tick

	st SourceState // under Sources.mu
}

// SourceState is what Status reports of one source.
type SourceState struct {
	// Name is "metric", "target" or the NAME of a --source entry.
	Name string `json:"name"`
	// Kind is the spec's kind: const, cmd, http, json, prom, file, sine, square, daily,
	// weekly or expr.
	Kind string `json:"kind"`
	// Used is false for a --source entry that neither the metric nor the target uses
	// (it is never read).
	Used bool `json:"used"`
	// Reads and Misses count reads and failed reads since start.
	Reads  uint64 `json:"reads"`
	Misses uint64 `json:"misses"`
	// ConsecutiveMisses is the length of the current run of misses (0 when the last read
	// was good).
	ConsecutiveMisses uint64 `json:"consecutive_misses"`
	// MissingSince is the time of the first miss of the current run (zero when none).
	MissingSince time.Time `json:"missing_since,omitzero"`
	// LastClass and LastError describe the most recent miss (kept after a recovery).
	LastClass string `json:"last_class,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// LastValue is the most recent good value, read at LastGood (zero time: never).
	LastValue float64   `json:"last_value"`
	LastGood  time.Time `json:"last_good,omitzero"`
	// LastRead is the time of the most recent read, good or not.
	LastRead time.Time `json:"last_read,omitzero"`
}

// SourceStatus is a snapshot of every source: metric, target, then the named sources in
// flag order.
type SourceStatus struct {
	Sources []SourceState `json:"sources"`
}

// Get returns the state of the source called name.
func (s SourceStatus) Get(name string) (SourceState, bool) {
	for _, st := range s.Sources {
		if st.Name == name {
			return st, true
		}
	}
	return SourceState{}, false
}

// ParseSources parses --metric, --target and the --source NAME=SPEC entries (syntax in
// SOURCES.md). Every error wraps ErrSourceSpec and starts with the flag or entry at fault,
// e.g. `--source qsize: invalid source spec: cmd: the command is empty`.
func ParseSources(metric, target string, named []string, opt SourceOptions) (*Sources, error) {
	opt = opt.withDefaults()
	opt.Log = opt.Log.Named("sources")
	s := &Sources{opt: opt, byName: map[string]*srcNode{}}
	specs := []string{metric, target}
	s.nodes = []*srcNode{{name: "metric", flag: "--metric"}, {name: "target", flag: "--target"}}
	var names []string
	for _, entry := range named {
		name, spec, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("--source %q: %w: want NAME=SPEC", srcClip(entry, 60), ErrSourceSpec)
		}
		if err := srcCheckName(name); err != nil {
			return nil, fmt.Errorf("--source %s: %w: %w", name, ErrSourceSpec, err)
		}
		if s.byName[name] != nil {
			return nil, fmt.Errorf("--source %s: %w: defined twice", name, ErrSourceSpec)
		}
		n := &srcNode{name: name, flag: "--source " + name}
		s.byName[name] = n
		s.nodes = append(s.nodes, n)
		specs = append(specs, spec)
		names = append(names, name)
	}
	for i, n := range s.nodes {
		if err := s.parseNode(n, specs[i], names); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", n.flag, ErrSourceSpec, err)
		}
	}
	if err := s.plan(); err != nil {
		return nil, err
	}
	for _, n := range s.nodes[2:] {
		if !n.st.Used {
			opt.Log.Warn("source_unused", "source", n.name)
		}
	}
	return s, nil
}

func (s *Sources) parseNode(n *srcNode, spec string, names []string) error {
	n.st.Name = n.name
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return errors.New("empty spec")
	}
	if prefix, text, ok := strings.Cut(spec, ":"); ok && strings.EqualFold(prefix, "expr") {
		e, err := srcCompileExpr(text, names, s.window)
		if err != nil {
			return err
		}
		n.kind, n.expr = "expr", e
		for _, d := range e.deps {
			n.deps = append(n.deps, s.byName[d])
		}
	} else {
		kind, src, err := srcParseLeaf(spec, s.opt)
		if err != nil {
			return err
		}
		n.kind, n.leaf = kind, src
		switch kind {
		case "const", "sine", "square", "daily", "weekly":
			n.cheap = true
		}
	}
	n.st.Kind = n.kind
	return nil
}

// plan orders what metric and target need, inputs first, finds cycles (in unused entries
// too) and sizes the windows of mean and stdev.
func (s *Sources) plan() error {
	const (
		unseen = iota
		visiting
		done
	)
	mark := map[*srcNode]int{}
	var visit func(n *srcNode, path []string, used bool) error
	visit = func(n *srcNode, path []string, used bool) error {
		path = append(path, n.name)
		switch mark[n] {
		case visiting:
			return fmt.Errorf("%s: %w: expressions form a cycle: %s", n.flag, ErrSourceSpec, strings.Join(path, " -> "))
		case done:
			return nil
		}
		mark[n] = visiting
		for _, d := range n.deps {
			if err := visit(d, path, used); err != nil {
				return err
			}
		}
		mark[n] = done
		if used {
			n.st.Used = true
			s.order = append(s.order, n)
		}
		return nil
	}
	for i, n := range s.nodes {
		if err := visit(n, nil, i < 2); err != nil {
			return err
		}
	}
	for _, n := range s.order {
		if n.expr != nil {
			for name, size := range n.expr.wins {
				s.byName[name].win.grow(size)
			}
		}
	}
	return nil
}
