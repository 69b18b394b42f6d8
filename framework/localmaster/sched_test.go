package localmaster

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// TestLaunchLifecycle: a mesos-go httpsched client (protobuf and JSON) subscribes, takes an
// offer, launches bash tasks and sees STARTING, RUNNING and FINISHED/FAILED with uuids.
func TestLaunchLifecycle(t *testing.T) {
	for _, codec := range []string{mediaProtobuf, mediaJSON} {
		t.Run(codec, func(t *testing.T) {
			m := startMaster(t, Config{Resources: "cpus:2;mem:1024"})
			s := newSched(t, m, frameworkInfo("lifecycle", 60), codec, true)
			o := s.offer()
			ok := cmdTask("ok", `sleep 0.2; echo "$MESOS_TASK_ID $MESOS_FRAMEWORK_ID $FOO" > out.txt`, o, 0.5, 64)
			ok.Command.Environment = &mesos.Environment{Variables: []mesos.Environment_Variable{{Name: "FOO", Value: ptr("bar")}}}
			ok.Labels = &mesos.Labels{Labels: []mesos.Label{{Key: "kind", Value: ptr("warmer")}}}
			bad := cmdTask("bad", "exit 3", o, 0.5, 64)
			launch(s, o, &mesos.Filters{RefuseSeconds: ptr(0.0)}, ok, bad)
			for _, st := range []mesos.TaskState{mesos.TASK_STARTING, mesos.TASK_RUNNING, mesos.TASK_FINISHED} {
				ev := s.waitFor(5*time.Second, "ok "+st.String(), isUpdate("ok", st))
				if len(ev.Update.Status.UUID) != 16 || ev.Update.Status.GetSource() != mesos.SOURCE_EXECUTOR {
					t.Fatalf("update %v: want a uuid from the executor", ev.Update.Status)
				}
			}
			ev := s.waitFor(5*time.Second, "bad TASK_FAILED", isUpdate("bad", mesos.TASK_FAILED))
			if ev.Update.Status.GetMessage() != "Command exited with status 3" {
				t.Fatalf("failed message %q", ev.Update.Status.GetMessage())
			}
			out, err := os.ReadFile(filepath.Join(m.WorkDir(), "sandboxes", s.fwID, "ok", "out.txt"))
			if err != nil || strings.TrimSpace(string(out)) != "ok "+s.fwID+" bar" {
				t.Fatalf("task output %q, %v", out, err)
			}
			waitUntil(t, 5*time.Second, "tasks completed after acks", func() bool {
				st := m.Snapshot()
				return len(st.Tasks) == 0 && len(st.CompletedTasks) == 2
			})
			st := m.Snapshot()
			if st.CompletedTasks[0].LaunchedBySubscription != 1 || len(st.Launches) != 2 || st.Launches[0].StreamID == "" {
				t.Fatalf("state %+v", st)
			}
			for _, ct := range st.CompletedTasks {
				if ct.ID == "ok" && (ct.State != "TASK_FINISHED" || ct.Labels["kind"] != "warmer" || ct.EndedAt == nil) {
					t.Fatalf("completed task %+v", ct)
				}
			}
			if st.Agent.Used["cpus"] != 0 {
				t.Fatalf("resources still used: %v", st.Agent.Used)
			}
		})
	}
}

