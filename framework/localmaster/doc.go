// Package localmaster is an embedded single-node Mesos master and agent that speaks the
// Mesos v1 scheduler HTTP API, for `relay-mesos run --master local`, `relay-mesos
// mesos-local`, the demo, the chaos harness and end-to-end tests. Tasks run as real local
// processes.
//
// # Usage
//
//	m, err := localmaster.New(localmaster.Config{
//		Listen:    "127.0.0.1:0",
//		Resources: "cpus:4;mem:4096;disk:10000",
//		WorkDir:   dir, // sandboxes and the registry; reuse it to recover after a restart
//		Heartbeat: 15 * time.Second,
//	}, logger)
//	if err != nil { ... }
//	go m.Run(ctx)           // serves until ctx is done
//	endpoint := m.URL() + "/api/v1/scheduler"
//
// A mesos-go v0.0.11 httpsched client pointed at endpoint works unchanged.
//
// # The API, as Mesos answers it
//
// POST /api/v1/scheduler (alias /master/api/v1/scheduler) takes JSON or protobuf Calls
// (Content-Type application/json or application/x-protobuf, exactly; missing -> 400, other
// -> 415; other methods -> 405 with Allow: POST). SUBSCRIBE answers 200 with a chunked
// RecordIO stream in the Accept-negotiated encoding (JSON when Accept allows it, else
// protobuf, else 406) and a Mesos-Stream-Id header; a SUBSCRIBE carrying that header -> 400.
// The stream starts with SUBSCRIBED (framework_id, heartbeat_interval_seconds, master_info)
// and HEARTBEAT, then OFFERS, RESCIND, UPDATE, ERROR and a HEARTBEAT every Config.Heartbeat.
// Other calls answer 202 (UPDATE_FRAMEWORK 200), or: unknown framework -> 400 "Framework
// cannot be found"; disconnected -> 403 "Framework is not subscribed"; missing or stale
// Mesos-Stream-Id -> 400 with Mesos' own wording. Error bodies are text/plain, word for word
// the master's (see the transcripts in shared/mesos-transcripts).
//
// Frameworks: SUBSCRIBE without an id registers a new framework (<master id>-NNNN). With an
// id it resumes that framework (an id the master never saw is accepted, as after a Mesos
// master failover; a torn-down one gets ERROR "Framework has been removed"). A SUBSCRIBE for
// a framework that is still connected fails it over: the old stream receives ERROR
// "Framework failed over" and is closed, and calls with its stream id get 400. When a
// framework's stream ends it is disconnected: its offers are taken back, its DECLINE filters
// cleared, and after failover_timeout (default 0) without a new SUBSCRIBE it is removed and
// its tasks killed. TEARDOWN removes it at once.
//
// Offers: every Config.OfferInterval the agent's free resources (total minus used minus
// offered; at least cpus:0.01 or mem:32) go as one offer to the next connected framework in
// round-robin order that has an unsuppressed role, no outstanding offer and no refuse filter
// covering them. DECLINE (and the unused part of an ACCEPT) installs a filter for
// filters.refuse_seconds (default 5 s, as Mesos). REVIVE clears filters and un-suppresses;
// SUPPRESS stops offers; SetResources (and /admin/resources) rescinds offers that no longer fit.
//
// Tasks: ACCEPT with LAUNCH or LAUNCH_GROUP. Unknown, foreign or rescinded offers make every
// task TASK_LOST (TASK_DROPPED for PARTITION_AWARE frameworks), reason REASON_INVALID_OFFERS;
// an invalid TaskInfo (duplicate id, no resources, more resources than offered, both or
// neither of command and executor) gets TASK_ERROR. A task runs as `bash -c <value>` (shell,
// the default) or value+arguments, in its own process group, in the sandbox
// WorkDir/sandboxes/<framework>/<task>/ with stdout and stderr files there, with the agent's
// environment plus CommandInfo.environment, MESOS_TASK_ID, MESOS_SANDBOX, MESOS_FRAMEWORK_ID,
// MESOS_AGENT_ID and MESOS_EXECUTOR_ID. At most Config.MaxStarting tasks (default 2 per
// CPU) are being prepared and started at once, without the master's lock, so that calls and
// acknowledgements are answered while a burst of launches forks its processes. URIs: absolute paths and file:// are copied, http(s)
// fetched; executable and extract (.tar.gz, .tgz, .tar, .zip) are honoured. A DOCKER
// container (or an image), or a custom executor, fails with TASK_FAILED
// (REASON_CONTAINER_LAUNCH_FAILED) and a message saying why. States: TASK_STAGING, then
// TASK_STARTING and TASK_RUNNING when the process starts, TASK_FINISHED on exit 0,
// TASK_FAILED otherwise, TASK_KILLED after KILL (TASK_KILLING first for frameworks with
// TASK_KILLING_STATE): SIGTERM to the process group, SIGKILL after the kill policy's grace
// period (default 3 s). A task of a group that fails or is killed takes its group with it.
//
// Status updates from the agent carry a uuid and are sent one at a time per task, oldest
// first, retried from Config.UpdateRetry (default 10 s) doubling to 10 min until
// ACKNOWLEDGEd; while the framework is away they wait and are sent on re-subscription.
// Master-generated updates (reconciliation answers, invalid launches, lost tasks) carry no
// uuid and are sent once. RECONCILE with tasks answers each with its latest state, or for an
// unknown task TASK_LOST (PARTITION_AWARE: TASK_UNKNOWN, or TASK_GONE if our agent id was
// given), reason REASON_RECONCILIATION; without tasks it answers for every task the master
// knows for the framework. KILL of an unknown task is answered the same way. A task stays
// known until its terminal update is acknowledged, then it moves to the completed list.
// MESSAGE, REQUEST and the operation/inverse-offer calls are accepted and ignored.
//
// # Restarts and shutdown
//
// The registry (frameworks with ids, FrameworkInfo and failover timeouts; live tasks with
// pid, state, framework, launch time, launching stream and subscription number, and their
// unacknowledged updates; the bounded completed-task and launches logs) is rewritten
// atomically in WorkDir/registry.json after every change, a burst of changes at once: within
// 25 ms, or ten times the last write's duration when writes are slow (a large registry on a
// loaded machine); entries that did not change are not encoded again. A new Master on the same WorkDir
// (after a clean stop or a kill -9) keeps the master id, so framework ids stay valid:
// frameworks come back disconnected and may re-subscribe with their id (their failover
// timers restart when Run starts), and running tasks are adopted by pid (checked against
// /proc start time) and polled. When an adopted process is gone, its end is read from the
// exit record the old master's waiter left in the sandbox; if there is none (the old master
// died first), the task ends TASK_FINISHED with message "exit status unknown: recovered
// after master restart". A task that was still fetching when the master stopped ends
// TASK_FAILED.
//
// When Run's context is done, streams are closed (schedulers see the connection end) and
// task processes keep running, detached in their own process groups, so that a restarted
// master adopts them, as a framework with a failover_timeout expects. Set
// Config.KillTasksOnExit to kill them instead (for throwaway clusters). Goroutines that wait
// for task processes outlive Run until those processes end.
//
// # Fault hooks
//
// With Config.Admin: POST /admin/resources?spec=cpus:0;mem:0 (starvation; rescinds offers),
// POST /admin/lose-tasks?n=N (kill -9 N running tasks, TASK_LOST with
// REASON_AGENT_DISCONNECTED), POST /admin/drop-streams (cut every subscriber's connection).
// GET /state (also /master/state) returns State as JSON; GET /health answers 200.
package localmaster
