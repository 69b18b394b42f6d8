package localmaster

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// TestSchedulerFailover: a second mesos-go client subscribing with the same id takes over;
// the first gets ERROR "Framework failed over" and its stream ends; the task survives.
func TestSchedulerFailover(t *testing.T) {
	m := startMaster(t, Config{})
	a := newSched(t, m, frameworkInfo("ha", 3600), mediaProtobuf, true)
	o := a.offer()
	launch(a, o, nil, cmdTask("keep", "sleep 30", o, 0.1, 32))
	a.waitFor(5*time.Second, "RUNNING", isUpdate("keep", mesos.TASK_RUNNING))

	fi := frameworkInfo("ha", 3600)
	fi.ID = &mesos.FrameworkID{Value: a.fwID}
	b := newSched(t, m, fi, mediaJSON, true)
	if b.fwID != a.fwID {
		t.Fatalf("failover got a new id %s, want %s", b.fwID, a.fwID)
	}
	ev := a.waitFor(3*time.Second, "ERROR", isType(scheduler.Event_ERROR))
	if ev.Error.Message != "Framework failed over" {
		t.Fatalf("error %q", ev.Error.Message)
	}
	select {
	case <-a.ended:
	case <-time.After(3 * time.Second):
		t.Fatal("old stream not closed")
	}
	b.call(calls.Reconcile(calls.ReconcileTasks(map[string]string{"keep": ""})))
	b.waitFor(3*time.Second, "reconciled RUNNING", isUpdate("keep", mesos.TASK_RUNNING))
	st := m.Snapshot()
	if len(st.Tasks) != 1 || st.Tasks[0].LaunchedBySubscription != 1 || len(st.Frameworks[0].Subscriptions) != 2 {
		t.Fatalf("state after failover: tasks %+v frameworks %+v", st.Tasks, st.Frameworks)
	}
}