// TestUpdatesRetriedUntilAcked: an unacknowledged update is resent with the same uuid, and
// the next update of that task waits for the acknowledgement.
func TestUpdatesRetriedUntilAcked(t *testing.T) {
	m := startMaster(t, Config{UpdateRetry: 300 * time.Millisecond})
	s := newSched(t, m, frameworkInfo("retry", 60), mediaProtobuf, false)
	o := s.offer()
	launch(s, o, nil, cmdTask("t", "sleep 0.1", o, 0.1, 32))
	first := s.waitFor(5*time.Second, "STARTING", isUpdate("t", mesos.TASK_STARTING))
	again := s.waitFor(3*time.Second, "STARTING again", func(e *scheduler.Event) bool {
		if e.Type == scheduler.Event_UPDATE && e.Update.Status.GetState() != mesos.TASK_STARTING {
			t.Fatalf("got %v before STARTING was acknowledged", e.Update.Status.GetState())
		}
		return isUpdate("t", mesos.TASK_STARTING)(e)
	})
	if string(first.Update.Status.UUID) != string(again.Update.Status.UUID) {
		t.Fatal("retried update has a different uuid")
	}
	s.call(calls.Acknowledge(m.agentID, "t", first.Update.Status.UUID))
	running := s.waitFor(3*time.Second, "RUNNING", isUpdate("t", mesos.TASK_RUNNING))
	s.call(calls.Acknowledge(m.agentID, "t", running.Update.Status.UUID))
	fin := s.waitFor(3*time.Second, "FINISHED", isUpdate("t", mesos.TASK_FINISHED))
	s.call(calls.Acknowledge(m.agentID, "t", fin.Update.Status.UUID))
	waitUntil(t, 3*time.Second, "task completed", func() bool { return len(m.Snapshot().CompletedTasks) == 1 })
}

// TestDeclineReviveSuppress: DECLINE with refuse_seconds keeps offers away, REVIVE brings
// them back at once, SUPPRESS stops them, and a short filter expires by itself.
func TestDeclineReviveSuppress(t *testing.T) {
	m := startMaster(t, Config{})
	s := newSched(t, m, frameworkInfo("offers", 60), mediaProtobuf, true)
	o := s.offer()
	s.call(calls.Decline(o.ID).With(calls.RefuseSeconds(time.Hour)))
	s.none(400*time.Millisecond, "offer while refused", isType(scheduler.Event_OFFERS))
	if st := m.Snapshot(); st.Frameworks[0].Filters != 1 {
		t.Fatalf("filters %d, want 1", st.Frameworks[0].Filters)
	}
	s.call(calls.Revive())
	o = s.offer()

	start := time.Now()
	s.call(calls.Decline(o.ID).With(calls.RefuseSeconds(300 * time.Millisecond)))
	s.offer()
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("offer came back after %v, before the 300ms filter expired", d)
	}

	s.call(calls.Suppress())
	st := m.Snapshot()
	if st.Frameworks[0].Active {
		t.Fatalf("suppressed framework is active: %+v", st.Frameworks[0])
	}
	for _, off := range st.Offers {
		s.call(calls.Decline(mesos.OfferID{Value: off.ID}).With(calls.RefuseSeconds(0)))
	}
	s.none(400*time.Millisecond, "offer while suppressed", isType(scheduler.Event_OFFERS))
	s.call(calls.Revive())
	s.offer()
}

