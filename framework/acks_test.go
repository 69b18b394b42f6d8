package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// workerOf is the acker worker a task's acknowledgements go through.
func workerOf(task string, workers int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(task))
	return int(h.Sum32() % uint32(workers))
}

// One task's acknowledgements go out in the order of its updates; another task's are not held
// up behind a slow one.
func TestAckerOrderPerTaskParallelAcrossTasks(t *testing.T) {
	t.Parallel()
	a, b := "relay-warmer-t1-1", ""
	for i := 2; b == ""; i++ {
		if id := fmt.Sprintf("relay-warmer-t1-%d", i); workerOf(id, 2) != workerOf(a, 2) {
			b = id
		}
	}
	release := make(chan struct{})
	var mu sync.Mutex
	var sent []string
	send := func(ctx context.Context, x ack) {
		if x.task == a && string(x.uuid) == "1" {
			<-release // the first acknowledgement of a is slow
		}
		mu.Lock()
		sent = append(sent, x.task+"/"+string(x.uuid))
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	acks := startAcker(ctx, 2, 16, send)
	defer func() { cancel(); acks.wait() }()
	for _, x := range []ack{{task: a, uuid: []byte("1")}, {task: a, uuid: []byte("2")}, {task: b, uuid: []byte("1")}} {
		if !acks.enqueue(ctx, x) {
			t.Fatal("enqueue refused")
		}
	}
	got := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), sent...) }
	waitUntil(t, 5*time.Second, b+"'s ack while "+a+"'s first is stuck", func() bool { return len(got()) == 1 })
	holds(t, 100*time.Millisecond, a+"'s second ack waits for its first", func() bool { return len(got()) == 1 })
	close(release)
	waitUntil(t, 5*time.Second, "all acks", func() bool { return len(got()) == 3 })
	if s := got(); s[0] != b+"/1" || s[1] != a+"/1" || s[2] != a+"/2" {
		t.Fatalf("acks sent in order %v, want %s/1 then %s/1, %s/2", s, b, a, a)
	}
}

// blockingCaller answers every call but holds ACKNOWLEDGEs until released, and can fail them.
type blockingCaller struct {
	fakeCaller
	release chan struct{}
	fail    bool
}

func (c *blockingCaller) Call(ctx context.Context, call *scheduler.Call) (mesos.Response, error) {
	if call.GetType() == scheduler.Call_ACKNOWLEDGE {
		select {
		case <-c.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if c.fail {
			return nil, errors.New("connection refused")
		}
	}
	return c.fakeCaller.Call(ctx, call)
}

// Status updates are applied while their acknowledgements are still on their way: reading
// events never waits on an ACKNOWLEDGE round trip. Every update with a uuid is acknowledged;
// a failed acknowledgement is counted.
func TestUpdatesDoNotWaitForAcknowledgements(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail=%v", fail), func(t *testing.T) {
			s, _, _ := offerSched(t, Config{})
			rec := s.rec.(*fakeRecorder)
			bc := &blockingCaller{release: make(chan struct{}), fail: fail}
			sub := &subscription{s: s, caller: bc, endpoint: "http://127.0.0.1:5050", log: s.log}
			ctx, cancel := context.WithCancel(context.Background())
			sub.acks = startAcker(ctx, ackWorkers, ackQueue, sub.acknowledge)
			defer func() { cancel(); sub.acks.wait() }()

			const n = 20
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range n {
					st := mesos.TaskStatus{TaskID: mesos.TaskID{Value: fmt.Sprintf("relay-warmer-t0-%d", i+1)},
						State: mesos.TASK_RUNNING.Enum(), AgentID: &mesos.AgentID{Value: "a1"}, UUID: []byte(fmt.Sprintf("uuid-%02d-xxxxxxx", i))}
					sub.update(ctx, st)
				}
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("update() waited for its acknowledgement")
			}
			if got := s.Ledger().Counts(false).Warmer.Running; got != n {
				t.Fatalf("ledger has %d running tasks, want %d", got, n)
			}
			if got := len(bc.of(scheduler.Call_ACKNOWLEDGE)); got != 0 {
				t.Fatalf("%d acknowledgements answered before the caller let them through", got)
			}
			close(bc.release)
			if fail {
				rec.waitFor(t, "problem:call_acknowledge", n)
				return
			}
			waitUntil(t, 5*time.Second, "every update acknowledged", func() bool { return len(bc.of(scheduler.Call_ACKNOWLEDGE)) == n })
			seen := map[string]bool{}
			for _, c := range bc.of(scheduler.Call_ACKNOWLEDGE) {
				seen[c.Acknowledge.TaskID.Value+"/"+string(c.Acknowledge.UUID)] = true
			}
			for i := range n {
				if k := fmt.Sprintf("relay-warmer-t0-%d/uuid-%02d-xxxxxxx", i+1, i); !seen[k] {
					t.Errorf("no acknowledgement for %s", k)
				}
			}
		})
	}
}