// TestFailoverTimeout: when the stream breaks, the framework is disconnected (calls get 403)
// and, without re-subscription within failover_timeout, removed with its tasks killed. A
// framework that comes back in time keeps its tasks.
func TestFailoverTimeout(t *testing.T) {
	m := startMaster(t, Config{Admin: true})
	gone := newSched(t, m, frameworkInfo("gone", 0.5), mediaProtobuf, true)
	o := gone.offer()
	launch(gone, o, &mesos.Filters{RefuseSeconds: ptr(3600.0)}, cmdTask("doomed", "sleep 30", o, 0.1, 32))
	gone.waitFor(5*time.Second, "RUNNING", isUpdate("doomed", mesos.TASK_RUNNING))
	back := newSched(t, m, frameworkInfo("back", 30), mediaProtobuf, true)
	o = back.offer()
	launch(back, o, nil, cmdTask("kept", "sleep 30", o, 0.1, 32))
	back.waitFor(5*time.Second, "RUNNING", isUpdate("kept", mesos.TASK_RUNNING))
	var doomedPID int
	for _, ts := range m.Snapshot().Tasks {
		if ts.ID == "doomed" {
			doomedPID = ts.PID
		}
	}

	if n := m.DropStreams(); n != 2 {
		t.Fatalf("dropped %d streams, want 2", n)
	}
	for _, s := range []*sched{gone, back} {
		select {
		case err := <-s.ended:
			if err == nil || errors.Is(err, context.Canceled) {
				t.Logf("stream end: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("stream not dropped")
		}
	}
	// A raw call for the disconnected framework gets 403.
	res := rawPost(t, m.URL()+"/api/v1/scheduler", `{"framework_id":{"value":"`+back.fwID+`"},"type":"REVIVE"}`,
		map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": "x"})
	if body := readAll(t, res); res.StatusCode != 403 || body != "Framework is not subscribed" {
		t.Fatalf("disconnected call: %d %q", res.StatusCode, body)
	}
	fi := frameworkInfo("back", 30)
	fi.ID = &mesos.FrameworkID{Value: back.fwID}
	back2 := newSched(t, m, fi, mediaProtobuf, true)

	waitUntil(t, 5*time.Second, "framework removed", func() bool { return len(m.Snapshot().CompletedFrameworks) == 1 })
	waitUntil(t, 5*time.Second, "doomed process killed", func() bool { return syscall.Kill(doomedPID, 0) != nil })
	st := m.Snapshot()
	if len(st.Frameworks) != 1 || st.Frameworks[0].ID != back.fwID || len(st.Tasks) != 1 || st.Tasks[0].ID != "kept" {
		t.Fatalf("after timeout: frameworks %+v tasks %+v", st.Frameworks, st.Tasks)
	}
	back2.call(calls.Reconcile(calls.ReconcileTasks(map[string]string{"kept": ""})))
	back2.waitFor(3*time.Second, "kept RUNNING", isUpdate("kept", mesos.TASK_RUNNING))

	// The removed framework cannot come back.
	fi = frameworkInfo("gone", 0.5)
	fi.ID = &mesos.FrameworkID{Value: gone.fwID}
	res = rawPost(t, m.URL()+"/api/v1/scheduler", subscribeBody("gone", gone.fwID, 0.5), map[string]string{"Content-Type": "application/json"})
	if body := readAll(t, res); !strings.Contains(body, "Framework has been removed") {
		t.Fatalf("subscribe of removed framework: %d %q", res.StatusCode, body)
	}
}

// TestRestartAdoptsTasks: a new Master on the same WorkDir keeps the framework id, adopts
// the running task by pid (no duplicate), answers reconciliation with TASK_RUNNING, and
// reports a task that ended while it was down.
func TestRestartAdoptsTasks(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{WorkDir: dir, Heartbeat: 500 * time.Millisecond, OfferInterval: 30 * time.Millisecond, UpdateRetry: time.Second}
	m1, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- m1.Run(ctx1) }()
	s := newSched(t, m1, frameworkInfo("survivor", 3600), mediaProtobuf, true)
	o := s.offer()
	launch(s, o, nil, cmdTask("long", "sleep 30", o, 0.5, 64), cmdTask("short", "sleep 0.8", o, 0.5, 64))
	s.waitFor(5*time.Second, "RUNNING", isUpdate("long", mesos.TASK_RUNNING))
	s.waitFor(5*time.Second, "RUNNING", isUpdate("short", mesos.TASK_RUNNING))
	waitUntil(t, 3*time.Second, "acks", func() bool {
		for _, ts := range m1.Snapshot().Tasks {
			if ts.UnackedUpdates > 0 {
				return false
			}
		}
		return true
	})
	before := m1.Snapshot()
	stop1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	for _, ts := range before.Tasks {
		pids[ts.ID] = ts.PID
		if syscall.Kill(ts.PID, 0) != nil {
			t.Fatalf("task %s died with the master", ts.ID)
		}
	}
	t.Cleanup(func() {
		for _, pid := range pids {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	})

	m2 := startMaster(t, cfg)
	st := m2.Snapshot()
	if st.MasterID != before.MasterID || len(st.Frameworks) != 1 || st.Frameworks[0].Connected {
		t.Fatalf("recovered frameworks %+v", st.Frameworks)
	}
	fi := frameworkInfo("survivor", 3600)
	fi.ID = &mesos.FrameworkID{Value: s.fwID}
	s2 := newSched(t, m2, fi, mediaProtobuf, true)
	if s2.fwID != s.fwID {
		t.Fatalf("framework id %s after restart, want %s", s2.fwID, s.fwID)
	}
	s2.call(calls.Reconcile(calls.ReconcileTasks(map[string]string{"long": ""})))
	s2.waitFor(3*time.Second, "long RUNNING", isUpdate("long", mesos.TASK_RUNNING))
	ev := s2.waitFor(5*time.Second, "short FINISHED", isUpdate("short", mesos.TASK_FINISHED))
	if !strings.Contains(ev.Update.Status.GetMessage(), "recovered after master restart") {
		t.Fatalf("short: %q", ev.Update.Status.GetMessage())
	}
	st = m2.Snapshot()
	n := 0
	for _, ts := range st.Tasks {
		if ts.ID == "long" {
			n++
			if ts.PID != pids["long"] || !ts.Adopted || ts.State != "TASK_RUNNING" || ts.LaunchedBySubscription != 1 {
				t.Fatalf("adopted task %+v", ts)
			}
		}
	}
	if n != 1 || len(st.Launches) != 2 {
		t.Fatalf("tasks %+v launches %+v", st.Tasks, st.Launches)
	}
	if st.Frameworks[0].Subscriptions[len(st.Frameworks[0].Subscriptions)-1].Number != 2 {
		t.Fatalf("subscriptions %+v", st.Frameworks[0].Subscriptions)
	}
	s2.call(calls.Kill("long", ""))
	s2.waitFor(5*time.Second, "long KILLED", isUpdate("long", mesos.TASK_KILLED))
	waitUntil(t, 3*time.Second, "adopted process killed", func() bool { return syscall.Kill(pids["long"], 0) != nil })
}
