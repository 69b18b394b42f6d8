package localmaster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// tlog sends log lines to t.Log until the test ends.
type tlog struct {
	mu   sync.Mutex
	t    *testing.T
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

func testLogger(t *testing.T) hclog.Logger {
	w := &tlog{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return hclog.New(&hclog.LoggerOptions{Output: w, Level: hclog.Debug})
}

// startMaster runs a Master with test-friendly timings until the test ends.
func startMaster(t *testing.T, cfg Config) *Master {
	t.Helper()
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 500 * time.Millisecond
	}
	if cfg.OfferInterval == 0 {
		cfg.OfferInterval = 30 * time.Millisecond
	}
	if cfg.UpdateRetry == 0 {
		cfg.UpdateRetry = 2 * time.Second
	}
	cfg.KillTasksOnExit = true // leave no processes behind
	m, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return")
		}
	})
	return m
}

// sched is a mesos-go v0.0.11 httpsched client with its event stream in a channel.
type sched struct {
	t       *testing.T
	caller  calls.Caller
	resp    mesos.Response
	fwID    string
	events  chan *scheduler.Event
	ended   chan error
	autoAck bool
	backlog []*scheduler.Event // events read but not yet matched (heartbeats dropped)
}

func newSched(t *testing.T, m *Master, fi mesos.FrameworkInfo, codec string, autoAck bool) *sched {
	t.Helper()
	cli := httpcli.New(
		httpcli.Endpoint(m.URL()+"/api/v1/scheduler"),
		httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeProtobuf]),
		httpcli.Do(httpcli.With(httpcli.Timeout(5*time.Second))),
	)
	if codec == mediaJSON {
		cli.With(httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeJSON]))
	}
	s := &sched{
		t:       t,
		caller:  httpsched.NewCaller(cli, httpsched.EndpointCandidates(func() string { return "" })),
		events:  make(chan *scheduler.Event, 10000),
		ended:   make(chan error, 1),
		autoAck: autoAck,
	}
	call := calls.Subscribe(&fi)
	if fi.ID != nil {
		call = call.With(calls.SubscribeTo(fi.ID.Value))
	}
	resp, err := s.caller.Call(context.Background(), call)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	s.resp = resp
	t.Cleanup(func() { _ = resp.Close() })
	go s.read()
	ev := s.waitFor(5*time.Second, "SUBSCRIBED", func(e *scheduler.Event) bool { return true })
	if ev.Type != scheduler.Event_SUBSCRIBED {
		t.Fatalf("first event %v, want SUBSCRIBED (%v)", ev.Type, ev)
	}
	s.fwID = ev.Subscribed.FrameworkID.Value
	return s
}

func (s *sched) read() {
	for {
		var e scheduler.Event
		if err := s.resp.Decode(&e); err != nil {
			s.ended <- err
			close(s.events)
			return
		}
		if s.autoAck && e.Type == scheduler.Event_UPDATE && len(e.Update.Status.UUID) > 0 {
			st := e.Update.Status
			_ = s.callErr(calls.Acknowledge(st.AgentID.Value, st.TaskID.Value, st.UUID))
		}
		s.events <- &e
	}
}

func (s *sched) callErr(c *scheduler.Call) error {
	if s.fwID != "" {
		c = c.With(calls.Framework(s.fwID))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return calls.CallNoData(ctx, s.caller, c)
}

func (s *sched) call(c *scheduler.Call) {
	s.t.Helper()
	if err := s.callErr(c); err != nil {
		s.t.Fatalf("call %v: %v", c.Type, err)
	}
}

// waitFor returns the first event matching pred, from the backlog or the stream; the
// events it passes over stay in the backlog. Fatal on timeout or end of stream.
func (s *sched) waitFor(d time.Duration, what string, pred func(*scheduler.Event) bool) *scheduler.Event {
	s.t.Helper()
	for i, e := range s.backlog {
		if pred(e) {
			s.backlog = append(s.backlog[:i:i], s.backlog[i+1:]...)
			return e
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				s.t.Fatalf("stream ended while waiting for %s", what)
			}
			if pred(e) {
				return e
			}
			if e.Type != scheduler.Event_HEARTBEAT {
				s.backlog = append(s.backlog, e)
			}
		case <-timer.C:
			s.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

// none asserts that no new event matching pred arrives within d.
func (s *sched) none(d time.Duration, what string, pred func(*scheduler.Event) bool) {
	s.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				return
			}
			if pred(e) {
				s.t.Fatalf("unexpected %s: %v", what, e)
			}
			if e.Type != scheduler.Event_HEARTBEAT {
				s.backlog = append(s.backlog, e)
			}
		case <-timer.C:
			return
		}
	}
}

