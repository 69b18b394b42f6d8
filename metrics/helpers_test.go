package metrics

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// testLogger sends logs to t.Log.
func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Output: tLogWriter{t}, Level: hclog.Debug})
}

type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// statusBox is a StatusProvider whose status a test sets.
type statusBox struct {
	mu sync.Mutex
	st Status
}

func (b *statusBox) Status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

func (b *statusBox) set(f func(*Status)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.st)
}

// replica is one replica's metrics, status and HTTP server, for tests.
type replica struct {
	reg    *prometheus.Registry
	m      *Metrics
	status *statusBox
	clock  *fakeClock
	srv    *Server
	http   *httptest.Server
}

func newReplica(t testing.TB, st Status, opts ...Option) *replica {
	t.Helper()
	clock := newFakeClock(time.Now().Add(-time.Hour).Truncate(time.Second))
	reg := prometheus.NewRegistry()
	m := New(reg, append([]Option{WithClock(clock.Now)}, opts...)...)
	box := &statusBox{st: st}
	cfg := DefaultServerConfig()
	cfg.Clock = clock
	cfg.ProxyTimeout = 500 * time.Millisecond
	srv, err := NewServer(cfg, m, reg, box, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	if st.Address == "" {
		box.set(func(s *Status) { s.Address = strings.TrimPrefix(hs.URL, "http://") })
	}
	return &replica{reg: reg, m: m, status: box, clock: clock, srv: srv, http: hs}
}

// get fetches path and returns the status code and body.
func get(t testing.TB, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// feedTicks runs n ticks of a plausible session starting at start, one per second: the
// metric climbs towards a target of 50 as warmers run, with a source miss at ticks in
// misses and starvation at ticks in starved.
func feedTicks(m *Metrics, start time.Time, n int, misses, starved map[int]bool) {
	running := 0
	for i := 0; i < n; i++ {
		target := 50.0
		if i >= n/2 {
			target = 35
		}
		metric := target - 30*math.Exp(-float64(i)/25) + 2*math.Sin(float64(i)/4)
		if i >= n/2 {
			metric = target + 12*math.Exp(-float64(i-n/2)/12) + 1.5*math.Sin(float64(i)/5)
		}
		req := KindUnits{}
		if i%7 == 0 && i < n/2 {
			req.Warmer = 1 + i%3
		}
		if i >= n/2 && i%9 == 0 {
			req.Cooler = 2
		}
		running = min(12, running+req.Warmer)
		if i%11 == 0 && running > 0 {
			running--
		}
		r := TickReport{
			Time: start.Add(time.Duration(i) * time.Second), Metric: metric, Target: target,
			MetricOK: !misses[i], TargetOK: true, Requested: req, Starved: starved[i],
			Ledger: Ledger{Warmer: TaskCounts{Running: running, Pending: req.Warmer}},
			Terms:  map[string]float64{"drift": -0.1, "warmer_per_unit": 2.5, "warmer_lag": 3},
			Took:   15 * time.Millisecond,
		}
		if starved[i] {
			r.Ledger.Warmer.Ungranted = 1
		}
		if i >= n/2 {
			r.Ledger.Cooler = TaskCounts{Running: (i - n/2) / 9, Pending: req.Cooler}
		}
		m.Tick(r)
	}
}
