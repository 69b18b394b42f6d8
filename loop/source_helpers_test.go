package loop

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// srcTRead parses one leaf spec and reads it once with a timeout.
func srcTRead(t *testing.T, spec string, opt SourceOptions, timeout time.Duration) (float64, error) {
	t.Helper()
	src, err := ParseSource(spec, opt)
	if err != nil {
		t.Fatalf("ParseSource(%q): %v", spec, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return src.Read(ctx, time.Now())
}

// srcTWant checks a read: a value when class is "", else a miss of that class whose text
// contains every fragment.
func srcTWant(t *testing.T, spec string, v float64, err error, want float64, class string, fragments ...string) {
	t.Helper()
	if class == "" {
		if err != nil || v != want {
			t.Errorf("%s: got %v, %v; want %v", spec, v, err, want)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: got %v, want a %s miss", spec, v, class)
		return
	}
	if got := MissClass(err); got != class {
		t.Errorf("%s: class %q (error %v), want %q", spec, got, err, class)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %q does not mention %q", spec, err, f)
		}
	}
}

// srcTLog is a logger that keeps its lines (for counting) and copies them to t.Log.
type srcTLog struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *srcTLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimSpace(string(p)))
	return l.b.Write(p)
}

func (l *srcTLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), " "+msg+":")
}

func srcTLogger(t *testing.T) (hclog.Logger, *srcTLog) {
	w := &srcTLog{t: t}
	return hclog.New(&hclog.LoggerOptions{Output: w, Level: hclog.Debug}), w
}

// srcTMisses records SourceMiss calls.
type srcTMisses struct {
	mu    sync.Mutex
	calls []string // "source/class"
}

func (m *srcTMisses) SourceMiss(source, class string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, source+"/"+class)
}

func (m *srcTMisses) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

// srcTParse is ParseSources that fails the test on error.
func srcTParse(t *testing.T, metric, target string, named []string, opt SourceOptions) *Sources {
	t.Helper()
	s, err := ParseSources(metric, target, named, opt)
	if err != nil {
		t.Fatalf("ParseSources: %v", err)
	}
	return s
}

func TestMissClassOfWrappedErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.Join(errors.New("x"), ErrSourceCommand), MissCommand},
		{context.DeadlineExceeded, MissTimeout},
		{errors.Join(ErrSourceHTTP, context.DeadlineExceeded), MissTimeout}, // a deadline wins
		{ErrSourceParse, MissParse},
		{ErrSourceInvalid, MissInvalid},
		{errors.New("file: no such file"), MissOther},
		{nil, ""},
	} {
		if got := MissClass(c.err); got != c.want {
			t.Errorf("MissClass(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
