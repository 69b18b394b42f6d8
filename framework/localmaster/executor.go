package localmaster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// exitFile is written into the sandbox by the process waiter when a task process ends, so
// that a Master recovering on the same WorkDir learns how an adopted task ended.
const exitFile = ".localmaster-exit.json"

type exitRecord struct {
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
	At     time.Time
}

func (m *Master) sandboxDir(fwID, taskID string) string {
	return filepath.Join(m.cfg.WorkDir, "sandboxes", url.PathEscape(fwID), url.PathEscape(taskID))
}

// launchLocked records a new task (TASK_STAGING) and starts its launcher goroutine.
func (m *Master) launchLocked(fw *framework, ti *mesos.TaskInfo, res resSet, execID, group, streamID string, subNumber int) {
	now := m.now()
	if old := fw.tasks[ti.TaskID.Value]; old != nil {
		m.completeTaskLocked(fw, old) // a terminal task whose update was not acknowledged yet
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &task{
		id: ti.TaskID.Value, fwID: fw.id, info: *ti, executorID: execID, group: group, res: res,
		state: mesos.TASK_STAGING, sandbox: m.sandboxDir(fw.id, ti.TaskID.Value),
		launchedAt: now, stream: streamID, subNumber: subNumber, cancel: cancel,
	}
	fw.tasks[t.id] = t
	m.launches.add(Launch{TaskID: t.id, FrameworkID: fw.id, StreamID: streamID, Subscription: subNumber, At: now})
	m.persistLocked()
	m.log.Info("task launched", "framework_id", fw.id, "task_id", t.id, "stream_id", streamID, "subscription", subNumber, "resources", res.String())
	m.procWG.Add(1)
	go m.runTask(ctx, fw.id, t)
}

// runTask prepares the sandbox, fetches URIs, starts the process and waits for it. It runs
// on its own goroutine and may outlive Run while the process lives (see Config.KillTasksOnExit).
//
// The process is started without the master's lock: a fork and exec of bash takes
// milliseconds (tens of them on a loaded VM), and under the lock a burst of launches was
// started one at a time while every call, acknowledgement and allocation waited behind it.
// At most Config.MaxStarting tasks are being prepared (sandbox, fetch) and started at once;
// the rest of a burst waits its turn without touching the disk.
func (m *Master) runTask(ctx context.Context, fwID string, t *task) {
	defer m.procWG.Done()
	defer t.cancel()
	info := t.info // immutable after launch
	held := false
	release := func() {
		if held {
			held = false
			<-m.starting
		}
	}
	defer release()
	var prepErr error
	select {
	case m.starting <- struct{}{}:
		held = true
		prepErr = m.prepareSandbox(ctx, t.sandbox, info)
	case <-ctx.Done(): // killed while waiting for its turn: reported below
	}

	m.mu.Lock()
	fw := m.frameworks[fwID]
	switch {
	case m.stopped:
		m.mu.Unlock()
		return
	case t.killing || t.removed:
		m.agentUpdateLocked(fw, t, mesos.TASK_KILLED, mesos.SOURCE_AGENT, ptr(mesos.REASON_TASK_KILLED_DURING_LAUNCH), "Task killed before it was launched")
		m.mu.Unlock()
		return
	case prepErr != nil:
		m.agentUpdateLocked(fw, t, mesos.TASK_FAILED, mesos.SOURCE_AGENT, ptr(mesos.REASON_CONTAINER_LAUNCH_FAILED), "Failed to launch container: "+prepErr.Error())
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()

	cmd, files, err := m.buildCommand(fwID, t, info)
	if err == nil {
		err = cmd.Start()
	}
	for _, f := range files {
		_ = f.Close()
	}
	var pid int
	var procStart uint64
	if err == nil {
		pid = cmd.Process.Pid
		procStart = procStartTime(pid)
	}

	m.mu.Lock()
	fw = m.frameworks[fwID]
	if err != nil {
		if !m.stopped {
			m.agentUpdateLocked(fw, t, mesos.TASK_FAILED, mesos.SOURCE_AGENT, ptr(mesos.REASON_CONTAINER_LAUNCH_FAILED), "Failed to launch container: "+err.Error())
		}
		m.mu.Unlock()
		return
	}
	t.pid, t.procStart = pid, procStart
	switch {
	case m.stopped:
		// Run stopped while the process was starting, after it signalled the tasks it knew
		// the pids of: kill this one too, or keep its pid in the registry for the next master.
		if m.cfg.KillTasksOnExit {
			t.signal(true)
		} else {
			m.persistLocked()
		}
	case t.killing:
		// Killed (or its framework removed) while the process was starting: it is never
		// reported running; TASK_KILLED follows its exit.
		m.signalKillLocked(t)
	default:
		m.agentUpdateLocked(fw, t, mesos.TASK_STARTING, mesos.SOURCE_EXECUTOR, nil, "")
		m.agentUpdateLocked(fw, t, mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR, nil, "")
	}
	m.mu.Unlock()
	release() // the start is over: the next one may fork while this one runs

	werr := cmd.Wait()
	rec := exitRecord{At: time.Now()}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			rec.Code = -1
			rec.Signal = ws.Signal().String()
		} else {
			rec.Code = ee.ExitCode()
		}
	} else if werr != nil {
		rec.Code = -1
		rec.Signal = werr.Error()
	}
	_ = syscall.Kill(-t.pid, syscall.SIGKILL) // what is left of the container's processes
	writeExitRecord(t.sandbox, rec)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return // a restarted Master adopts the record from the exit file
	}
	m.processEndedLocked(m.frameworks[fwID], t, rec, "")
}

