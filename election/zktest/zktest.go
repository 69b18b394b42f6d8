// Package zktest runs real ZooKeeper servers (Debian's zookeeper package) on 127.0.0.1 for
// tests and for the chaos harness: one server, or an ensemble, each a child process on free
// ports that can be stopped and started again on the same ports and data.
package zktest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Jar is where Debian's zookeeper package puts the server.
const Jar = "/usr/share/java/zookeeper.jar"

// logBinding is SLF4J's simple logger, from Debian's libslf4j-java (a dependency of the
// zookeeper package). Debian's server classpath has no SLF4J binding, so without it the
// server logs nothing; with it, its log (info and up, timestamped) goes to zookeeper.log.
const logBinding = "/usr/share/java/slf4j-simple.jar"

// ErrNoZooKeeper means the ZooKeeper jar or java is not installed.
var ErrNoZooKeeper = errors.New("zktest: ZooKeeper is not installed (Debian package zookeeper; `make deps` installs it)")

// Available reports whether a ZooKeeper server can be started here.
func Available() error {
	if _, err := os.Stat(Jar); err != nil {
		return ErrNoZooKeeper
	}
	if _, err := exec.LookPath("java"); err != nil {
		return fmt.Errorf("%w: java not found", ErrNoZooKeeper)
	}
	return nil
}

// Options shape a server.
type Options struct {
	// TickTime is ZooKeeper's tick (default 200ms); sessions may be 2 to 100 ticks long.
	TickTime time.Duration
}

// Process is one ZooKeeper server process (one ensemble member, or a standalone server).
type Process struct {
	mu      sync.Mutex
	dir     string
	cfg     string
	port    int
	cmd     *exec.Cmd
	done    chan struct{}
	logFile string
}

// Launch starts a standalone server with its data in dir, listening on 127.0.0.1:port (0 picks
// a free port). It returns once the server answers, or an error after 30 s.
func Launch(dir string, port int, opt Options) (*Process, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	p, err := newProcess(dir, port, opt, "")
	if err != nil {
		return nil, err
	}
	return p, p.Start()
}

