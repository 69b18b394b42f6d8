package loop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"
)

var _ Reader = (*Sources)(nil)

func TestEachNamedSourceIsReadOnceATickAndUnusedOnesNever(t *testing.T) {
	dir := t.TempDir()
	count := func(name string) int {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return strings.Count(string(b), "x")
	}
	s := srcTParse(t, "expr:q + half", "expr:q * 2 + mean(q, 5)", []string{
		"q=cmd:echo x >> q.count; echo 10",
		"half=expr:q / 2",
		"unused=cmd:echo x >> unused.count; echo 1",
	}, SourceOptions{Dir: dir})
	for i := range 3 {
		m, tg := s.Read(context.Background(), time.Unix(int64(i), 0))
		if !m.OK || m.Value != 15 || !tg.OK || tg.Value != 30 {
			t.Fatalf("tick %d: metric %+v target %+v, want 15 and 30", i, m, tg)
		}
	}
	if got := count("q.count"); got != 3 {
		t.Errorf("q ran %d times in 3 ticks, want 3", got)
	}
	if got := count("unused.count"); got != 0 {
		t.Errorf("an unused source ran %d times", got)
	}
	if st, _ := s.Status().Get("unused"); st.Used || st.Reads != 0 {
		t.Errorf("unused source status %+v", st)
	}
}

func TestIndependentSlowSourcesAreReadConcurrently(t *testing.T) {
	s := srcTParse(t, "expr:a + b + c", "cmd:sleep 0.4; echo 1", []string{
		"a=cmd:sleep 0.4; echo 1", "b=cmd:sleep 0.4; echo 2", "c=cmd:sleep 0.4; echo 3",
	}, SourceOptions{})
	start := time.Now()
	m, tg := s.Read(context.Background(), time.Now())
	took := time.Since(start)
	if !m.OK || m.Value != 6 || !tg.OK {
		t.Fatalf("metric %+v target %+v", m, tg)
	}
	if took > 1200*time.Millisecond { // 4 x 0.4 s one after the other would be 1.6 s
		t.Errorf("four 0.4 s commands took %v: not concurrent", took)
	}
}

func TestAHangingSourceMissesAtTheTimeoutAndTheOthersStillRead(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	misses := &srcTMisses{}
	s := srcTParse(t, "cmd:sleep 30", "7", nil, SourceOptions{Timeout: 200 * time.Millisecond, Misses: misses})
	start := time.Now()
	m, tg := s.Read(context.Background(), time.Now())
	if took := time.Since(start); took > 200*time.Millisecond+srcPipeGrace+time.Second {
		t.Errorf("the tick took %v with a 200ms source timeout", took)
	}
	if m.OK || !tg.OK || tg.Value != 7 {
		t.Errorf("metric %+v target %+v: want a miss and 7", m, tg)
	}
	if got := misses.list(); !slices.Equal(got, []string{"metric/timeout"}) {
		t.Errorf("misses recorded %v", got)
	}
}

func TestARunOfMissesIsCountedShownAndLoggedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q")
	log, lines := srcTLogger(t)
	misses := &srcTMisses{}
	s := srcTParse(t, "expr:q * 2", "file:"+path, []string{"q=file:" + path}, SourceOptions{Log: log, Misses: misses})
	t0 := time.Unix(1_000_000, 0)
	tick := func(i int) (Sample, Sample) {
		return s.Read(context.Background(), t0.Add(time.Duration(i)*time.Second))
	}

	if err := os.WriteFile(path, []byte("5"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, _ := tick(0); !m.OK || m.Value != 10 {
		t.Fatalf("first tick %+v", m)
	}
	_ = os.Remove(path) // ticks 1..5: other (no file)
	for i := 1; i <= 5; i++ {
		if m, tg := tick(i); m.OK || tg.OK {
			t.Fatalf("tick %d acted on a stale value: %+v %+v", i, m, tg)
		}
	}
	if err := os.WriteFile(path, []byte("oops"), 0o600); err != nil { // ticks 6..7: parse
		t.Fatal(err)
	}
	tick(6)
	tick(7)

	st := s.Status()
	q, _ := st.Get("q")
	m, _ := st.Get("metric")
	if q.ConsecutiveMisses != 7 || q.Misses != 7 || q.Reads != 8 || q.LastClass != MissParse ||
		!strings.Contains(q.LastError, `"oops"`) || q.LastValue != 5 || !q.LastGood.Equal(t0) ||
		!q.MissingSince.Equal(t0.Add(time.Second)) {
		t.Errorf("q status after 7 misses: %+v", q)
	}
	if m.ConsecutiveMisses != 7 || m.LastClass != MissParse || !strings.Contains(m.LastError, "input q missed") {
		t.Errorf("metric status: %+v", m)
	}
	// One miss line per source when the run starts and one when its class changes.
	if got := lines.count("source_miss"); got != 6 {
		t.Errorf("%d source_miss lines for 3 sources x (start + class change), want 6", got)
	}
	if got := len(misses.list()); got != 21 {
		t.Errorf("%d misses counted, want 3 sources x 7 ticks = 21", got)
	}
	if err := os.WriteFile(path, []byte("6"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, tg := tick(8); !m.OK || m.Value != 12 || !tg.OK || tg.Value != 6 {
		t.Fatalf("after recovery: %+v %+v", m, tg)
	}
	if got := lines.count("source_recovered"); got != 3 {
		t.Errorf("%d source_recovered lines, want 3", got)
	}
	q, _ = s.Status().Get("q")
	if q.ConsecutiveMisses != 0 || q.Misses != 7 || q.LastValue != 6 || !q.MissingSince.IsZero() {
		t.Errorf("q status after recovery: %+v", q)
	}
	// Status is what an endpoint would serve.
	b, err := json.Marshal(s.Status())
	if err != nil || !strings.Contains(string(b), `"consecutive_misses":0`) || strings.Contains(string(b), "missing_since") {
		t.Errorf("status JSON %s %v", b, err)
	}
}

func TestACancelledReadCountsNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	misses := &srcTMisses{}
	s := srcTParse(t, "cmd:sleep 30", "1", nil, SourceOptions{Misses: misses, Log: hclog.NewNullLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	m, tg := s.Read(ctx, time.Now())
	if m.OK || tg.OK {
		t.Errorf("a cancelled read gave %+v %+v", m, tg)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the cancelled read took %v", took)
	}
	if got := misses.list(); len(got) != 0 {
		t.Errorf("a cancelled read counted misses %v", got)
	}
	if st, _ := s.Status().Get("metric"); st.Reads != 0 {
		t.Errorf("a cancelled read was recorded: %+v", st)
	}
}

func TestSourcesDriveTheRunner(t *testing.T) {
	s := srcTParse(t, "expr:q", "expr:max_consumers * is_night", []string{
		"q=cmd:echo 3", "max_consumers=8", "is_night=daily:22:00-06:00,tz=UTC",
	}, SourceOptions{})
	clock := &fakeClock{now: time.Date(2026, 1, 5, 23, 0, 0, 0, time.UTC)}
	var got []Input
	obs := ObserverFunc(func(rec *TickRecord) { got = append(got, rec.Input) })
	r, err := NewRunner(RunnerConfig{Delay: time.Second, SourceTimeout: 5 * time.Second}, New(DefaultConfig()), s,
		&recordingActuator{}, obs, clock, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	r.Tick(context.Background())
	if len(got) != 1 || got[0].Metric != (Sample{Value: 3, OK: true}) || got[0].Target != (Sample{Value: 8, OK: true}) {
		t.Errorf("runner saw %+v, want metric 3 and target 8", got)
	}
}
