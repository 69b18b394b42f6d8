package localmaster

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// With MaxStarting 1, a task still fetching holds the only launch slot: the next task of the
// burst waits its turn (no STARTING), a KILL ends it as killed during launch, and the master
// goes on answering calls meanwhile. Once the fetch ends the first task runs.
func TestLaunchSlotsAndKillWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	fetching := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case fetching <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = w.Write([]byte("data"))
	}))
	defer srv.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	m := startMaster(t, Config{Resources: "cpus:2;mem:1024", MaxStarting: 1})
	s := newSched(t, m, frameworkInfo("slots", 60), mediaProtobuf, true)
	o := s.offer()
	slow := cmdTask("slow", "sleep 30", o, 0.1, 32)
	slow.Command.URIs = []mesos.CommandInfo_URI{{Value: srv.URL + "/data.txt"}}
	launch(s, o, &mesos.Filters{RefuseSeconds: ptr(0.0)}, slow)
	select {
	case <-fetching:
	case <-time.After(5 * time.Second):
		t.Fatal("the first task never fetched its URI")
	}
	o = s.offer()
	launch(s, o, nil, cmdTask("waiting", "sleep 30", o, 0.1, 32))

	s.none(300*time.Millisecond, "an update while the only slot is fetching", isType(scheduler.Event_UPDATE))
	start := time.Now()
	s.call(calls.Reconcile(calls.ReconcileTasks(map[string]string{"slow": m.agentID})))
	s.waitFor(5*time.Second, "reconciliation answer", isUpdate("slow", mesos.TASK_STAGING))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a RECONCILE took %v to answer while a task was launching", d)
	}

	s.call(calls.Kill("waiting", m.agentID))
	ev := s.waitFor(5*time.Second, "waiting TASK_KILLED", isUpdate("waiting", mesos.TASK_KILLED))
	if r := ev.Update.Status.GetReason(); r != mesos.REASON_TASK_KILLED_DURING_LAUNCH {
		t.Fatalf("killed with reason %v, want REASON_TASK_KILLED_DURING_LAUNCH", r)
	}

	close(release)
	s.waitFor(10*time.Second, "slow TASK_RUNNING", isUpdate("slow", mesos.TASK_RUNNING))
	for _, e := range s.backlog {
		if e.Type == scheduler.Event_UPDATE && e.Update.Status.TaskID.Value == "waiting" && e.Update.Status.GetState() != mesos.TASK_KILLED {
			t.Fatalf("killed task reported %v", e.Update.Status.GetState())
		}
	}
}

// readRegistry decodes WorkDir/registry.json.
func readRegistry(t *testing.T, m *Master) registry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.WorkDir(), "registry.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reg registry
	if err := json.Unmarshal(b, &reg); err != nil {
		t.Fatalf("registry: %v", err)
	}
	return reg
}

// The registry follows every change of a task (its state, its unacknowledged updates, its
// pid, its end), though unchanged records are not encoded again.
func TestRegistryFollowsTaskChanges(t *testing.T) {
	m := startMaster(t, Config{Resources: "cpus:2;mem:1024"})
	s := newSched(t, m, frameworkInfo("registry", 60), mediaProtobuf, false)
	o := s.offer()
	launch(s, o, nil, cmdTask("a", "sleep 30", o, 0.1, 32), cmdTask("b", "sleep 30", o, 0.1, 32))
	task := func(id string) (regTask, bool) {
		for _, rt := range readRegistry(t, m).Tasks {
			if rt.ID == id {
				return rt, true
			}
		}
		return regTask{}, false
	}
	want := func(what, id, state string, pending int, alive bool) {
		t.Helper()
		waitUntil(t, 5*time.Second, what, func() bool {
			rt, ok := task(id)
			return ok == alive && (!alive || rt.State == state && len(rt.Pending) == pending && rt.PID > 0)
		})
	}
	starting := s.waitFor(5*time.Second, "a STARTING", isUpdate("a", mesos.TASK_STARTING))
	want("a running, STARTING and RUNNING unacknowledged", "a", "TASK_RUNNING", 2, true)
	s.call(calls.Acknowledge(m.agentID, "a", starting.Update.Status.UUID))
	running := s.waitFor(5*time.Second, "a RUNNING", isUpdate("a", mesos.TASK_RUNNING))
	want("a's STARTING acknowledged", "a", "TASK_RUNNING", 1, true)
	s.call(calls.Acknowledge(m.agentID, "a", running.Update.Status.UUID))
	want("a's RUNNING acknowledged", "a", "TASK_RUNNING", 0, true)
	s.call(calls.Kill("a", m.agentID))
	killed := s.waitFor(10*time.Second, "a KILLED", isUpdate("a", mesos.TASK_KILLED))
	want("a killed, unacknowledged", "a", "TASK_KILLED", 1, true)
	s.call(calls.Acknowledge(m.agentID, "a", killed.Update.Status.UUID))
	want("a gone from the live tasks", "a", "", 0, false)
	waitUntil(t, 5*time.Second, "a in the completed tasks", func() bool {
		for _, ct := range readRegistry(t, m).Completed {
			if ct.ID == "a" && ct.State == "TASK_KILLED" {
				return true
			}
		}
		return false
	})
	if rt, ok := task("b"); !ok || rt.State != "TASK_RUNNING" || len(rt.Pending) != 2 {
		t.Fatalf("b in the registry: %+v %v, want running with its 2 updates unacknowledged", rt, ok)
	}
	if n := len(readRegistry(t, m).Launches); n != 2 {
		t.Fatalf("%d launches in the registry, want 2", n)
	}
}
