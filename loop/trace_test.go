package loop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// traceLine is a trace line as a reader decodes it.
type traceLine struct {
	Time   time.Time `json:"time"`
	Tick   int64     `json:"tick"`
	TookMS float64   `json:"took_ms"`
	Metric struct {
		Value *float64 `json:"value"`
		OK    bool     `json:"ok"`
	} `json:"metric"`
	Ledger struct {
		Warmer struct{ Pending, Running, Ungranted int } `json:"warmer"`
	} `json:"ledger"`
	Decision struct {
		Warmers   int     `json:"warmers"`
		Coolers   int     `json:"coolers"`
		Predicted float64 `json:"predicted"`
		Aimed     float64 `json:"aimed"`
		Error     float64 `json:"error"`
		Starved   bool    `json:"starved"`
		Miss      bool    `json:"miss"`
	} `json:"decision"`
	Theta map[string]float64 `json:"theta"`
	Terms Terms              `json:"terms"`
	Drift float64            `json:"drift"`
	Probe struct {
		Kind string `json:"kind"`
	} `json:"probe"`
}

// traceRig is a runner on a virtual clock whose metric is 0 below a target of 10 and whose
// warmers start at once.
type traceRig struct {
	clock *traceClock
	act   *traceActuator
	r     *Runner
	recs  []TickRecord
}

type traceClock struct{ now time.Time }

func (c *traceClock) Now() time.Time { return c.now }
func (c *traceClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

type traceActuator struct {
	running int
	demands int
}

func (a *traceActuator) Withdraw() Ledger { return Ledger{Warmer: KindCounts{Running: a.running}} }
func (a *traceActuator) Demand(w, _ int)  { a.running += w; a.demands++ }

func newTraceRig(t *testing.T, obs Observer, log hclog.Logger) *traceRig {
	t.Helper()
	g := &traceRig{clock: &traceClock{now: time.Date(2024, 5, 1, 17, 10, 4, 123456789, time.UTC)}, act: &traceActuator{}}
	read := ReaderFunc(func(context.Context, time.Time) (Sample, Sample) {
		return Sample{Value: float64(g.act.running), OK: true}, Sample{Value: 10, OK: true}
	})
	both := ObserverFunc(func(rec *TickRecord) {
		g.recs = append(g.recs, *rec)
		obs.Tick(rec)
	})
	r, err := NewRunner(RunnerConfig{Delay: time.Second, SourceTimeout: time.Second}, New(DefaultConfig()), read, g.act, both, g.clock, log)
	if err != nil {
		t.Fatal(err)
	}
	g.r = r
	return g
}

func (g *traceRig) tick(n int) {
	for i := 0; i < n; i++ {
		g.r.Tick(context.Background())
		g.clock.now = g.clock.now.Add(time.Second)
	}
}

func readTrace(t *testing.T, path string) []traceLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []traceLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l traceLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s line %d is not JSON: %v\n%s", path, len(out)+1, err, sc.Text())
		}
		out = append(out, l)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", path)
	}
	return out
}

func TestTraceWritesOneLinePerTickWithTheDecisionAndTheModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	tr, err := OpenTrace(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newTraceRig(t, tr, nil)
	g.tick(12)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readTrace(t, path)
	if len(lines) != len(g.recs) || len(lines) != 12 {
		t.Fatalf("%d lines for %d ticks", len(lines), len(g.recs))
	}
	warmed := false
	for i, l := range lines {
		rec := &g.recs[i]
		if !l.Time.Equal(rec.Time) || l.Tick != rec.State.Tick {
			t.Errorf("line %d: time %v tick %d, want %v %d", i, l.Time, l.Tick, rec.Time, rec.State.Tick)
		}
		if l.Decision.Warmers != rec.Decision.Warmers || l.Decision.Error != rec.Decision.Error || l.Decision.Predicted != rec.Decision.Predicted || l.Decision.Aimed != rec.Decision.Aimed {
			t.Errorf("line %d: decision %+v, the tick decided %+v", i, l.Decision, rec.Decision)
		}
		warmed = warmed || l.Decision.Warmers > 0
		if l.Metric.Value == nil || *l.Metric.Value != rec.Input.Metric.Value || l.Ledger.Warmer.Running != rec.Input.Ledger.Warmer.Running {
			t.Errorf("line %d: metric %v running %d, the tick saw %v %d", i, l.Metric.Value, l.Ledger.Warmer.Running, rec.Input.Metric.Value, rec.Input.Ledger.Warmer.Running)
		}
		want := map[string]float64{
			"drift": rec.State.Theta[pDrift], "warmer_run": rec.State.Theta[pWarmRun], "warmer_start": rec.State.Theta[pWarmStart],
			"warmer_end": rec.State.Theta[pWarmEnd], "cooler_run": rec.State.Theta[pCoolRun], "cooler_start": rec.State.Theta[pCoolStart],
			"cooler_end": rec.State.Theta[pCoolEnd],
		}
		if !reflect.DeepEqual(l.Theta, want) {
			t.Errorf("line %d: theta %v, the state holds %v", i, l.Theta, want)
		}
		if l.Terms != rec.Terms || l.Drift != rec.State.Drift {
			t.Errorf("line %d: terms %+v drift %v, want %+v %v", i, l.Terms, l.Drift, rec.Terms, rec.State.Drift)
		}
	}
	if !warmed {
		t.Fatal("no tick asked for warmers with the metric 10 below target: the rig does not exercise the decision")
	}
}