// TestKillAndReconcile: KILL ends a running task TASK_KILLED (TASK_KILLING first with the
// capability); KILL and RECONCILE of unknown tasks get master updates without uuid.
func TestKillAndReconcile(t *testing.T) {
	m := startMaster(t, Config{})
	s := newSched(t, m, frameworkInfo("kill", 60, mesos.FrameworkInfo_Capability_TASK_KILLING_STATE), mediaJSON, true)
	o := s.offer()
	launch(s, o, nil, cmdTask("long", "sleep 30", o, 0.1, 32), cmdTask("other", "sleep 30", o, 0.1, 32))
	s.waitFor(5*time.Second, "RUNNING", isUpdate("long", mesos.TASK_RUNNING))
	s.waitFor(5*time.Second, "RUNNING", isUpdate("other", mesos.TASK_RUNNING))

	s.call(calls.Reconcile(calls.ReconcileTasks(map[string]string{"long": "", "ghost": ""})))
	known := s.waitFor(3*time.Second, "reconcile long", isUpdate("long", mesos.TASK_RUNNING))
	ghost := s.waitFor(3*time.Second, "reconcile ghost", isUpdate("ghost", mesos.TASK_LOST))
	for _, ev := range []*scheduler.Event{known, ghost} {
		st := ev.Update.Status
		if len(st.UUID) != 0 || st.GetReason() != mesos.REASON_RECONCILIATION || st.GetSource() != mesos.SOURCE_MASTER {
			t.Fatalf("reconcile answer %v", st)
		}
	}
	s.call(calls.Reconcile())
	seen := map[string]bool{}
	for len(seen) < 2 {
		ev := s.waitFor(3*time.Second, "implicit reconcile", func(e *scheduler.Event) bool {
			return e.Type == scheduler.Event_UPDATE && e.Update.Status.GetReason() == mesos.REASON_RECONCILIATION
		})
		seen[ev.Update.Status.TaskID.Value] = true
	}
	if !seen["long"] || !seen["other"] {
		t.Fatalf("implicit reconcile answered %v", seen)
	}

	pid := 0
	for _, ts := range m.Snapshot().Tasks {
		if ts.ID == "long" {
			pid = ts.PID
		}
	}
	start := time.Now()
	s.call(calls.Kill("long", m.agentID))
	s.waitFor(3*time.Second, "KILLING", isUpdate("long", mesos.TASK_KILLING))
	s.waitFor(5*time.Second, "KILLED", isUpdate("long", mesos.TASK_KILLED))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("kill took %v (SIGTERM should end sleep at once)", d)
	}
	if pid == 0 || syscall.Kill(pid, 0) == nil {
		t.Fatalf("process %d still alive after TASK_KILLED", pid)
	}
	s.call(calls.Kill("nope", ""))
	lost := s.waitFor(3*time.Second, "LOST for unknown kill", isUpdate("nope", mesos.TASK_LOST))
	if len(lost.Update.Status.UUID) != 0 {
		t.Fatal("master-generated update has a uuid")
	}
}

// TestPartitionAwareReconcile: unknown tasks are TASK_UNKNOWN, or TASK_GONE with our agent id.
func TestPartitionAwareReconcile(t *testing.T) {
	m := startMaster(t, Config{})
	s := newSched(t, m, frameworkInfo("pa", 60, mesos.FrameworkInfo_Capability_PARTITION_AWARE), mediaProtobuf, true)
	s.call(calls.Reconcile(calls.ReconcileTasks(map[string]string{"a": "", "b": m.agentID})))
	s.waitFor(3*time.Second, "UNKNOWN", isUpdate("a", mesos.TASK_UNKNOWN))
	s.waitFor(3*time.Second, "GONE", isUpdate("b", mesos.TASK_GONE))
}

// TestInvalidLaunches: rescinded/unknown offers drop tasks, bad TaskInfos get TASK_ERROR,
// Docker tasks fail with a clear message.
func TestInvalidLaunches(t *testing.T) {
	m := startMaster(t, Config{Resources: "cpus:1;mem:256"})
	s := newSched(t, m, frameworkInfo("invalid", 60), mediaProtobuf, true)
	o := s.offer()
	bogus := o
	bogus.ID = mesos.OfferID{Value: "no-such-offer"}
	launch(s, bogus, nil, cmdTask("x", "true", o, 0.1, 32))
	ev := s.waitFor(3*time.Second, "LOST", isUpdate("x", mesos.TASK_LOST))
	if ev.Update.Status.GetReason() != mesos.REASON_INVALID_OFFERS || len(ev.Update.Status.UUID) != 0 {
		t.Fatalf("invalid offer update %v", ev.Update.Status)
	}
	docker := cmdTask("docker", "true", o, 0.1, 32)
	docker.Container = &mesos.ContainerInfo{Type: ptr(mesos.ContainerInfo_DOCKER), Docker: &mesos.ContainerInfo_DockerInfo{Image: "busybox"}}
	launch(s, o, nil, cmdTask("big", "true", o, 2, 32), cmdTask("dup", "sleep 5", o, 0.1, 32), cmdTask("dup", "true", o, 0.1, 32), docker)
	ev = s.waitFor(3*time.Second, "ERROR big", isUpdate("big", mesos.TASK_ERROR))
	if !strings.HasPrefix(ev.Update.Status.GetMessage(), "Task uses more resources") {
		t.Fatalf("big: %q", ev.Update.Status.GetMessage())
	}
	ev = s.waitFor(3*time.Second, "ERROR dup", isUpdate("dup", mesos.TASK_ERROR))
	if ev.Update.Status.GetMessage() != "Task has duplicate ID: dup" {
		t.Fatalf("dup: %q", ev.Update.Status.GetMessage())
	}
	ev = s.waitFor(5*time.Second, "FAILED docker", isUpdate("docker", mesos.TASK_FAILED))
	if !strings.Contains(ev.Update.Status.GetMessage(), "Docker") || ev.Update.Status.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED {
		t.Fatalf("docker: %v", ev.Update.Status)
	}
	s.waitFor(5*time.Second, "dup RUNNING", isUpdate("dup", mesos.TASK_RUNNING))
}

