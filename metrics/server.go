package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Clock is the server's view of time; tests inject their own.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// ServerConfig configures the HTTP server of one replica.
type ServerConfig struct {
	// Listen is the address to listen on (host:port; default 127.0.0.1:8080).
	Listen string
	// ZKLostBound: /healthz fails once the ZooKeeper session has not been connected for
	// longer than this (default 2m). Set it well above the session timeout, so that a
	// replica is restarted only when it cannot recover on its own.
	ZKLostBound time.Duration
	// ProxyTimeout bounds a follower's fetch of the leader's /api/history (default 1s).
	ProxyTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown in Run (default 5s).
	ShutdownTimeout time.Duration
	// Clock is used for health decisions and status times (nil: the wall clock).
	Clock Clock
}

// DefaultServerConfig returns the defaults.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Listen: "127.0.0.1:8080", ZKLostBound: 2 * time.Minute,
		ProxyTimeout: time.Second, ShutdownTimeout: 5 * time.Second,
	}
}

// ErrConfig is wrapped by every ServerConfig.Validate error.
var ErrConfig = errors.New("metrics: invalid server config")

// Validate reports the first invalid field.
func (c ServerConfig) Validate() error {
	switch {
	case strings.TrimSpace(c.Listen) == "":
		return fmt.Errorf("%w: listen address is empty", ErrConfig)
	case c.ZKLostBound <= 0:
		return fmt.Errorf("%w: zookeeper lost bound must be > 0, got %v", ErrConfig, c.ZKLostBound)
	case c.ProxyTimeout <= 0:
		return fmt.Errorf("%w: proxy timeout must be > 0, got %v", ErrConfig, c.ProxyTimeout)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("%w: shutdown timeout must be > 0, got %v", ErrConfig, c.ShutdownTimeout)
	}
	return nil
}

// Server serves /metrics, /healthz, /readyz, /status, /leader, /api/history and the
// dashboard at /. Every replica runs one, leader or not.
type Server struct {
	cfg     ServerConfig
	m       *Metrics
	gath    prometheus.Gatherer
	status  StatusProvider
	log     hclog.Logger
	client  *http.Client
	started time.Time
	mux     *http.ServeMux
}

// NewServer returns a server for m (may be nil: then no events, errors nor history),
// gathering /metrics from gatherer (the registry m was built on) and asking status for the
// replica's status.
func NewServer(cfg ServerConfig, m *Metrics, gatherer prometheus.Gatherer, status StatusProvider, logger hclog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if gatherer == nil || status == nil {
		return nil, fmt.Errorf("%w: gatherer and status provider are required", ErrConfig)
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true // one short fetch per dashboard refresh; no idle connections to leak
	tr.Proxy = nil              // replicas talk to each other directly
	s := &Server{
		cfg: cfg, m: m, gath: gatherer, status: status, log: logger.Named("http"),
		client:  &http.Client{Timeout: cfg.ProxyTimeout, Transport: tr},
		started: cfg.Clock.Now(),
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gath, promhttp.HandlerOpts{ErrorLog: s.log.StandardLogger(nil)}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.statusHandler)
	mux.HandleFunc("GET /leader", s.leader)
	mux.HandleFunc("GET /api/history", s.history)
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /{$}", indexHandler)
	s.mux = mux
}

// Handler returns the server's routes (for tests and for mounting elsewhere).
func (s *Server) Handler() http.Handler { return s.mux }

// Run listens on the configured address and serves until ctx is cancelled, then shuts down
// gracefully (bounded by ShutdownTimeout). It blocks; it returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln (which it closes) until ctx is cancelled; see Run.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: s.mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	s.log.Info("listening", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // Serve returns ErrServerClosed at once after Shutdown starts
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("metrics: shutdown: %w", err)
	}
	return nil
}

