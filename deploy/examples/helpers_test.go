package examples

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bins holds the binaries TestMain builds: relay-mesos and the examples' helper programs.
var bins struct {
	dir, relay, marathon, webserver string
}

// repoRoot is the repository root: the examples' commands run from there, as a user's would.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "relay-mesos-examples-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins.dir = dir
	bins.relay = filepath.Join(dir, "relay-mesos")
	bins.marathon = filepath.Join(dir, "marathon-stub")
	bins.webserver = filepath.Join(dir, "example-webserver")
	for out, pkg := range map[string]string{
		bins.relay:     "./cmd/relay-mesos",
		bins.marathon:  "./deploy/examples/webservers/marathon-stub",
		bins.webserver: "./deploy/examples/webservers-kill/webserver",
	} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "examples: go build %s: %v\n%s", pkg, err, b)
			return 1
		}
	}
	return m.Run()
}

// cleanEnv is the test process's environment without the variables the examples set, so
// that a developer's own RELAY_* settings do not leak into a run.
func cleanEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "RELAY_") || exampleVars[k] {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// exampleVars are the non-RELAY variables the env files read.
var exampleVars = map[string]bool{
	"EXAMPLE_DIR": true, "QUEUE_DIR": true, "RUN_DIR": true, "BURN_DIR": true, "SERVERS_DIR": true,
	"MARATHON_URL": true, "APP_ID": true, "LOAD_SPEC": true, "QSIZE_SPEC": true, "IS_NIGHT": true,
	"EXPECTED_CPU": true, "WEBSERVER_BIN": true, "SCALE_LOCK": true, "BURN_SECONDS": true,
	"CONSUMER_SECONDS": true, "SCALE_COOLDOWN": true,
}

// freeAddr returns a free 127.0.0.1 port as host:port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startProcess starts a helper process in its own process group, logging to a file in dir,
// and stops the group when the test ends.
func startProcess(t *testing.T, dir, name string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = repoRoot, env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return cmd
}

// replicaRun is one `relay-mesos run --master local` started from an example's env file.
type replicaRun struct {
	t        *testing.T
	name     string
	base     string // http://127.0.0.1:port
	stateDir string
	logPath  string
	started  time.Time
	trace    *termsTrace
}

// startExample runs, from the repository root, exactly what the README tells a user:
//
//	set -a; . deploy/examples/<envFile>; set +a; relay-mesos run --master local ...
//
// with the extra variables set first (the env files only fill in what is unset), a fresh
// state dir and a free port. It waits until the replica decides, and stops it (and every
// process it left behind) when the test ends.
func startExample(t *testing.T, name, envFile string, extra ...string) *replicaRun {
	t.Helper()
	tmp := t.TempDir()
	r := &replicaRun{t: t, name: name, stateDir: filepath.Join(tmp, "state"), logPath: filepath.Join(tmp, "relay-mesos.log")}
	addr := freeAddr(t)
	r.base = "http://" + addr
	r.trace = &termsTrace{}
	keep := os.Getenv("RELAY_EXAMPLES_KEEP")
	t.Cleanup(func() { // runs after the replica has stopped (cleanups run last-in first-out)
		// The replica kills its tasks on exit; this is the safety net for anything left
		// with its working directory in our state dir.
		killUnder(t, r.stateDir)
		if t.Failed() {
			r.dumpLog()
			r.t.Logf("last samples of the %s replica's controller terms:\n%s", r.name, r.trace.tail(30))
		}
		if keep != "" {
			r.keep(keep)
		}
	})
	if keep != "" { // a kept run logs every tick
		extra = append([]string{"RELAY_LOG_LEVEL=debug"}, extra...)
	}
	script := `set -a; . "$1"; set +a; exec "$2" run --master local --state-dir "$3" --listen "$4"`
	startProcess(t, tmp, "relay-mesos", cleanEnv(extra...), "bash", "-c", script, "bash",
		filepath.Join("deploy", "examples", envFile), bins.relay, r.stateDir, addr)
	r.started = time.Now()
	r.waitReady(60 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.trace.sample(ctx, r.base, 500*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done }) // runs before the replica is stopped
	return r
}

// keep copies the replica's log and the controller-terms trace into dir (RELAY_EXAMPLES_KEEP),
// as <name>.log and <name>.trace, for a diagnosis after the run.
func (r *replicaRun) keep(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Logf("keep: %v", err)
		return
	}
	if b, err := os.ReadFile(r.logPath); err == nil {
		os.WriteFile(filepath.Join(dir, r.name+".log"), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, r.name+".trace"), []byte(r.trace.tail(0)), 0o644)
	r.t.Logf("kept the %s replica's log and terms trace in %s", r.name, dir)
}

// termsTrace samples the replica's /metrics: the metric, the target and the controller's
// terms (drift, per-unit effects, lags, lives), one line per sample.
type termsTrace struct {
	mu    sync.Mutex
	lines []string
}