// TestSetResourcesRescinds: starving the agent rescinds the outstanding offer and stops
// offers; restoring it brings them back.
func TestSetResourcesRescinds(t *testing.T) {
	m := startMaster(t, Config{Admin: true})
	s := newSched(t, m, frameworkInfo("starve", 60), mediaProtobuf, true)
	o := s.offer()
	res := rawPost(t, m.URL()+"/admin/resources?spec=cpus:0;mem:0", "", nil)
	if body := readAll(t, res); res.StatusCode != 200 {
		t.Fatalf("admin resources: %d %s", res.StatusCode, body)
	}
	ev := s.waitFor(3*time.Second, "RESCIND", isType(scheduler.Event_RESCIND))
	if ev.Rescind.OfferID != o.ID {
		t.Fatalf("rescinded %v, want %v", ev.Rescind.OfferID, o.ID)
	}
	s.none(300*time.Millisecond, "offer while starved", isType(scheduler.Event_OFFERS))
	// Restored through the endpoint, as the chaos harness does (a raw ';' in the query was
	// dropped by Go's URL parsing: the "restore" set no resources at all).
	res = rawPost(t, m.URL()+"/admin/resources?spec=cpus:1;mem:512", "", nil)
	if body := readAll(t, res); res.StatusCode != 200 || !strings.Contains(body, "cpus:1;mem:512") {
		t.Fatalf("admin resources (restore): %d %s", res.StatusCode, body)
	}
	if res := rawPost(t, m.URL()+"/admin/resources?spec=", "", nil); res.StatusCode != 400 {
		t.Errorf("empty spec: %d, want 400", res.StatusCode)
	}
	o = s.offer()
	if got := fromProto(o.Resources).String(); got != "cpus:1;mem:512" {
		t.Fatalf("offer after restore %s", got)
	}
}

// TestLoseTasksHook: /admin/lose-tasks kills the process and reports TASK_LOST.
func TestLoseTasksHook(t *testing.T) {
	m := startMaster(t, Config{Admin: true})
	s := newSched(t, m, frameworkInfo("lose", 60), mediaProtobuf, true)
	o := s.offer()
	launch(s, o, nil, cmdTask("victim", "sleep 30", o, 0.1, 32))
	s.waitFor(5*time.Second, "RUNNING", isUpdate("victim", mesos.TASK_RUNNING))
	pid := m.Snapshot().Tasks[0].PID
	res := rawPost(t, m.URL()+"/admin/lose-tasks?n=1", "", nil)
	if body := readAll(t, res); res.StatusCode != 200 || !strings.Contains(body, "victim") {
		t.Fatalf("lose-tasks: %d %s", res.StatusCode, body)
	}
	ev := s.waitFor(3*time.Second, "LOST", isUpdate("victim", mesos.TASK_LOST))
	if ev.Update.Status.GetReason() != mesos.REASON_AGENT_DISCONNECTED {
		t.Fatalf("reason %v", ev.Update.Status.GetReason())
	}
	waitUntil(t, 3*time.Second, "process gone", func() bool { return syscall.Kill(pid, 0) != nil })
}