// processEndedLocked turns a process exit into the task's terminal update, worded as the
// Mesos command executor words it.
func (m *Master) processEndedLocked(fw *framework, t *task, rec exitRecord, prefix string) {
	if t.terminal {
		return
	}
	var msg string
	if rec.Signal != "" {
		msg = "Command terminated with signal " + strings.ToUpper(rec.Signal[:1]) + rec.Signal[1:]
	} else {
		msg = "Command exited with status " + strconv.Itoa(rec.Code)
	}
	msg = prefix + msg
	switch {
	case t.killing:
		m.agentUpdateLocked(fw, t, mesos.TASK_KILLED, mesos.SOURCE_EXECUTOR, nil, msg)
	case rec.Signal == "" && rec.Code == 0:
		m.agentUpdateLocked(fw, t, mesos.TASK_FINISHED, mesos.SOURCE_EXECUTOR, nil, msg)
	default:
		m.agentUpdateLocked(fw, t, mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, ptr(mesos.REASON_COMMAND_EXECUTOR_FAILED), msg)
	}
}

func writeExitRecord(dir string, rec exitRecord) {
	b, _ := json.Marshal(rec)
	tmp := filepath.Join(dir, exitFile+".tmp")
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, filepath.Join(dir, exitFile))
	}
}

func readExitRecord(dir string) (exitRecord, bool) {
	var rec exitRecord
	b, err := os.ReadFile(filepath.Join(dir, exitFile))
	if err != nil || json.Unmarshal(b, &rec) != nil {
		return rec, false
	}
	return rec, true
}