func newProcess(dir string, port int, opt Options, extra string) (*Process, error) {
	if opt.TickTime <= 0 {
		opt.TickTime = 200 * time.Millisecond
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	tick := opt.TickTime.Milliseconds()
	cfg := fmt.Sprintf(`tickTime=%d
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
admin.enableServer=false
minSessionTimeout=%d
maxSessionTimeout=%d
initLimit=50
syncLimit=25
4lw.commands.whitelist=ruok,srvr,stat
%s`, tick, filepath.Join(dir, "data"), port, 2*tick, 100*tick, extra)
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	return &Process{dir: dir, cfg: path, port: port, logFile: filepath.Join(dir, "zookeeper.log")}, nil
}

// Addr is the client address, 127.0.0.1:port.
func (p *Process) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// LogFile is where the server's output and log go (appended across restarts).
func (p *Process) LogFile() string { return p.logFile }

// Pid is the server's process id (0 when stopped).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Start starts the server (again) on the same port and data, and waits until it answers.
func (p *Process) Start() error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return nil
	}
	log, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("zktest: %w", err)
	}
	cp := "/etc/zookeeper/conf:" + Jar
	if _, err := os.Stat(logBinding); err == nil {
		cp += ":" + logBinding
	}
	cmd := exec.Command("java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.admin.enableServer=false",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
		"-Dorg.slf4j.simpleLogger.showThreadName=false",
		"-cp", cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", p.cfg)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group (stopped as a whole), killed with this process: a test binary
	// killed by a signal or a timeout runs no cleanup, and left its servers running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		p.mu.Unlock()
		return fmt.Errorf("zktest: start java: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return p.waitReady(30 * time.Second)
}

// waitReady polls the four-letter word "ruok" until the server says imok (and serves).
func (p *Process) waitReady(bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if state, err := FourLetter(p.Addr(), "srvr"); err == nil && strings.Contains(state, "Mode:") {
			return nil
		}
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		select {
		case <-done:
			return fmt.Errorf("zktest: server exited; see %s", p.logFile)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("zktest: server on %s not ready after %v; see %s", p.Addr(), bound, p.logFile)
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit.
func (p *Process) Stop() {
	cmd, done := p.take()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Kill stops the server with SIGKILL (a crash).
func (p *Process) Kill() {
	cmd, done := p.take()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// take hands the running server's process (nil if none) and its exit channel to the caller
// that stops it.
func (p *Process) take() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	return cmd, done
}

// Restart stops and starts the server.
func (p *Process) Restart() error {
	p.Stop()
	return p.Start()
}

// FourLetter sends a four-letter-word command and returns the answer.
func FourLetter(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var b strings.Builder
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is a ZooKeeper server owned by a test.
type Server struct {
	*Process
}

// Start starts a server for t and stops it when t ends. Without ZooKeeper installed the test
// is skipped, or fails when RELAY_REQUIRE_ZOOKEEPER=1 (as under `make test`).
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	Require(t)
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	p, err := Launch(t.TempDir(), 0, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &Server{p}
}

// Require skips t (or fails it under RELAY_REQUIRE_ZOOKEEPER=1) when ZooKeeper is missing.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("RELAY_REQUIRE_ZOOKEEPER") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// Shared starts the one server a package's tests share (a 100 ms tick, so sessions may be as
// short as 200 ms; data in a temporary directory named after prefix), for TestMain. With
// ZooKeeper missing it returns a nil server and no error, and the tests that need one skip
// (Require), unless RELAY_REQUIRE_ZOOKEEPER=1 makes the absence an error. stop stops the
// server and removes its directory.
func Shared(prefix string) (p *Process, stop func(), err error) {
	if err := Available(); err != nil {
		if os.Getenv("RELAY_REQUIRE_ZOOKEEPER") == "1" {
			return nil, nil, err
		}
		return nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("zktest: %w", err)
	}
	p, err = Launch(dir, 0, Options{TickTime: 100 * time.Millisecond})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return p, func() { p.Stop(); os.RemoveAll(dir) }, nil
}

// MainOptions tunes Main.
type MainOptions struct {
	// SkipAll: with ZooKeeper missing (and not required), run no test at all, for a package
	// whose every test needs the server; otherwise each test that needs it skips (Require).
	SkipAll bool
	// Leaks, when set, runs after tests that passed; an error (goroutines left running) fails
	// the run.
	Leaks func() error
}

// Main is a package's TestMain around one shared server (Shared, its directory named after
// prefix): it sets *server (nil with ZooKeeper missing and not required), runs the tests,
// stops the server and exits with the tests' code. A server that cannot start exits 1.
func Main(m *testing.M, prefix string, server **Process, o MainOptions) {
	p, stop, err := Shared(prefix)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if p == nil {
		fmt.Println("ZooKeeper tests will be skipped:", Available())
		if o.SkipAll {
			os.Exit(0)
		}
	}
	*server = p
	code := m.Run()
	stop()
	if code == 0 && o.Leaks != nil {
		if err := o.Leaks(); err != nil {
			fmt.Println("leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Ensemble is a ZooKeeper ensemble of several servers on 127.0.0.1.
type Ensemble struct {
	Members []*Process
}

// LaunchEnsemble starts n servers in dir/zk<i> and waits until each answers.
func LaunchEnsemble(dir string, n int, opt Options) (*Ensemble, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	type ports struct{ client, peer, election int }
	ps := make([]ports, n)
	for i := range ps {
		for _, p := range []*int{&ps[i].client, &ps[i].peer, &ps[i].election} {
			v, err := FreePort()
			if err != nil {
				return nil, err
			}
			*p = v
		}
	}
	var servers strings.Builder
	for i, p := range ps {
		fmt.Fprintf(&servers, "server.%d=127.0.0.1:%d:%d\n", i+1, p.peer, p.election)
	}
	e := &Ensemble{}
	for i, p := range ps {
		d := filepath.Join(dir, fmt.Sprintf("zk%d", i+1))
		proc, err := newProcess(d, p.client, opt, servers.String())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(d, "data", "myid"), []byte(fmt.Sprint(i+1)), 0o644); err != nil {
			return nil, fmt.Errorf("zktest: %w", err)
		}
		e.Members = append(e.Members, proc)
	}
	// Members wait for a quorum before answering: start all, then wait.
	errs := make(chan error, n)
	for _, m := range e.Members {
		go func(m *Process) { errs <- m.Start() }(m)
	}
	var first error
	for range e.Members {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		e.Stop()
		return nil, first
	}
	return e, nil
}

// StartEnsemble starts an ensemble for t and stops it when t ends.
func StartEnsemble(t testing.TB, n int, opts ...Options) *Ensemble {
	t.Helper()
	Require(t)
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	e, err := LaunchEnsemble(t.TempDir(), n, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}

// Addrs is the members' client addresses, comma-separated (for zk:// URLs).
func (e *Ensemble) Addrs() string {
	var a []string
	for _, m := range e.Members {
		a = append(a, m.Addr())
	}
	return strings.Join(a, ",")
}

// Stop stops every member.
func (e *Ensemble) Stop() {
	for _, m := range e.Members {
		m.Stop()
	}
}