// The field names are an interface operators' scripts depend on: every documented field is
// there, nothing else.
func TestTraceFieldNamesAreTheDocumentedOnes(t *testing.T) {
	var rec TickRecord
	rec.State = NewState()
	rec.Time = time.Date(2024, 5, 1, 17, 10, 4, 0, time.UTC)
	var m map[string]any
	line := appendTraceLine(nil, &rec)
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%v\n%s", err, line)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if o, ok := v.(map[string]any); ok {
			for k, c := range o {
				walk(prefix+k+".", c)
			}
			return
		}
		keys = append(keys, strings.TrimSuffix(prefix, "."))
	}
	walk("", m)
	sort.Strings(keys)
	want := strings.Fields(`decision.aimed decision.coolers decision.error decision.miss decision.predicted
		decision.starved decision.warmers drift hi idle kinds.cooler.doubt kinds.cooler.lag kinds.cooler.life
		kinds.cooler.seen kinds.warmer.doubt kinds.warmer.lag kinds.warmer.life kinds.warmer.seen
		ledger.cooler.pending ledger.cooler.running ledger.cooler.ungranted ledger.warmer.pending
		ledger.warmer.running ledger.warmer.ungranted lo metric.ok metric.value noise probe.active probe.kind
		probe.tick probe.units scale target.ok target.value terms.cooler_lag terms.cooler_life terms.cooler_per_unit terms.drift
		terms.warmer_lag terms.warmer_life terms.warmer_per_unit theta.cooler_end theta.cooler_run
		starved_at theta.cooler_start theta.drift theta.warmer_end theta.warmer_run theta.warmer_start tick
		time took_ms wall_hi wall_lo`)
	sort.Strings(want)
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("fields\n%v\nwant\n%v", keys, want)
	}
	if m["time"] != "2024-05-01T17:10:04.000000000Z" {
		t.Fatalf("time %q, want fixed-width RFC 3339 (times must compare as text)", m["time"])
	}
	if m["hi"] != nil || m["metric"].(map[string]any)["value"] != nil {
		t.Fatalf("before any metric, hi and a missed metric's value must be null: %s", line)
	}
}

