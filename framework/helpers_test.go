package framework

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/relay-mesos/relay-mesos/framework/localmaster"
)

// tlog sends log lines to t.Log until the test ends.
type tlog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tlog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t testing.TB, name string) hclog.Logger {
	w := &tlog{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return hclog.New(&hclog.LoggerOptions{Name: name, Output: w, Level: hclog.Debug})
}

// startMaster runs a localmaster on 127.0.0.1 with test timings until the test ends; its
// task processes are killed when it stops.
func startMaster(t *testing.T, cfg localmaster.Config) *localmaster.Master {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 200 * time.Millisecond
	}
	if cfg.OfferInterval == 0 {
		cfg.OfferInterval = 30 * time.Millisecond
	}
	if cfg.UpdateRetry == 0 {
		cfg.UpdateRetry = time.Second
	}
	if cfg.Resources == "" {
		cfg.Resources = "cpus:4;mem:4096;disk:10000"
	}
	cfg.KillTasksOnExit = true
	cfg.Admin = true
	m, err := localmaster.New(cfg, testLogger(t, "master"))
	if err != nil {
		t.Fatalf("localmaster.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("master Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("master Run did not return")
		}
	})
	return m
}

// fakeRecorder counts what the scheduler records, by "what:labels".
type fakeRecorder struct {
	mu sync.Mutex
	n  map[string]int
}

func newRecorder() *fakeRecorder { return &fakeRecorder{n: map[string]int{}} }

func (r *fakeRecorder) add(k string, v int) {
	r.mu.Lock()
	r.n[k] += v
	r.mu.Unlock()
}

func (r *fakeRecorder) get(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[k]
}

func (r *fakeRecorder) OffersReceived(n int)         { r.add("offers_received", n) }
func (r *fakeRecorder) OffersDeclined(n int)         { r.add("offers_declined", n) }
func (r *fakeRecorder) OffersUsed(n int)             { r.add("offers_used", n) }
func (r *fakeRecorder) OfferRescinded()              { r.add("offer_rescinded", 1) }
func (r *fakeRecorder) OfferToAccept(float64)        { r.add("offer_to_accept", 1) }
func (r *fakeRecorder) TaskLaunched(kind string)     { r.add("launched:"+kind, 1) }
func (r *fakeRecorder) TaskEnded(kind, state string) { r.add("ended:"+kind+":"+state, 1) }
func (r *fakeRecorder) TaskKillSent(kind string)     { r.add("kill_sent:"+kind, 1) }
func (r *fakeRecorder) LaunchBackoff(kind string, seconds float64) {
	r.mu.Lock() // a gauge: set, in one step (the update and drive goroutines both set it)
	r.n["backoff_ms:"+kind] = int(seconds * 1000)
	r.mu.Unlock()
}
func (r *fakeRecorder) MesosEvent(eventType string)   { r.add("event:"+eventType, 1) }
func (r *fakeRecorder) MesosProblem(class string)     { r.add("problem:"+class, 1) }
func (r *fakeRecorder) Subscribed(string)             { r.add("subscribed", 1) }
func (r *fakeRecorder) Disconnected(reason string)    { r.add("disconnected:"+reason, 1) }
func (r *fakeRecorder) Error(where string, err error) { r.add("error:"+where, 1) }
func (r *fakeRecorder) String() string                { r.mu.Lock(); defer r.mu.Unlock(); return fmt.Sprint(r.n) }
func (r *fakeRecorder) waitFor(t *testing.T, k string, n int) {
	t.Helper()
	waitUntil(t, 10*time.Second, fmt.Sprintf("recorder %s >= %d", k, n), func() bool { return r.get(k) >= n })
}

// testConfig is a scheduler config against m with quick timings. Warmer tasks append their id
// to dir/out and then wait for dir/stop.
func testConfig(master, dir string) Config {
	return Config{
		Master:        master,
		Name:          "fwtest",
		User:          "test",
		Task:          Resources{CPUs: 0.1, Mem: 16},
		Warmer:        fmt.Sprintf(`echo "$MESOS_TASK_ID" >> %s/out; while [ ! -e %s/stop ]; do sleep 0.05; done`, dir, dir),
		MinBackoff:    50 * time.Millisecond,
		MaxBackoff:    500 * time.Millisecond,
		CallTimeout:   5 * time.Second,
		ReconcileWait: 5 * time.Second,
	}
}

// lines reads dir/out: one line per warmer task that really ran.
func lines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "out"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func release(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// running is one Scheduler.Run owned by a test.
type running struct {
	s      *Scheduler
	rec    *fakeRecorder
	cancel context.CancelFunc
	exited chan struct{}
	err    error
}

// startSched makes a Scheduler and runs it until the test ends (or stop).
func startSched(t *testing.T, cfg Config, id string, ledger *Ledger, hooks Hooks) *running {
	t.Helper()
	rec := newRecorder()
	s, err := New(cfg, id, ledger, hooks, rec, testLogger(t, "sched"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, rec: rec, cancel: cancel, exited: make(chan struct{})}
	go func() { r.err = s.Run(ctx); close(r.exited) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it; Run must return nil then.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("Run did not return 10 s after cancel")
	}
}

// wait returns Run's error once it returned by itself within d.
func (r *running) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-r.exited:
		return r.err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v", d)
		return nil
	}
}