// snapshot asks the provider for the status and completes it.
func (s *Server) snapshot() Status {
	st := s.status.Status()
	now := s.cfg.Clock.Now()
	st.Time = now
	if s.m != nil {
		if st.ZooKeeper.State == "" {
			st.ZooKeeper.State, st.ZooKeeper.Since = s.m.ZKState()
		}
		st.Errors = append(st.Errors, s.m.Errors()...)
		st.Events = append(st.Events, s.m.Events()...)
	}
	if st.ZooKeeper.State == "" {
		st.ZooKeeper.State = ZKNone
	}
	if zkLost(st.ZooKeeper.State) {
		since := st.ZooKeeper.Since
		if since.IsZero() {
			since = s.started
		}
		st.ZooKeeper.LostSeconds = max(0, now.Sub(since).Seconds())
	}
	l := &st.Ledger
	l.Total = TaskCounts{
		Ungranted: l.Warmer.Ungranted + l.Cooler.Ungranted,
		Pending:   l.Warmer.Pending + l.Cooler.Pending,
		Running:   l.Warmer.Running + l.Cooler.Running,
	}
	if st.Errors == nil {
		st.Errors = []ErrorNote{}
	}
	if st.Events == nil {
		st.Events = []Event{}
	}
	return st
}

// probe is the body of /healthz, /readyz and /leader.
type probe struct {
	OK      bool        `json:"ok"`
	Role    string      `json:"role"`
	ID      string      `json:"id,omitempty"`
	Reason  string      `json:"reason"`
	Leader  *LeaderInfo `json:"leader"`
	Address string      `json:"address,omitempty"`
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	st := s.snapshot()
	p := probe{OK: true, Role: st.Role, ID: st.ID, Leader: st.Leader, Reason: "alive"}
	if zk := st.ZooKeeper; zkLost(zk.State) {
		lost := time.Duration(zk.LostSeconds * float64(time.Second))
		if lost > s.cfg.ZKLostBound {
			p.OK = false
			p.Reason = fmt.Sprintf("ZooKeeper session %s for %s (bound %s)", zk.State, lost.Round(time.Second), s.cfg.ZKLostBound)
		} else {
			p.Reason = fmt.Sprintf("alive; ZooKeeper session %s for %s (fails after %s)", zk.State, lost.Round(time.Second), s.cfg.ZKLostBound)
		}
	}
	writeProbe(w, p, http.StatusServiceUnavailable)
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := s.snapshot()
	p := probe{Role: st.Role, ID: st.ID, Leader: st.Leader}
	switch st.Role {
	case RoleLeader, RoleStandalone:
		switch {
		case !st.Mesos.Subscribed:
			p.Reason = st.Role + ": not subscribed to Mesos yet"
		case !st.Mesos.Deciding:
			p.Reason = st.Role + ": subscribed, reconciling before deciding"
		default:
			p.OK, p.Reason = true, st.Role+": subscribed to Mesos and deciding"
		}
	case RoleFollower:
		if zkLost(st.ZooKeeper.State) {
			p.Reason = "follower: ZooKeeper session " + st.ZooKeeper.State
		} else {
			p.OK, p.Reason = true, "follower: ready as a standby"
		}
	default:
		p.Reason = st.Role + ": campaigning, no leader known"
	}
	writeProbe(w, p, http.StatusServiceUnavailable)
}

func (s *Server) leader(w http.ResponseWriter, _ *http.Request) {
	st := s.snapshot()
	p := probe{Role: st.Role, ID: st.ID, Leader: st.Leader}
	code := http.StatusServiceUnavailable
	switch {
	case st.Role == RoleLeader || st.Role == RoleStandalone:
		p.OK, p.Reason, p.Address = true, "this replica is the leader", st.Address
		if p.Leader == nil {
			p.Leader = &LeaderInfo{ID: st.ID, Address: st.Address}
		}
	case st.Leader != nil && st.Leader.ID != "":
		p.Reason = fmt.Sprintf("not the leader; the leader is %s at %s", st.Leader.ID, st.Leader.Address)
		p.Address = st.Leader.Address
	default:
		p.Reason, code = "no leader known", http.StatusBadGateway
	}
	writeProbe(w, p, code)
}

func (s *Server) statusHandler(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.snapshot())
}

func writeProbe(w http.ResponseWriter, p probe, failCode int) {
	code := http.StatusOK
	if !p.OK {
		code = failCode
	}
	writeJSON(w, code, p)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