func isType(t scheduler.Event_Type) func(*scheduler.Event) bool {
	return func(e *scheduler.Event) bool { return e.Type == t }
}

func isUpdate(taskID string, state mesos.TaskState) func(*scheduler.Event) bool {
	return func(e *scheduler.Event) bool {
		return e.Type == scheduler.Event_UPDATE && e.Update.Status.TaskID.Value == taskID && e.Update.Status.GetState() == state
	}
}

func (s *sched) offer() mesos.Offer {
	s.t.Helper()
	return s.waitFor(5*time.Second, "OFFERS", isType(scheduler.Event_OFFERS)).Offers.Offers[0]
}

func cmdTask(id, cmd string, offer mesos.Offer, cpus, mem float64) mesos.TaskInfo {
	return mesos.TaskInfo{
		Name:    "task " + id,
		TaskID:  mesos.TaskID{Value: id},
		AgentID: offer.AgentID,
		Command: &mesos.CommandInfo{Value: ptr(cmd)},
		Resources: []mesos.Resource{
			{Name: "cpus", Type: ptr(mesos.SCALAR), Scalar: &mesos.Value_Scalar{Value: cpus}},
			{Name: "mem", Type: ptr(mesos.SCALAR), Scalar: &mesos.Value_Scalar{Value: mem}},
		},
	}
}

func launch(s *sched, offer mesos.Offer, filters *mesos.Filters, tasks ...mesos.TaskInfo) {
	s.t.Helper()
	c := calls.Accept(calls.OfferOperations{calls.OpLaunch(tasks...)}.WithOffers(offer.ID))
	c.Accept.Filters = filters
	s.call(c)
}

func frameworkInfo(name string, failover float64, caps ...mesos.FrameworkInfo_Capability_Type) mesos.FrameworkInfo {
	fi := mesos.FrameworkInfo{User: "test", Name: name, FailoverTimeout: ptr(failover)}
	for _, c := range caps {
		fi.Capabilities = append(fi.Capabilities, mesos.FrameworkInfo_Capability{Type: c})
	}
	return fi
}

// raw HTTP helpers, for the transcript conformance tests.

func rawPost(t *testing.T, url string, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recordReader reads RecordIO records from a stream body.
type recordReader struct{ r *bufio.Reader }

func (rr recordReader) next() ([]byte, error) {
	line, err := rr.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(rr.r, b)
	return b, err
}

func (rr recordReader) nextJSON(t *testing.T) map[string]any {
	t.Helper()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() { b, err := rr.next(); ch <- res{b, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("read record: %v", r.err)
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(r.b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("record %q: %v", r.b, err)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("timed out reading a record")
		return nil
	}
}

func subscribeBody(name, id string, failover float64) string {
	fi := map[string]any{"user": "test", "name": name, "failover_timeout": failover}
	call := map[string]any{"type": "SUBSCRIBE"}
	if id != "" {
		fi["id"] = map[string]string{"value": id}
		call["framework_id"] = map[string]string{"value": id}
	}
	call["subscribe"] = map[string]any{"framework_info": fi}
	b, _ := json.Marshal(call)
	return string(b)
}

// waitUntil polls cond every 20ms for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