func (r *running) ready(t *testing.T) {
	t.Helper()
	select {
	case <-r.s.Ready():
	case <-r.exited:
		t.Fatalf("Run returned before Ready: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatalf("not Ready within 10 s (%+v)", r.s.Status())
	}
}

// waitUntil polls cond every 10ms for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holds asserts cond stays true for d.
func holds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// masterTasks counts the master's live tasks in state (any state when "").
func masterTasks(m *localmaster.Master, state string) int {
	n := 0
	for _, t := range m.Snapshot().Tasks {
		if state == "" || t.State == state {
			n++
		}
	}
	return n
}

func onlyFramework(t *testing.T, m *localmaster.Master) localmaster.FrameworkState {
	t.Helper()
	fws := m.Snapshot().Frameworks
	if len(fws) != 1 {
		t.Fatalf("master has %d frameworks, want 1", len(fws))
	}
	return fws[0]
}

// proxy is an HTTP proxy in front of a localmaster that sees every scheduler call. It can
// answer calls itself, pose as the leader (SUBSCRIBED's master_info then names the proxy),
// and freeze the event streams it forwards.
type proxy struct {
	target string
	srv    *httptest.Server
	quit   chan struct{}
	leader bool // rewrite master_info.address to the proxy

	mu      sync.Mutex
	calls   []*scheduler.Call
	answer  func(*scheduler.Call) int // a status to answer instead of forwarding, 0 to forward
	onCall  func(*scheduler.Call)
	streams map[chan struct{}]bool // freeze channel of each live stream
}

func startProxy(t *testing.T, target string, leader bool) *proxy {
	t.Helper()
	p := &proxy{target: target, leader: leader, quit: make(chan struct{}), streams: map[chan struct{}]bool{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		close(p.quit)
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	return p
}

func (p *proxy) addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// count is how many calls of type ct went through (or were answered by) the proxy.
func (p *proxy) count(ct scheduler.Call_Type) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.GetType() == ct {
			n++
		}
	}
	return n
}

func (p *proxy) callsOf(ct scheduler.Call_Type) []*scheduler.Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*scheduler.Call
	for _, c := range p.calls {
		if c.GetType() == ct {
			out = append(out, c)
		}
	}
	return out
}

// freeze stops forwarding events on every stream open now (new streams flow).
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ch, frozen := range p.streams {
		if !frozen {
			close(ch)
			p.streams[ch] = true
		}
	}
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	call := &scheduler.Call{}
	if r.Header.Get("Content-Type") == "application/x-protobuf" {
		_ = call.Unmarshal(body)
	}
	p.mu.Lock()
	p.calls = append(p.calls, call)
	answer, onCall := p.answer, p.onCall
	p.mu.Unlock()
	if onCall != nil {
		onCall(call)
	}
	if answer != nil {
		if code := answer(call); code != 0 {
			http.Error(w, "answered by the test proxy", code)
			return
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-p.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, r.Method, p.target+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Content-Type", "Accept", "Mesos-Stream-Id", "Authorization"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	if call.GetType() != scheduler.Call_SUBSCRIBE || res.StatusCode != http.StatusOK {
		_, _ = io.Copy(w, res.Body)
		return
	}
	freeze := make(chan struct{})
	p.mu.Lock()
	p.streams[freeze] = false
	p.mu.Unlock()
	defer func() { p.mu.Lock(); delete(p.streams, freeze); p.mu.Unlock() }()
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	br := bufio.NewReader(res.Body)
	protobuf := strings.HasPrefix(res.Header.Get("Content-Type"), "application/x-protobuf")
	for {
		rec, err := readRecord(br)
		if err != nil {
			return
		}
		select {
		case <-freeze:
			<-ctx.Done() // frozen: forward nothing more, hold the connection open
			return
		default:
		}
		if p.leader && protobuf {
			rec = p.asLeader(rec)
		}
		if _, err := fmt.Fprintf(w, "%d\n%s", len(rec), rec); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// asLeader rewrites SUBSCRIBED's master_info so that it names the proxy.
func (p *proxy) asLeader(rec []byte) []byte {
	var ev scheduler.Event
	if err := ev.Unmarshal(rec); err != nil || ev.GetType() != scheduler.Event_SUBSCRIBED || ev.Subscribed.MasterInfo == nil {
		return rec
	}
	host, portS, _ := net.SplitHostPort(p.addr())
	port, _ := strconv.Atoi(portS)
	ev.Subscribed.MasterInfo.Address = &mesos.Address{IP: &host, Hostname: &host, Port: int32(port)}
	out, err := ev.Marshal()
	if err != nil {
		return rec
	}
	return out
}

func readRecord(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	return b, err
}

// taskIDs of the LAUNCH operations of an ACCEPT.
func launchedIDs(c *scheduler.Call) []string {
	var out []string
	for _, op := range c.GetAccept().GetOperations() {
		for _, ti := range op.GetLaunch().GetTaskInfos() {
			out = append(out, ti.TaskID.Value)
		}
	}
	return out
}