// traced are the /metrics series a trace line holds, in order.
var traced = []string{
	"relay_mesos_metric ", "relay_mesos_target ",
	`relay_mesos_controller_term{term="drift"}`, `relay_mesos_controller_term{term="warmer_per_unit"}`,
	`relay_mesos_controller_term{term="cooler_per_unit"}`, `relay_mesos_controller_term{term="warmer_lag"}`,
	`relay_mesos_controller_term{term="warmer_life"}`, `relay_mesos_controller_term{term="cooler_lag"}`,
	`relay_mesos_controller_term{term="cooler_life"}`,
}

func (tr *termsTrace) sample(ctx context.Context, base string, every time.Duration) {
	client := &http.Client{Timeout: 2 * time.Second}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			continue
		}
		vals := make([]string, len(traced))
		s := bufio.NewScanner(resp.Body)
		s.Buffer(make([]byte, 64*1024), 1024*1024)
		for s.Scan() {
			line := s.Text()
			for i, name := range traced {
				if strings.HasPrefix(line, name) {
					f := strings.Fields(line)
					vals[i] = f[len(f)-1]
				}
			}
		}
		resp.Body.Close()
		line := fmt.Sprintf("%s metric=%s target=%s drift=%s w_per_unit=%s c_per_unit=%s w_lag=%s w_life=%s c_lag=%s c_life=%s",
			time.Now().Format("15:04:05.000"), vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], vals[7], vals[8])
		tr.mu.Lock()
		tr.lines = append(tr.lines, line)
		tr.mu.Unlock()
	}
}

// tail returns the last n lines of the trace (all of them if n <= 0).
func (tr *termsTrace) tail(n int) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	l := tr.lines
	if n > 0 && len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// killUnder kills, by pid, the processes whose working directory is under dir (task
