package loop

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultTraceMaxBytes is the size at which a trace file is rotated unless told otherwise.
const DefaultTraceMaxBytes int64 = 64 << 20

// Trace is an Observer that writes one JSON object per tick, one per line (JSON Lines), to a
// file: what the tick saw, what it decided and the controller's internals after it, so that
// "why did it launch 6 consumers at 17:10:04?" can be answered from the file. The fields, in
// this order, with stable snake_case names:
//
//	time       the tick's time in the runner clock's zone, RFC 3339 with nanoseconds, fixed
//	           width (times of one zone compare as text)
//	tick       State.Tick after the tick (the controller's tick count)
//	took_ms    how long the tick took (sources, controller, actuator), milliseconds
//	metric     {"value", "ok"}: the metric read; value is null when ok is false (a miss)
//	target     {"value", "ok"}: the target read, likewise
//	ledger     {"warmer": {...}, "cooler": {...}}, each {"pending", "running", "ungranted"}:
//	           the units the controller saw (ungranted: asked for at the previous tick and
//	           not launched)
//	decision   {"warmers", "coolers", "predicted", "aimed", "error", "starved", "miss"} (Decision)
//	terms      {"drift", "warmer_per_unit", "cooler_per_unit", "warmer_lag", "warmer_life",
//	           "cooler_lag", "cooler_life"} (Terms: drift is the long-term plus the recent one)
//	theta      the learned model, seven numbers: {"drift", "warmer_run", "warmer_start",
//	           "warmer_end", "cooler_run", "cooler_start", "cooler_end"} (the change of the
//	           metric per tick with nothing running, and per unit of each kind running, starting
//	           and ending)
//	drift      State.Drift, the recent-disturbance estimate (metric units per tick)
//	noise      State.Noise, the mean square of the one-tick prediction error
//	hi, lo     the highest and lowest metric seen (null before the first metric)
//	scale      State.Scale: the metric units of one of the controller's own units, chosen
//	           from the first readings (0 until then); theta, drift, noise, hi and lo are
//	           written in metric units
//	wall_hi, wall_lo  the metric is believed pressed against hi (lo): a wall such as an
//	           empty queue
//	idle       ticks since the last tick that asked for units
//	starved_at the last tick at which a request was granted nothing (0: never); for 50 ticks
//	           after it, moves toward the target are rounded down (loop's package doc)
//	probe      {"active", "kind", "units", "tick"}: the trial under way (kind is "warmer" or
//	           "cooler"; tick is the tick it was launched at)
//	kinds      {"warmer": {...}, "cooler": {...}}, each {"seen", "doubt", "lag", "life"}:
//	           unit-ticks learned from, units of the next probe after an unclear one (0: no
//	           doubt), learned ticks from launch to start and from start to end (0: not seen)
//
// A number that is not finite (a diverged model) is written as the string "NaN", "+Inf" or
// "-Inf", so the line stays valid JSON and the tick is not lost.
//
// The file is appended to (a restarted replica keeps its history). Each tick's line is written
// with one write, so a crash loses at most the tick under way. When a line would take the file
// past maxBytes, the file is renamed to FILE.1 (replacing an older FILE.1) and a new FILE is
// started: at most about 2*maxBytes on disk. A write error is logged once and counted (Failures);
// the next ticks reopen the file and try again, and the first line written after a failure is
// logged as trace_resumed. The control loop is never blocked by an error nor failed by it.
//
// A tick allocates nothing once the line buffer has grown to a line's size. Tick and Close are
// safe to call from different goroutines.
type Trace struct {
	path     string
	maxBytes int64
	log      hclog.Logger

	mu       sync.Mutex
	f        *os.File
	size     int64 // bytes in the current file
	buf      []byte
	closed   bool
	partial  bool  // the file may end in a partial line: start the next line on a new one
	failing  bool  // the last attempt failed (logged once until a line is written again)
	failures int64 // ticks whose line could not be written
	lost     int64 // ticks lost since the failure that was logged
}