// prepareSandbox makes a fresh sandbox (an old one of the same task id is kept aside) and
// fetches the URIs into it. A DOCKER container, or a MESOS one with an image, cannot run here.
func (m *Master) prepareSandbox(ctx context.Context, dir string, ti mesos.TaskInfo) error {
	if c := ti.Container; c != nil {
		if c.GetType() == mesos.ContainerInfo_DOCKER {
			img := ""
			if c.Docker != nil {
				img = c.Docker.Image
			}
			return fmt.Errorf("the embedded agent has no Docker containerizer; task asks for docker image %q", img)
		}
		if c.Mesos != nil && c.Mesos.Image != nil {
			return errors.New("the embedded agent cannot run container images (ContainerInfo.mesos.image)")
		}
	}
	if ti.Executor != nil {
		return errors.New("custom executors are not supported by the embedded agent; give the task a CommandInfo")
	}
	if _, err := os.Stat(dir); err == nil {
		_ = os.Rename(dir, fmt.Sprintf("%s.old-%d", dir, time.Now().UnixNano()))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if ti.Command != nil {
		for _, u := range ti.Command.URIs {
			if err := fetchURI(ctx, dir, u); err != nil {
				return fmt.Errorf("Failed to fetch '%s': %w", u.Value, err)
			}
		}
	}
	return nil
}

// buildCommand makes the task's process: `bash -c value` for a shell command, value with
// arguments otherwise; in the sandbox, in its own process group, stdout/stderr to files.
func (m *Master) buildCommand(fwID string, t *task, ti mesos.TaskInfo) (*exec.Cmd, []*os.File, error) {
	ci := ti.Command
	var cmd *exec.Cmd
	if ci.GetShell() {
		cmd = exec.Command(m.shell, "-c", ci.GetValue())
	} else {
		path := ci.GetValue()
		if !strings.Contains(path, "/") {
			if p, err := exec.LookPath(path); err == nil {
				path = p
			}
		} else if !filepath.IsAbs(path) {
			path = filepath.Join(t.sandbox, path)
		}
		cmd = &exec.Cmd{Path: path, Args: ci.Arguments}
		if len(cmd.Args) == 0 {
			cmd.Args = []string{ci.GetValue()}
		}
	}
	cmd.Dir = t.sandbox
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	env := os.Environ()
	env = append(env,
		"MESOS_TASK_ID="+t.id,
		"MESOS_FRAMEWORK_ID="+fwID,
		"MESOS_AGENT_ID="+m.agentID,
		"MESOS_EXECUTOR_ID="+t.executorID,
		"MESOS_SANDBOX="+t.sandbox,
		"MESOS_DIRECTORY="+t.sandbox,
		"MESOS_AGENT_ENDPOINT="+m.Addr(),
	)
	if ci.Environment != nil {
		for _, v := range ci.Environment.Variables {
			if v.GetType() != mesos.Environment_Variable_VALUE {
				return nil, nil, fmt.Errorf("environment variable %s: only VALUE variables are supported", v.Name)
			}
			env = append(env, v.Name+"="+v.GetValue())
		}
	}
	cmd.Env = env
	stdout, err := os.OpenFile(filepath.Join(t.sandbox, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("stdout: %w", err)
	}
	stderr, err := os.OpenFile(filepath.Join(t.sandbox, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		_ = stdout.Close()
		return nil, nil, fmt.Errorf("stderr: %w", err)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, []*os.File{stdout, stderr}, nil
}

// signal sends SIGTERM (or SIGKILL) to the task's process group.
func (t *task) signal(kill bool) {
	if t.pid <= 0 {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-t.pid, sig); err != nil {
		_ = syscall.Kill(t.pid, sig)
	}
}

// procStartTime is field 22 of /proc/<pid>/stat (start time in clock ticks), 0 if unknown.
func procStartTime(pid int) uint64 {
	_, start, ok := procStat(pid)
	if !ok {
		return 0
	}
	return start
}

func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, false
	}
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, true
}

// alive reports whether pid is still the process that was started (not a zombie, not reused).
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	state, st, ok := procStat(pid)
	if !ok {
		if _, err := os.Stat("/proc/self/stat"); err == nil {
			return false
		}
		return syscall.Kill(pid, 0) == nil // no /proc: best effort
	}
	if state == 'Z' || state == 'X' {
		return false
	}
	return start == 0 || st == start
}

// watchAdopted polls the processes of tasks recovered after a restart. A vanished one ends
// with the status its old waiter wrote, or TASK_FINISHED "exit status unknown: recovered
// after master restart" when there is none (the old master died with it).
func (m *Master) watchAdopted() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	for _, fw := range m.frameworks {
		for _, t := range fw.sortedTasks() {
			if !t.adopted || t.terminal || alive(t.pid, t.procStart) {
				continue
			}
			if rec, ok := readExitRecord(t.sandbox); ok {
				m.processEndedLocked(fw, t, rec, "recovered after master restart: ")
				continue
			}
			if t.killing {
				m.agentUpdateLocked(fw, t, mesos.TASK_KILLED, mesos.SOURCE_AGENT, nil, "Command terminated; exit status unknown: recovered after master restart")
				continue
			}
			m.agentUpdateLocked(fw, t, mesos.TASK_FINISHED, mesos.SOURCE_AGENT, nil, "exit status unknown: recovered after master restart")
		}
	}
}
