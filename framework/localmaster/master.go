package localmaster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// Version is what master_info.version says.
const Version = "1.11.0-relay-localmaster"

const (
	maxCompleted     = 4000 // completed tasks kept for /state
	maxLaunches      = 5000 // launches log entries kept
	maxSubscriptions = 100  // subscriptions kept per framework
	maxUpdateBackoff = 10 * time.Minute
	defaultKillGrace = 3 * time.Second
)

// Master is one embedded Mesos master with one agent on the local machine. All its state is
// guarded by one mutex; HTTP handlers, the allocator and task watchers take it briefly.
type Master struct {
	cfg     Config
	log     hclog.Logger
	ln      net.Listener
	regPath string
	now     func() time.Time

	runOnce sync.Once
	wg      sync.WaitGroup // Run's own goroutines
	procWG  sync.WaitGroup // task launchers and process waiters
	// starting holds a token per task process being started (Config.MaxStarting).
	starting chan struct{}
	// shell is the shell of CommandInfo.shell tasks (bash, else /bin/sh), looked up once.
	shell string

	mu          sync.Mutex
	stopped     bool
	masterID    string
	agentID     string
	startedAt   time.Time
	fwSeq       int
	offerSeq    int
	total       resSet
	frameworks  map[string]*framework
	fwOrder     []string // allocation round-robin order
	rr          int
	removed     map[string]time.Time
	completedFw []FrameworkState
	completed   jsonLog[TaskState]
	launches    jsonLog[Launch]
	offers      map[string]*offer
	streams     map[*stream]struct{}
	wake        chan struct{}
	persistErr  error
	// persistKick and persistDirty: the coalesced registry writer while Run serves.
	persistKick  chan struct{}
	persistDirty bool
	// lastWrite and lastSize: the time and size of the last registry write.
	lastWrite time.Duration
	lastSize  int
}

// New makes a Master, recovers its registry from cfg.WorkDir if one is there, and binds the
// listener at once so that Addr is known before Run.
func New(cfg Config, log hclog.Logger) (*Master, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("localmaster config: %w", err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if cfg.WorkDir == "" {
		d, err := os.MkdirTemp("", "relay-localmaster-")
		if err != nil {
			return nil, fmt.Errorf("localmaster workdir: %w", err)
		}
		cfg.WorkDir = d
	}
	if err := os.MkdirAll(filepath.Join(cfg.WorkDir, "sandboxes"), 0o755); err != nil {
		return nil, fmt.Errorf("localmaster workdir: %w", err)
	}
	total, _ := parseResources(cfg.Resources)
	m := &Master{
		cfg:        cfg,
		log:        log.Named("localmaster"),
		regPath:    filepath.Join(cfg.WorkDir, "registry.json"),
		now:        time.Now,
		total:      total,
		frameworks: map[string]*framework{},
		removed:    map[string]time.Time{},
		offers:     map[string]*offer{},
		streams:    map[*stream]struct{}{},
		wake:       make(chan struct{}, 1),
		starting:   make(chan struct{}, cfg.MaxStarting),
		completed:  jsonLog[TaskState]{max: maxCompleted},
		launches:   jsonLog[Launch]{max: maxLaunches},
		shell:      "/bin/sh",
	}
	if sh, err := exec.LookPath("bash"); err == nil {
		m.shell = sh
	}
	m.startedAt = m.now()
	if err := m.recover(); err != nil {
		return nil, fmt.Errorf("localmaster recover %s: %w", m.regPath, err)
	}
	if m.masterID == "" {
		m.masterID = newUUID()
	}
	m.agentID = m.masterID + "-S0"
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("localmaster listen %s: %w", cfg.Listen, err)
	}
	m.ln = ln
	m.mu.Lock()
	m.persistLocked()
	m.mu.Unlock()
	return m, nil
}

// Addr is the host:port the API listens on.
func (m *Master) Addr() string { return m.ln.Addr().String() }

// URL is http://host:port.
func (m *Master) URL() string { return "http://" + m.Addr() }

// WorkDir is the directory holding sandboxes and the registry.
func (m *Master) WorkDir() string { return m.cfg.WorkDir }

// Run serves the API, allocates offers, retries status updates and watches adopted tasks
// until ctx is done. On return every event stream is closed and the registry is written;
// task processes keep running (they are detached in their own process group) unless
// Config.KillTasksOnExit is set. Run may be called once.
func (m *Master) Run(ctx context.Context) error {
	first := false
	m.runOnce.Do(func() { first = true })
	if !first {
		return errors.New("localmaster: Run called twice")
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	}()
	m.mu.Lock()
	for _, fw := range m.frameworks {
		if fw.stream == nil {
			m.startFailoverTimerLocked(fw)
		}
	}
	m.mu.Unlock()
	m.log.Info("master started", "url", m.URL(), "master_id", m.masterID, "resources", m.total.String(), "work_dir", m.cfg.WorkDir)

	loopCtx, cancel := context.WithCancel(ctx)
	m.mu.Lock()
	m.persistKick = make(chan struct{}, 1)
	m.mu.Unlock()
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.loop(loopCtx) }()
	go func() { defer m.wg.Done(); m.persistLoop(loopCtx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("localmaster serve: %w", err)
	}
	cancel()

	m.mu.Lock()
	m.stopped = true
	for _, fw := range m.frameworks {
		if fw.timer != nil {
			fw.timer.Stop()
		}
	}
	for s := range m.streams {
		s.close(false)
	}
	m.mu.Unlock()

	shutCtx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	if serr := srv.Shutdown(shutCtx); serr != nil {
		_ = srv.Close()
	}
	stop()
	m.wg.Wait()

	m.mu.Lock()
	if m.cfg.KillTasksOnExit {
		for _, fw := range m.frameworks {
			for _, t := range fw.tasks {
				t.signal(true)
			}
		}
	}
	m.persistKick = nil // the writer has stopped: write now, and synchronously from here on
	m.persistDirty = false
	m.writeRegistryLocked()
	m.mu.Unlock()
	if m.cfg.KillTasksOnExit {
		m.procWG.Wait()
	}
	m.log.Info("master stopped")
	return err
}

// loop is the allocator, the status-update retrier and the watcher of adopted processes.
func (m *Master) loop(ctx context.Context) {
	alloc := time.NewTicker(m.cfg.OfferInterval)
	defer alloc.Stop()
	watch := time.NewTicker(100 * time.Millisecond)
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-alloc.C:
			m.allocate()
		case <-m.wake:
			m.allocate()
		case <-watch.C:
			m.retryUpdates()
			m.watchAdopted()
		}
	}
}

func (m *Master) wakeAllocator() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// SetResources changes the agent's total at runtime (e.g. "cpus:0;mem:0" to starve
// frameworks). Outstanding offers that no longer fit are rescinded; running tasks stay.
func (m *Master) SetResources(spec string) error {
	rs, err := parseResources(spec)
	if err != nil {
		return fmt.Errorf("set resources: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.total = rs
	free := m.total.sub(m.usedLocked())
	for _, o := range m.offersByAgeLocked() {
		if free.contains(o.res) {
			free = free.sub(o.res)
			continue
		}
		m.rescindLocked(o)
	}
	m.log.Info("agent resources changed", "resources", rs.String())
	m.wakeAllocator()
	return nil
}

func newUUID() string {
	b := uuidBytes()
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func uuidBytes() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return b
}

func ptr[T any](v T) *T { return &v }

func frameworkID(id string) *mesos.FrameworkID { return &mesos.FrameworkID{Value: id} }