// OpenTrace opens (appending to) or creates the trace file at path. Its directory must exist.
// maxBytes <= 0 means DefaultTraceMaxBytes. log may be nil.
func OpenTrace(path string, maxBytes int64, log hclog.Logger) (*Trace, error) {
	if path == "" {
		return nil, errors.New("trace: empty path")
	}
	if maxBytes <= 0 {
		maxBytes = DefaultTraceMaxBytes
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("trace: directory of %s: %w", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("trace: %s is not a directory", dir)
	}
	t := &Trace{path: path, maxBytes: maxBytes, log: log.Named("trace"), buf: make([]byte, 0, 2048)}
	if err := t.open(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	return t, nil
}

// Path returns the trace file's path.
func (t *Trace) Path() string { return t.path }

// Failures returns the number of ticks whose line could not be written.
func (t *Trace) Failures() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures
}

// open opens the file for appending and learns its size. Called with mu held (or before use).
func (t *Trace) open() error {
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	t.f, t.size = f, st.Size()
	return nil
}

// Tick writes the tick's line. It implements Observer; it never fails the caller.
func (t *Trace) Tick(rec *TickRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.buf = appendTraceLine(t.buf[:0], rec)
	if err := t.write(t.buf); err != nil {
		t.failures++
		t.lost++
		if !t.failing {
			t.failing = true
			t.log.Warn("trace_write_failed", "path", t.path, "tick", rec.State.Tick, "error", err)
		}
		return
	}
	if t.failing {
		t.failing = false
		t.log.Info("trace_resumed", "path", t.path, "tick", rec.State.Tick, "lost_ticks", t.lost)
		t.lost = 0
	}
}

// write appends one line, rotating first if it would take the file past maxBytes, and
// reopening the file if an earlier error closed it.
func (t *Trace) write(line []byte) error {
	if t.f == nil {
		if err := t.open(); err != nil {
			return fmt.Errorf("reopen: %w", err)
		}
	}
	if t.size > 0 && t.size+int64(len(line)) > t.maxBytes {
		if err := t.rotate(); err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
	}
	if t.partial && t.size > 0 {
		if _, err := t.f.Write([]byte{'\n'}); err != nil {
			t.drop()
			return fmt.Errorf("write: %w", err)
		}
		t.size++
	}
	t.partial = false
	w, err := t.f.Write(line)
	if err != nil {
		// Take back a partial line, so the file stays one JSON object per line; if that is
		// not possible the next line starts on a new one.
		if w > 0 {
			if terr := t.f.Truncate(t.size); terr != nil {
				t.partial = true
			}
		}
		t.drop()
		return fmt.Errorf("write: %w", err)
	}
	t.size += int64(w)
	return nil
}

// rotate renames the file to FILE.1 and starts a new FILE.
func (t *Trace) rotate() error {
	if err := t.f.Close(); err != nil {
		t.f = nil
		return err
	}
	t.f = nil
	if err := os.Rename(t.path, t.path+".1"); err != nil {
		return err
	}
	t.partial = false
	return t.open()
}

// drop closes the file after an error; the next tick reopens it.
func (t *Trace) drop() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

// Close closes the file. Later ticks are ignored.
func (t *Trace) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	if err != nil {
		return fmt.Errorf("trace: close %s: %w", t.path, err)
	}
	return nil
}