// A REVIVE clears the refuse-filter flag only if no ACCEPT or DECLINE was sent or answered
// meanwhile: the master may have taken that call after the REVIVE, and then the next demand
// would wait out its filter.
func TestReviveClearsFilterOnlyWithoutRacingCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		between    func(s *Scheduler)
		demand     int
		filtered   bool
		kickedNext bool
	}{
		{name: "nothing in between", between: func(*Scheduler) {}, filtered: false},
		{name: "ACCEPT sent in between", between: func(s *Scheduler) { s.noteFilter(false) }, filtered: true},
		{name: "ACCEPT answered in between", between: func(s *Scheduler) { s.noteFilter(true) }, filtered: true},
		{name: "ACCEPT answered after, demand waiting", between: func(*Scheduler) {}, demand: 3, filtered: false, kickedNext: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := offerSched(t, Config{})
			s.noteFilter(true) // an earlier ACCEPT left a filter
			s.mu.Lock()
			seq := s.filterSeq // the driver decides to REVIVE
			s.mu.Unlock()
			tc.between(s)
			s.revived(seq)
			s.mu.Lock()
			got := s.filtered
			s.mu.Unlock()
			if got != tc.filtered {
				t.Fatalf("filtered = %v after the REVIVE, want %v", got, tc.filtered)
			}
			if !tc.kickedNext {
				return
			}
			// An ACCEPT answered after the REVIVE cleared the flag, with demand still waiting:
			// the driver is kicked to REVIVE again now, not at its next tick.
			s.Demand(tc.demand, 0)
			<-s.kick // Demand's own kick
			s.noteFilter(true)
			select {
			case <-s.kick:
			default:
				t.Fatal("no kick after an ACCEPT answered behind a REVIVE")
			}
		})
	}
}

// httpCaller posts calls to a URL over real HTTP, with the caller's context.
type httpCaller struct{ url string }

func (c httpCaller) Call(ctx context.Context, call *scheduler.Call) (mesos.Response, error) {
	b, err := call.Marshal()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return nil, nil
}

// Offer-to-ACCEPT ends when the ACCEPT request is written, not when the master answers it.
func TestOfferToAcceptEndsWhenAcceptWritten(t *testing.T) {
	t.Parallel()
	const answerDelay = time.Second
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(answerDelay)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	s, _, _ := offerSched(t, Config{Task: Resources{CPUs: 0.1, Mem: 32}})
	rec := &latencyRecorder{fakeRecorder: s.rec.(*fakeRecorder)}
	s.rec = rec
	sub := &subscription{s: s, caller: httpCaller{url: srv.URL}, endpoint: srv.URL, log: s.log}
	s.Demand(1, 0)
	offer := testOffer("o1", "a1", scalar("cpus", 1, "*", ""), scalar("mem", 1000, "*", ""))
	arrived := time.Now()
	if err := sub.offersAt(context.Background(), []mesos.Offer{offer}, arrived); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(arrived); took < answerDelay {
		t.Fatalf("offers returned after %v, before the master answered (%v)", took, answerDelay)
	}
	lat := rec.since(0)
	if len(lat) != 1 {
		t.Fatalf("%d offer-to-ACCEPT figures, want 1", len(lat))
	}
	if d := time.Duration(lat[0] * float64(time.Second)); d <= 0 || d >= answerDelay {
		t.Fatalf("offer-to-ACCEPT %v, want the time to the request written (> 0, < the %v answer)", d, answerDelay)
	}
}