// sandboxes live under the state dir).
func killUnder(t *testing.T, dir string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && strings.HasPrefix(cwd, dir+"/") {
			t.Logf("killing leftover process %d (cwd %s)", pid, cwd)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (r *replicaRun) dumpLog() {
	b, _ := os.ReadFile(r.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	r.t.Logf("last lines of the %s replica's log:\n%s", r.name, strings.Join(lines, "\n"))
}

func (r *replicaRun) waitReady(d time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := http.Get(r.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.dumpLog()
	r.t.Fatalf("the %s replica was not ready within %v", r.name, d)
}

// point is one tick of /api/history.
type point struct {
	T         int64    `json:"t"`
	Metric    *float64 `json:"metric"`
	Target    *float64 `json:"target"`
	Requested units    `json:"requested"`
	Running   units    `json:"running"`
	Pending   units    `json:"pending"`
}

type units struct {
	Warmer int `json:"warmer"`
	Cooler int `json:"cooler"`
}

func (p point) time() time.Time { return time.UnixMilli(p.T) }

// ok says whether the tick read both numbers.
func (p point) ok() bool { return p.Metric != nil && p.Target != nil }

// history fetches the replica's /api/history.
func (r *replicaRun) history() []point {
	r.t.Helper()
	resp, err := http.Get(r.base + "/api/history")
	if err != nil {
		r.t.Fatalf("history: %v", err)
	}
	defer resp.Body.Close()
	var h struct {
		Points []point `json:"points"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		r.t.Fatalf("history: %v", err)
	}
	return h.Points
}

// sleepCtx waits d or until the test's deadline is near.
func sleepFor(t *testing.T, d time.Duration) {
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
		defer cancel()
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// report prints the IAE the run reached (the sum over ticks of |target - metric|, from the
// replica's own history) and returns it.
func report(t *testing.T, name string, pts []point) (iae float64, ticks int) {
	misses := 0
	for _, p := range pts {
		if !p.ok() {
			misses++
			continue
		}
		iae += math.Abs(*p.Target - *p.Metric)
		ticks++
	}
	t.Logf("%s: IAE=%.2f over %d ticks (%d ticks missed a reading)", name, iae, ticks, misses)
	fmt.Printf("EXAMPLE %s IAE=%.2f ticks=%d\n", name, iae, ticks)
	return iae, ticks
}

// window returns the points whose time is in [from, to).
func window(pts []point, from, to time.Time) []point {
	var out []point
	for _, p := range pts {
		if tm := p.time(); !tm.Before(from) && tm.Before(to) {
			out = append(out, p)
		}
	}
	return out
}

// metrics returns the metric values of the points that read one.
func metricValues(pts []point) []float64 {
	var out []float64
	for _, p := range pts {
		if p.Metric != nil {
			out = append(out, *p.Metric)
		}
	}
	return out
}

func meanMax(v []float64) (mean, max float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	max = math.Inf(-1)
	for _, x := range v {
		mean += x
		max = math.Max(max, x)
	}
	return mean / float64(len(v)), max
}

func totalRequested(pts []point) (w, c int) {
	for _, p := range pts {
		w += p.Requested.Warmer
		c += p.Requested.Cooler
	}
	return w, c
}

// firstLine reads the first line a process printed to its log file (e.g. a listen address).
func firstLine(t *testing.T, path string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			s := bufio.NewScanner(f)
			if s.Scan() {
				line := s.Text()
				f.Close()
				return line
			}
			f.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: nothing printed within %v", path, d)
	return ""
}

// series renders metric/target per tick compactly for the test log ("-" is a miss).
func series(pts []point) string {
	var b strings.Builder
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f(p.Metric) + "/" + f(p.Target))
	}
	return b.String()
}

// startMarathon starts the examples' Marathon stand-in on a free port and returns its URL.
func startMarathon(t *testing.T, dir string, startDelay time.Duration) string {
	t.Helper()
	startProcess(t, dir, "marathon-stub", cleanEnv(), bins.marathon, "-listen", "127.0.0.1:0", "-start-delay", startDelay.String())
	line := firstLine(t, filepath.Join(dir, "marathon-stub.log"), 10*time.Second)
	f := strings.Fields(line)
	if len(f) == 0 || !strings.HasPrefix(f[len(f)-1], "http://") {
		t.Fatalf("marathon-stub printed %q, want its URL", line)
	}
	return f[len(f)-1]
}

// writeFile replaces a file's content atomically (a source never reads half a number).
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// marathonInstances reads an app's instances and tasksRunning from the stand-in.
func marathonInstances(t *testing.T, url, app string) (instances, running int) {
	t.Helper()
	resp, err := http.Get(url + "/v2/apps/" + app)
	if err != nil {
		t.Fatalf("marathon: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		App struct {
			Instances    int `json:"instances"`
			TasksRunning int `json:"tasksRunning"`
		} `json:"app"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("marathon: %v", err)
	}
	return body.App.Instances, body.App.TasksRunning
}

// step is one phase of a test-driven input: a value held for a while.
type step struct {
	value string
	want  float64 // the target the phase should give
	hold  time.Duration
}

// runSteps writes each step's value to path, holds it, and returns when each phase began.
func runSteps(t *testing.T, path string, steps []step) []time.Time {
	var starts []time.Time
	for _, s := range steps {
		writeFile(t, path, s.value+"\n")
		starts = append(starts, time.Now())
		sleepFor(t, s.hold)
	}
	return starts
}

// judgeSteps checks, for each phase, that the target was the phase's and that the metric
// was within band of it on average over the phase's last `settled` (the time before that is
// the plant's response). It returns the means.
func judgeSteps(t *testing.T, pts []point, steps []step, starts []time.Time, settled time.Duration, band float64) {
	t.Helper()
	for i, s := range steps {
		end := starts[i].Add(s.hold)
		ps := window(pts, end.Add(-settled), end)
		if len(metricValues(ps)) < 3 {
			// Ticks slow down (or a source times out) on a loaded machine: judge the whole second
			// half of the phase rather than too few readings.
			ps = window(pts, end.Add(-s.hold/2), end)
		}
		var targets []float64
		for _, p := range ps {
			if p.Target != nil {
				targets = append(targets, *p.Target)
			}
		}
		tmean, _ := meanMax(targets)
		mean, max := meanMax(metricValues(ps))
		t.Logf("phase %d (input %s): target %.2f, metric %.2f on average over its last %v (max %.0f, %d ticks)",
			i+1, s.value, tmean, mean, settled, max, len(ps))
		if len(metricValues(ps)) < 2 {
			t.Errorf("phase %d: only %d readings in %d ticks", i+1, len(metricValues(ps)), len(ps))
			continue
		}
		if math.Abs(tmean-s.want) > 1e-9 {
			t.Errorf("phase %d: target %.2f, want %v", i+1, tmean, s.want)
		}
		if math.Abs(mean-s.want) > band {
			t.Errorf("phase %d: metric %.2f on average, want %v ± %v", i+1, mean, s.want, band)
		}
	}
}

// fullOnly keeps the longer examples out of `make test` (CI's time budget): they run under
// `make examples` (RELAY_EXAMPLES=1). queue and math-zscore always run, in parallel with each
// other (after the long ones); the long ones run one at a time: each times real processes
// at sub-second ticks, and two at once (the CPU burners of one beside the other) only add
// to whatever else loads the machine.
func fullOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("RELAY_EXAMPLES") != "1" {
		t.Skip("long example: runs under make examples (RELAY_EXAMPLES=1)")
	}
}

// sample is one reading the test took of the plant itself (not through the replica).
type sample struct {
	at time.Time
	v  float64
}

// samplePlant reads the plant every interval with read (a failed read is skipped) until the
// test ends, independently of the replica: on a loaded machine the replica's ticks slow down
// or miss readings, and the outcome a user looks at is the plant's. The returned function
// gives the samples so far.
func samplePlant(t *testing.T, every time.Duration, read func() (float64, bool)) func() []sample {
	var mu sync.Mutex
	var got []sample
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			if v, ok := read(); ok {
				mu.Lock()
				got = append(got, sample{time.Now(), v})
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() []sample {
		mu.Lock()
		defer mu.Unlock()
		return append([]sample(nil), got...)
	}
}

// since returns the values of the samples taken at or after from.
func since(s []sample, from time.Time) []float64 {
	var out []float64
	for _, x := range s {
		if !x.at.Before(from) {
			out = append(out, x.v)
		}
	}
	return out
}