// A diverged model is exactly what the trace is for: the line stays JSON and says so.
func TestTraceWritesNonFiniteNumbersAsStrings(t *testing.T) {
	var rec TickRecord
	rec.State = NewState()
	rec.State.Theta[pWarmRun] = math.NaN()
	rec.State.Drift = math.Inf(-1)
	rec.Terms.WarmerPerUnit = math.Inf(1)
	line := appendTraceLine(nil, &rec)
	var m struct {
		Theta map[string]any `json:"theta"`
		Drift any            `json:"drift"`
		Terms map[string]any `json:"terms"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	if m.Theta["warmer_run"] != "NaN" || m.Drift != "-Inf" || m.Terms["warmer_per_unit"] != "+Inf" {
		t.Fatalf("got %v %v %v", m.Theta["warmer_run"], m.Drift, m.Terms["warmer_per_unit"])
	}
}

func TestTraceRotatesKeepingTwoFilesThatBothParse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.jsonl")
	var one TickRecord
	one.State = NewState()
	lineLen := int64(len(appendTraceLine(nil, &one)))
	maxBytes := 4 * (lineLen + 40) // about four lines a file
	tr, err := OpenTrace(path, maxBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newTraceRig(t, tr, nil)
	g.tick(40)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		info, _ := e.Info()
		if info.Size() > maxBytes {
			t.Errorf("%s is %d bytes, past the %d bound", e.Name(), info.Size(), maxBytes)
		}
	}
	if !reflect.DeepEqual(names, []string{"trace.jsonl", "trace.jsonl.1"}) {
		t.Fatalf("files %v, want trace.jsonl and trace.jsonl.1", names)
	}
	older, newer := readTrace(t, path+".1"), readTrace(t, path)
	if len(older) < 2 || len(newer) < 1 {
		t.Fatalf("%d and %d lines", len(older), len(newer))
	}
	all := append(older, newer...)
	for i := 1; i < len(all); i++ {
		if all[i].Tick != all[i-1].Tick+1 {
			t.Fatalf("ticks %d then %d: the two files are not the latest ticks in order", all[i-1].Tick, all[i].Tick)
		}
	}
	if last := all[len(all)-1].Tick; last != 40 {
		t.Fatalf("last tick traced %d, want 40", last)
	}
}

func TestTraceAppendsToAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	for i := 0; i < 2; i++ {
		tr, err := OpenTrace(path, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		newTraceRig(t, tr, nil).tick(3)
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(readTrace(t, path)); n != 6 {
		t.Fatalf("%d lines after two runs of 3 ticks, want 6 (a restart must keep the history)", n)
	}
}

func TestOpenTraceFailsWhenTheDirectoryIsMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := OpenTrace(filepath.Join(dir, "trace.jsonl"), 0, nil)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v, want an error naming %s", err, dir)
	}
	if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
		t.Fatalf("OpenTrace created %s", dir)
	}
}

// A full disk: every write fails. The runner ticks on, the error is logged once and counted.
func TestTraceWriteErrorDoesNotStopTheRunnerAndIsLoggedOnce(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	tr, err := OpenTrace("/dev/full", 0, log)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	g := newTraceRig(t, tr, log)
	g.tick(8)
	if g.act.demands != 8 || g.recs[7].State.Tick != 8 {
		t.Fatalf("the runner did %d demands, reached tick %d; want 8 of each", g.act.demands, g.recs[7].State.Tick)
	}
	if n := strings.Count(logs.String(), "trace_write_failed"); n != 1 {
		t.Fatalf("the write error was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "path=/dev/full") {
		t.Fatalf("the log line does not name the file:\n%s", logs.String())
	}
	if f := tr.Failures(); f != 8 {
		t.Fatalf("Failures() = %d, want 8", f)
	}
}

// The directory disappears (rotation cannot rename, the file cannot be reopened), then comes
// back: tracing resumes without a restart.
func TestTraceResumesWhenWritingWorksAgain(t *testing.T) {
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	dir := filepath.Join(t.TempDir(), "traces")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "trace.jsonl")
	tr, err := OpenTrace(path, 1, log) // every line rotates the file
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	g := newTraceRig(t, tr, log)
	g.tick(2)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	g.tick(3)
	if tr.Failures() != 3 || strings.Count(logs.String(), "trace_write_failed") != 1 {
		t.Fatalf("%d failures, log:\n%s", tr.Failures(), logs.String())
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	g.tick(1)
	lines := readTrace(t, path)
	if len(lines) != 1 || lines[0].Tick != 6 {
		t.Fatalf("after the directory came back: %+v, want tick 6", lines)
	}
	if !strings.Contains(logs.String(), "trace_resumed") || !strings.Contains(logs.String(), "lost_ticks=3") {
		t.Fatalf("resumption not logged with the ticks lost:\n%s", logs.String())
	}
	if g.act.demands != 6 {
		t.Fatalf("the runner made %d demands in 6 ticks", g.act.demands)
	}
}

func TestTraceTickDoesNotAllocate(t *testing.T) {
	tr, err := OpenTrace(filepath.Join(t.TempDir(), "trace.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var rec TickRecord
	rec.Time = time.Now()
	rec.State = NewState()
	rec.State.HasSeen = true
	tr.Tick(&rec)
	if a := testing.AllocsPerRun(50, func() { rec.State.Tick++; tr.Tick(&rec) }); a > 0 {
		t.Fatalf("%v allocations per tick", a)
	}
}

func TestTraceIgnoresTicksAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	tr, err := OpenTrace(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newTraceRig(t, tr, nil)
	g.tick(2)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	g.tick(2)
	if n := len(readTrace(t, path)); n != 2 {
		t.Fatalf("%d lines, want the 2 written before Close", n)
	}
}