// appendTraceLine appends the tick's JSON object and a newline to b.
func appendTraceLine(b []byte, rec *TickRecord) []byte {
	s, in, d, tm := &rec.State, &rec.Input, &rec.Decision, &rec.Terms
	b = append(b, `{"time":"`...)
	b = rec.Time.AppendFormat(b, traceTimeFormat)
	b = append(b, `","tick":`...)
	b = strconv.AppendInt(b, s.Tick, 10)
	b = append(b, `,"took_ms":`...)
	b = appendNum(b, float64(rec.Took)/float64(time.Millisecond))
	b = append(b, `,"metric":`...)
	b = appendSample(b, in.Metric)
	b = append(b, `,"target":`...)
	b = appendSample(b, in.Target)
	b = append(b, `,"ledger":{"warmer":`...)
	b = appendCounts(b, in.Ledger.Warmer)
	b = append(b, `,"cooler":`...)
	b = appendCounts(b, in.Ledger.Cooler)
	b = append(b, `},"decision":{"warmers":`...)
	b = strconv.AppendInt(b, int64(d.Warmers), 10)
	b = append(b, `,"coolers":`...)
	b = strconv.AppendInt(b, int64(d.Coolers), 10)
	b = append(b, `,"predicted":`...)
	b = appendNum(b, d.Predicted)
	b = append(b, `,"aimed":`...)
	b = appendNum(b, d.Aimed)
	b = append(b, `,"error":`...)
	b = appendNum(b, d.Error)
	b = append(b, `,"starved":`...)
	b = strconv.AppendBool(b, d.Starved)
	b = append(b, `,"miss":`...)
	b = strconv.AppendBool(b, d.Miss)
	b = append(b, `},"terms":{"drift":`...)
	b = appendNum(b, tm.Drift)
	b = append(b, `,"warmer_per_unit":`...)
	b = appendNum(b, tm.WarmerPerUnit)
	b = append(b, `,"cooler_per_unit":`...)
	b = appendNum(b, tm.CoolerPerUnit)
	b = append(b, `,"warmer_lag":`...)
	b = appendNum(b, tm.WarmerLag)
	b = append(b, `,"warmer_life":`...)
	b = appendNum(b, tm.WarmerLife)
	b = append(b, `,"cooler_lag":`...)
	b = appendNum(b, tm.CoolerLag)
	b = append(b, `,"cooler_life":`...)
	b = appendNum(b, tm.CoolerLife)
	sc := s.scale() // the state holds the controller's own units; the trace writes metric units
	b = append(b, `},"theta":{`...)
	for i, name := range thetaNames {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = appendNum(b, sc*s.Theta[i])
	}
	b = append(b, `},"drift":`...)
	b = appendNum(b, sc*s.Drift)
	b = append(b, `,"noise":`...)
	b = appendNum(b, sc*sc*s.Noise)
	b = append(b, `,"hi":`...)
	if s.HasSeen {
		b = appendNum(b, sc*s.Hi)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"lo":`...)
	if s.HasSeen {
		b = appendNum(b, sc*s.Lo)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"scale":`...)
	b = appendNum(b, s.Scale)
	b = append(b, `,"wall_hi":`...)
	b = strconv.AppendBool(b, s.WallHi)
	b = append(b, `,"wall_lo":`...)
	b = strconv.AppendBool(b, s.WallLo)
	b = append(b, `,"idle":`...)
	b = strconv.AppendInt(b, int64(s.Idle), 10)
	b = append(b, `,"starved_at":`...)
	b = strconv.AppendInt(b, s.StarvedAt, 10)
	b = append(b, `,"probe":{"active":`...)
	b = strconv.AppendBool(b, s.Probe.Active)
	b = append(b, `,"kind":"`...)
	b = append(b, s.Probe.Kind.String()...)
	b = append(b, `","units":`...)
	b = strconv.AppendInt(b, int64(s.Probe.Units), 10)
	b = append(b, `,"tick":`...)
	b = strconv.AppendInt(b, s.Probe.Tick, 10)
	b = append(b, `},"kinds":{"warmer":`...)
	b = appendKind(b, &s.Kinds[Warmer])
	b = append(b, `,"cooler":`...)
	b = appendKind(b, &s.Kinds[Cooler])
	b = append(b, "}}\n"...)
	return b
}

// traceTimeFormat is RFC 3339 with a fixed nine-digit fraction (time.RFC3339Nano drops trailing
// zeros), so the times of one zone sort and compare as text (jq: .time >= "2024-05-01T17:10").
const traceTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// thetaNames name State.Theta's entries, in the order of the p* indexes.
var thetaNames = [nParams]string{
	pDrift:     "drift",
	pWarmRun:   "warmer_run",
	pWarmStart: "warmer_start",
	pWarmEnd:   "warmer_end",
	pCoolRun:   "cooler_run",
	pCoolStart: "cooler_start",
	pCoolEnd:   "cooler_end",
}

func appendSample(b []byte, s Sample) []byte {
	b = append(b, `{"value":`...)
	if s.OK {
		b = appendNum(b, s.Value)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, s.OK)
	return append(b, '}')
}

func appendCounts(b []byte, c KindCounts) []byte {
	b = append(b, `{"pending":`...)
	b = strconv.AppendInt(b, int64(c.Pending), 10)
	b = append(b, `,"running":`...)
	b = strconv.AppendInt(b, int64(c.Running), 10)
	b = append(b, `,"ungranted":`...)
	b = strconv.AppendInt(b, int64(c.Ungranted), 10)
	return append(b, '}')
}

func appendKind(b []byte, k *KindState) []byte {
	b = append(b, `{"seen":`...)
	b = appendNum(b, k.Seen)
	b = append(b, `,"doubt":`...)
	b = strconv.AppendInt(b, int64(k.Doubt), 10)
	b = append(b, `,"lag":`...)
	b = appendNum(b, k.Lag)
	b = append(b, `,"life":`...)
	b = appendNum(b, k.Life)
	return append(b, '}')
}

// appendNum appends v as a JSON number, the shortest form that reads back exactly; a value
// that is not finite becomes the string "NaN", "+Inf" or "-Inf".
func appendNum(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
