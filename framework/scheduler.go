package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/apierrors"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/relay-mesos/relay-mesos/loop"
)

// Errors a caller decides on.
var (
	// ErrStepDown wraps errors after which this replica must stop leading (a fenced write
	// refused by the state store, from a hook).
	ErrStepDown = errors.New("framework: step down")
	// ErrFailedOver: another scheduler instance subscribed with our FrameworkID ("Framework
	// failed over"); this one must stop acting.
	ErrFailedOver = errors.New("framework: another scheduler instance took the framework over")
	// ErrFrameworkRemoved: Mesos tore the framework down; an operator must decide.
	ErrFrameworkRemoved = errors.New("framework: Mesos has removed this framework (torn down or failover timeout expired)")
)

// errLeaderMoved ends a subscription made through a non-leading master, so that the next
// one goes to the leader itself.
var errLeaderMoved = errors.New("subscribed through a non-leading master")

// Hooks let the caller persist what must be durable before Mesos acts on it.
type Hooks struct {
	// OnSubscribed is called with the FrameworkID of every SUBSCRIBED before anything else
	// happens on that subscription (the HA replica stores a new ID, fenced). An error wrapping
	// ErrStepDown ends Run.
	OnSubscribed func(ctx context.Context, frameworkID string) error
	// BeforeLaunch is called with the tasks recorded as intents before the ACCEPT that launches
	// them (the replica writes a fenced checkpoint). An error cancels the launch.
	BeforeLaunch func(ctx context.Context, tasks []TaskRecord) error
}

// Recorder receives the framework's figures (metrics.Metrics implements it).
type Recorder interface {
	OffersReceived(n int)
	OffersDeclined(n int)
	OffersUsed(n int)
	OfferRescinded()
	OfferToAccept(seconds float64)
	TaskLaunched(kind string)
	TaskEnded(kind, state string)
	TaskKillSent(kind string)
	LaunchBackoff(kind string, seconds float64)
	MesosEvent(eventType string)
	MesosProblem(class string)
	Subscribed(frameworkID string)
	Disconnected(reason string)
	Error(where string, err error)
}

// Status is what the scheduler shows of itself.
type Status struct {
	Master      string `json:"master"`
	FrameworkID string `json:"framework_id"`
	Subscribed  bool   `json:"subscribed"`
	Ready       bool   `json:"ready"`
	Suppressed  bool   `json:"suppressed"`
	// Halted is why launching stopped (max failures), empty while launching.
	Halted string `json:"halted,omitempty"`
	// Backoff: kinds whose last tasks failed. No task of the kind is launched before Until;
	// after it, one at a time, each Delay apart, until one of them works.
	Backoff map[string]Backoff `json:"backoff,omitempty"`
	Demand  [2]int             `json:"demand"`
	Ledger  loop.Ledger        `json:"ledger"`
	LastErr string             `json:"last_error,omitempty"`
}

// Backoff is one kind's launch delay after failed tasks.
type Backoff struct {
	Until time.Time `json:"until"` // no launch of the kind before
	Delay string    `json:"delay"` // the delay now; the next failure doubles it (up to the max)
}

// Scheduler is the Mesos v1 scheduler of one leadership term. It implements loop.Actuator.
// Run owns the subscription; Withdraw, Demand and Status may be called from any goroutine.
type Scheduler struct {
	cfg    Config
	hooks  Hooks
	rec    Recorder
	log    hclog.Logger
	ledger *Ledger
	now    func() time.Time

	ready     chan struct{}
	readyOnce sync.Once
	kick      chan struct{}

	mu     sync.Mutex
	fwID   string
	demand [2]int // units still to launch (warmer, cooler); cooler = kills in kill mode
	// gen counts Demand and Withdraw calls: units handed back (a refused or invalid launch)
	// return to the demand only if it is still the one they were taken from.
	gen uint64
	// inflight: launched tasks without an update yet, with the gen they were taken from.
	inflight   map[string]uint64
	reconSeq   int
	suppressed bool
	// subscribeSuppressed: the last SUBSCRIBE carried suppressed_roles (no demand then).
	subscribeSuppressed bool
	filtered            bool // offers were declined or partly used with a refuse filter: REVIVE when demand comes
	// filterSeq counts the calls that install refuse filters, when sent and when answered: a
	// REVIVE clears filtered only if none was sent or answered meanwhile, since the master
	// may have taken that call after the REVIVE (they go on different connections).
	filterSeq   uint64
	idleSince   time.Time
	halted      string
	subscribed  bool
	master      string
	leaderHint  string
	lastErr     string
	reconciling map[string]string // tasks awaiting an answer to the current reconciliation
	reconStart  time.Time
	lastStale   time.Time
	lastImplied time.Time
}

// New returns a scheduler that subscribes with frameworkID ("" registers a new framework)
// and keeps its tasks in ledger.
func New(cfg Config, frameworkID string, ledger *Ledger, hooks Hooks, rec Recorder, log hclog.Logger) (*Scheduler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ledger == nil {
		ledger = NewLedger()
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if rec == nil {
		return nil, fmt.Errorf("%w: no recorder", ErrConfig)
	}
	// A launch backoff restored from the last leader's checkpoint goes on: the kind's next
	// launch waits out what is left of the delay (at most the delay, whatever the last
	// leader's clock said), and the kind is launched one task at a time until it works.
	now := cfg.Clock()
	for _, k := range []loop.Kind{loop.Warmer, loop.Cooler} {
		if d, until := ledger.Backoff(k); d > 0 {
			if until.After(now.Add(d)) {
				until = now.Add(d)
				ledger.setBackoff(k, d, until)
			}
			log.Info("launch_backoff_restored", "kind", k.String(), "delay", d, "until", until)
		}
	}
	return &Scheduler{cfg: cfg, hooks: hooks, rec: rec, log: log, ledger: ledger, now: cfg.Clock,
		fwID: frameworkID, ready: make(chan struct{}), kick: make(chan struct{}, 1), idleSince: now,
		inflight: map[string]uint64{}}, nil
}

// Ready is closed once the first subscription has reconciled the ledger's tasks (or the
// reconciliation wait has passed): from then on the controller may decide.
func (s *Scheduler) Ready() <-chan struct{} { return s.ready }

// FrameworkID is the current FrameworkID ("" before the first SUBSCRIBED of a new framework).
func (s *Scheduler) FrameworkID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fwID
}

// Ledger returns the task ledger.
func (s *Scheduler) Ledger() *Ledger { return s.ledger }

// Withdraw implements loop.Actuator: it cancels the demand not yet launched and returns the
// ledger with it as Ungranted.
func (s *Scheduler) Withdraw() loop.Ledger {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.ledger.Counts(s.cfg.CoolerKill)
	l.Warmer.Ungranted, l.Cooler.Ungranted = s.demand[0], s.demand[1]
	s.demand = [2]int{}
	s.gen++
	return l
}

// Demand implements loop.Actuator.
func (s *Scheduler) Demand(warmers, coolers int) {
	s.mu.Lock()
	if s.cfg.Warmer == "" {
		warmers = 0
	}
	if s.cfg.Cooler == "" && !s.cfg.CoolerKill {
		coolers = 0
	}
	// While halted the demand is kept (Withdraw reports it Ungranted) but not launched.
	s.demand = [2]int{max(warmers, 0), max(coolers, 0)}
	s.gen++
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Status returns a snapshot of the scheduler.
func (s *Scheduler) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Master: s.master, FrameworkID: s.fwID, Subscribed: s.subscribed, Suppressed: s.suppressed,
		Halted: s.halted, Demand: s.demand, LastErr: s.lastErr, Ledger: s.ledger.Counts(s.cfg.CoolerKill)}
	for _, k := range []loop.Kind{loop.Warmer, loop.Cooler} {
		if d, until := s.ledger.Backoff(k); d > 0 {
			if st.Backoff == nil {
				st.Backoff = map[string]Backoff{}
			}
			st.Backoff[k.String()] = Backoff{Until: until, Delay: d.String()}
		}
	}
	select {
	case <-s.ready:
		st.Ready = true
	default:
	}
	return st
}

// Run subscribes and resubscribes (with backoff) until ctx ends or the framework must stop:
// it returns nil when ctx ends, an error wrapping ErrStepDown, ErrFailedOver or
// ErrFrameworkRemoved otherwise. It never tears the framework down.
func (s *Scheduler) Run(ctx context.Context) error {
	backoff := s.cfg.MinBackoff
	moved := false // the previous subscription ended because the leader is elsewhere
	// The launch backoff is kept in the ledger, so a new leader goes on with the last one's;
	// its gauge is the leader's: a replica that no longer leads shows none.
	for _, k := range []loop.Kind{loop.Warmer, loop.Cooler} {
		if d, _ := s.ledger.Backoff(k); d > 0 {
			s.rec.LaunchBackoff(k.String(), d.Seconds())
		}
	}
	defer func() {
		for _, k := range []loop.Kind{loop.Warmer, loop.Cooler} {
			s.rec.LaunchBackoff(k.String(), 0)
		}
	}()
	for {
		start := s.now()
		err := s.subscribeOnce(ctx)
		s.mu.Lock()
		was := s.subscribed
		s.subscribed = false
		if err != nil && ctx.Err() == nil {
			s.lastErr = err.Error()
		}
		s.mu.Unlock()
		if ctx.Err() != nil {
			if was {
				s.rec.Disconnected("shutdown")
			}
			return nil
		}
		switch {
		case errors.Is(err, ErrStepDown), errors.Is(err, ErrFailedOver), errors.Is(err, ErrFrameworkRemoved):
			if was {
				s.rec.Disconnected("failed_over")
			}
			s.log.Error("scheduler_stopped", "error", err)
			return err
		case errors.Is(err, errLeaderMoved) && !moved:
			// Once at once; masters that keep naming each other get the backoff below.
			moved = true
			s.log.Info("resubscribing_to_leader", "leader", s.leaderHintValue())
			continue
		}
		moved = errors.Is(err, errLeaderMoved)
		reason := "error"
		if errors.Is(err, errHeartbeat) {
			reason = "heartbeat"
		}
		if was {
			s.rec.Disconnected(reason)
		}
		s.rec.MesosProblem("subscription")
		if s.now().Sub(start) > 30*time.Second {
			backoff = s.cfg.MinBackoff
		}
		s.log.Warn("mesos_subscription_ended", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

func (s *Scheduler) leaderHintValue() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaderHint
}

var errHeartbeat = errors.New("no event from the master within the heartbeat bound")

// frameworkInfo is what SUBSCRIBE sends.
func (s *Scheduler) frameworkInfo(id string) *mesos.FrameworkInfo {
	fto := s.cfg.FailoverTimeout.Seconds()
	cp := s.cfg.Checkpoint
	fi := &mesos.FrameworkInfo{
		User:            s.cfg.User,
		Name:            s.cfg.Name,
		FailoverTimeout: &fto,
		Checkpoint:      &cp,
		Roles:           []string{s.cfg.Role},
		Capabilities: []mesos.FrameworkInfo_Capability{
			{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE},
		},
	}
	if s.cfg.Principal != "" {
		p := s.cfg.Principal
		fi.Principal = &p
	}
	if s.cfg.Hostname != "" {
		h := s.cfg.Hostname
		fi.Hostname = &h
	}
	if s.cfg.WebUIURL != "" {
		w := s.cfg.WebUIURL
		fi.WebUiURL = &w
	}
	if id != "" {
		fi.ID = &mesos.FrameworkID{Value: id}
	}
	return fi
}

// subscription is one SUBSCRIBE and its event stream.
type subscription struct {
	s      *Scheduler
	caller interface {
		Call(ctx context.Context, call *scheduler.Call) (mesos.Response, error)
	}
	endpoint string
	log      hclog.Logger
	// acks sends this subscription's ACKNOWLEDGE calls off the event loop (nil: inline).
	acks *acker
}

// newCaller builds the HTTP caller of one subscription, pointed at base. closeIdle drops its
// kept-alive connections: each subscription has its own transport, which would otherwise keep
// them (and a goroutine each) open for as long as the master does.
func newCaller(cfg Config, base string) (caller calls.Caller, closeIdle func()) {
	var transport *http.Transport
	cfgOpts := []httpcli.ConfigOpt{httpcli.Transport(func(t *http.Transport) {
		t.ResponseHeaderTimeout = cfg.CallTimeout
		t.IdleConnTimeout = 90 * time.Second
		// Calls run in parallel (the acknowledgers, the event loop, the driver): keep a
		// connection for each alive instead of the default two, so none pays a new TCP
		// connection per call.
		t.MaxIdleConnsPerHost = ackWorkers + 4
		transport = t
	})}
	if cfg.Principal != "" && cfg.Secret != "" {
		cfgOpts = append(cfgOpts, httpcli.BasicAuth(cfg.Principal, cfg.Secret))
	}
	cli := httpcli.New(
		httpcli.Endpoint(base+"/api/v1/scheduler"),
		httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeProtobuf]),
		httpcli.Do(httpcli.With(cfgOpts...)),
	)
	// EndpointCandidates returning "" keeps a failed call (a 400 on a DECLINE, a timeout) from
	// dropping the whole subscription (mesos-go v0.0.11's default does).
	return httpsched.NewCaller(cli, httpsched.EndpointCandidates(func() string { return "" }), httpsched.AllowReconnection(true)),
		transport.CloseIdleConnections
}

// subscribeOnce runs one subscription until its stream ends.
func (s *Scheduler) subscribeOnce(ctx context.Context) error {
	base := s.leaderHintValue()
	if base == "" {
		var err error
		base, err = masterResolver{raw: s.cfg.Master, log: s.log}.resolve(ctx)
		if err != nil {
			return fmt.Errorf("find master: %w", err)
		}
	}
	s.mu.Lock()
	s.leaderHint = ""
	s.master = base
	id := s.fwID
	// Subscribe suppressed unless there is demand: a (re)subscription without suppressed_roles
	// un-suppresses the framework, so a failover or a new term would otherwise draw offers it
	// can only decline. The first demand REVIVEs.
	quiet := !s.wantOffersLocked(s.now())
	s.subscribeSuppressed = quiet
	s.mu.Unlock()

	caller, closeIdle := newCaller(s.cfg, base)
	defer closeIdle()
	call := calls.Subscribe(s.frameworkInfo(id))
	if id != "" {
		call = call.With(calls.SubscribeTo(id))
	}
	if quiet {
		call.Subscribe.SuppressedRoles = []string{s.cfg.Role}
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := caller.Call(subCtx, call)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", base, err)
	}
	defer resp.Close()
	sub := &subscription{s: s, caller: caller, endpoint: base, log: s.log.With("master", base)}
	return sub.loop(subCtx, resp)
}

// loop reads the event stream with a heartbeat watchdog until it ends.
func (sub *subscription) loop(ctx context.Context, resp mesos.Response) error {
	s := sub.s
	bound := 30 * time.Second // until SUBSCRIBED tells the heartbeat interval
	var boundMu sync.Mutex
	last := make(chan struct{}, 1)
	watchDone := make(chan struct{})
	expired := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() { // the watchdog: closes the stream when no event arrives in time
		defer close(watchDone)
		for {
			boundMu.Lock()
			b := bound
			boundMu.Unlock()
			select {
			case <-watchCtx.Done():
				return
			case <-last:
			case <-time.After(b):
				close(expired)
				resp.Close()
				return
			}
		}
	}()
	defer func() { stopWatch(); <-watchDone }()

	driverCtx, stopDriver := context.WithCancel(ctx)
	defer stopDriver()
	var driverWG sync.WaitGroup
	defer driverWG.Wait()
	defer stopDriver()

	ackCtx, stopAcks := context.WithCancel(ctx)
	sub.acks = startAcker(ackCtx, ackWorkers, ackQueue, sub.acknowledge)
	defer sub.acks.wait()
	defer stopAcks()

	for {
		var ev scheduler.Event
		if err := resp.Decode(&ev); err != nil {
			select {
			case <-expired:
				return errHeartbeat
			default:
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("event stream: %w", err)
		}
		select {
		case last <- struct{}{}:
		default:
		}
		s.rec.MesosEvent(ev.GetType().String())
		switch ev.GetType() {
		case scheduler.Event_SUBSCRIBED:
			sb := ev.GetSubscribed()
			if hb := sb.GetHeartbeatIntervalSeconds(); hb > 0 {
				boundMu.Lock()
				bound = time.Duration(hb * float64(s.cfg.HeartbeatMisses) * float64(time.Second))
				boundMu.Unlock()
			}
			if err := sub.subscribed(ctx, sb); err != nil {
				return err
			}
			driverWG.Add(1)
			go func() { defer driverWG.Done(); sub.drive(driverCtx) }()
		case scheduler.Event_OFFERS:
			if err := sub.offersAt(ctx, ev.GetOffers().GetOffers(), s.now()); err != nil {
				return err
			}
		case scheduler.Event_RESCIND:
			s.rec.OfferRescinded()
		case scheduler.Event_UPDATE:
			sub.update(ctx, ev.GetUpdate().GetStatus())
		case scheduler.Event_FAILURE:
			f := ev.GetFailure()
			sub.log.Warn("mesos_failure", "agent", f.GetAgentID().GetValue(), "executor", f.GetExecutorID().GetValue(), "status", f.GetStatus())
		case scheduler.Event_ERROR:
			msg := ev.GetError().GetMessage()
			s.rec.MesosProblem("error_event")
			switch {
			case strings.Contains(msg, "failed over"):
				return fmt.Errorf("%w: %s", ErrFailedOver, msg)
			case strings.Contains(msg, "removed"), strings.Contains(msg, "torn down"):
				return fmt.Errorf("%w: %s", ErrFrameworkRemoved, msg)
			}
			return fmt.Errorf("mesos error event: %s", msg)
		case scheduler.Event_INVERSE_OFFERS:
			sub.declineInverse(ctx, ev.GetInverseOffers().GetInverseOffers())
		case scheduler.Event_HEARTBEAT, scheduler.Event_MESSAGE, scheduler.Event_RESCIND_INVERSE_OFFER, scheduler.Event_UPDATE_OPERATION_STATUS:
		default:
			sub.log.Debug("mesos_event_ignored", "type", ev.GetType().String())
		}
	}
}

// call sends one non-SUBSCRIBE call with the call timeout.
func (sub *subscription) call(ctx context.Context, c *scheduler.Call) error {
	s := sub.s
	s.mu.Lock()
	if s.fwID != "" {
		c.FrameworkID = &mesos.FrameworkID{Value: s.fwID}
	}
	s.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	resp, err := sub.caller.Call(cctx, c)
	if resp != nil {
		resp.Close()
	}
	if err != nil {
		s.rec.MesosProblem("call_" + strings.ToLower(c.GetType().String()))
		return fmt.Errorf("%s: %w", c.GetType(), err)
	}
	return nil
}

// subscribed handles SUBSCRIBED: hand the FrameworkID to the caller, check the master is the
// leader, then reconcile.
func (sub *subscription) subscribed(ctx context.Context, sb *scheduler.Event_Subscribed) error {
	s := sub.s
	id := sb.GetFrameworkID().GetValue()
	s.mu.Lock()
	prev := s.fwID
	s.mu.Unlock()
	if prev != "" && id != prev {
		s.rec.Error("framework", fmt.Errorf("mesos handed back framework id %s, ours is %s", id, prev))
		return fmt.Errorf("%w: mesos handed back framework id %s instead of %s (the old one timed out or was torn down)", ErrFrameworkRemoved, id, prev)
	}
	if s.hooks.OnSubscribed != nil {
		if err := s.hooks.OnSubscribed(ctx, id); err != nil {
			return fmt.Errorf("subscribed: %w", err)
		}
	}
	if mi := sb.GetMasterInfo(); mi != nil {
		if leader := masterAddress(mi); leader != "" && !sameHostPort(leader, sub.endpoint) {
			s.mu.Lock()
			s.fwID = id
			s.leaderHint = leader
			s.mu.Unlock()
			return fmt.Errorf("%w: leader is %s", errLeaderMoved, leader)
		}
	}
	now := s.now()
	s.mu.Lock()
	s.fwID = id
	s.subscribed = true
	s.suppressed = s.subscribeSuppressed // what the SUBSCRIBE asked for
	s.reconciling = s.ledger.liveAgents()
	pending := len(s.reconciling)
	// The barrier is a task nobody has: the master answers calls in the order they come, so
	// its answer (TASK_LOST) to the explicit RECONCILE arrives after every answer to the
	// implicit one sent before. Ready waits for it, so tasks of ours the ledger does not know
	// (a replica without the last checkpoint) are adopted before the controller decides.
	s.reconSeq++
	s.reconciling[fmt.Sprintf("relay-reconcile-barrier-%d", s.reconSeq)] = ""
	s.reconStart = now
	s.lastImplied = now
	s.mu.Unlock()
	s.rec.Subscribed(id)
	sub.log.Info("subscribed", "framework_id", id, "live_tasks", pending)

	// Reconcile: implicit for every task of ours, then explicit for the ledger's and the barrier.
	if err := sub.call(ctx, calls.Reconcile()); err != nil {
		sub.log.Warn("reconcile_failed", "error", err)
	}
	if err := sub.call(ctx, calls.Reconcile(calls.ReconcileTasks(s.reconcilingCopy()))); err != nil {
		sub.log.Warn("reconcile_failed", "error", err)
	}
	return nil
}

func (s *Scheduler) reconcilingCopy() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.reconciling))
	for id, a := range s.reconciling {
		out[id] = a
	}
	return out
}

func (s *Scheduler) markReady() {
	s.readyOnce.Do(func() {
		s.log.Info("reconciled", "live_tasks", s.ledger.Live())
		close(s.ready)
	})
}

// masterAddress is http://host:port of a MasterInfo.
func masterAddress(mi *mesos.MasterInfo) string {
	if a := mi.GetAddress(); a != nil && a.GetPort() != 0 {
		host := a.GetIP()
		if host == "" {
			host = a.GetHostname()
		}
		if host != "" {
			return "http://" + net.JoinHostPort(host, strconv.Itoa(int(a.GetPort()))) + ""
		}
	}
	return ""
}

// sameHostPort compares the host:port of two base URLs, treating localhost and 127.0.0.1 alike.
func sameHostPort(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		h, p, err := net.SplitHostPort(u.Host)
		if err != nil {
			return u.Host
		}
		if h == "localhost" {
			h = "127.0.0.1"
		}
		return h + ":" + p
	}
	na, nb := norm(a), norm(b)
	if na == nb {
		return true
	}
	// A hostname vs an IP of the same port cannot be compared without DNS: resolve.
	ha, pa, _ := net.SplitHostPort(na)
	hb, pb, _ := net.SplitHostPort(nb)
	if pa != pb {
		return false
	}
	ia, _ := net.LookupHost(ha)
	ib, _ := net.LookupHost(hb)
	for _, x := range ia {
		for _, y := range ib {
			if x == y {
				return true
			}
		}
	}
	return false
}

// offers places as many units as are demanded and fit, one ACCEPT per agent, and declines
// the rest.
func (sub *subscription) offers(ctx context.Context, offers []mesos.Offer) error {
	return sub.offersAt(ctx, offers, sub.s.now())
}

// offersAt is offers for an OFFERS event decoded at arrived. The offer-to-ACCEPT latency it
// records runs from arrived to the moment the ACCEPT request was written to the connection
// (to the answer, when there is no HTTP connection to trace), and counts only ACCEPTs the
// master took.
func (sub *subscription) offersAt(ctx context.Context, offers []mesos.Offer, arrived time.Time) error {
	s := sub.s
	s.rec.OffersReceived(len(offers))

	type placement struct {
		offers []mesos.OfferID
		agent  mesos.AgentID
		tasks  []TaskRecord
		infos  []mesos.TaskInfo
	}
	byAgent := map[string]*placement{}
	var agents []string
	var decline []mesos.OfferID
	var all []TaskRecord

	s.mu.Lock()
	launchable := s.halted == "" && isClosed(s.ready)
	gen := s.gen
	want := [2]int{s.demand[0], s.demand[1]}
	if s.cfg.CoolerKill {
		want[1] = 0
	}
	// A kind in launch backoff keeps its demand (Withdraw reports it ungranted) unlaunched;
	// once the delay has passed, one task of it is launched, and the next waits the delay
	// again, until a task of the kind shows that it works.
	var held [2]int
	var paced [2]bool
	var delay [2]time.Duration
	for k := range want {
		d, until := s.ledger.Backoff(loop.Kind(k))
		delay[k] = d
		switch {
		case arrived.Before(until):
			held[k], want[k] = want[k], 0
		case d > 0 && want[k] > 1:
			held[k], want[k] = want[k]-1, 1
		}
		paced[k] = d > 0 && want[k] > 0
	}
	for i := range offers {
		o := &offers[i]
		if !launchable || want[0]+want[1] == 0 || !matches(o, s.cfg.Constraints) {
			decline = append(decline, o.GetID())
			continue
		}
		pool := newOfferPool(o, s.cfg.Role)
		agent := o.AgentID.Value
		var recs []TaskRecord
		var infos []mesos.TaskInfo
		for want[0]+want[1] > 0 && pool.fits(s.cfg.Task) >= 1 {
			// Alternate kinds so both get a share of scarce offers.
			k := loop.Warmer
			if want[0] == 0 || (want[1] > 0 && want[1] > want[0]) {
				k = loop.Cooler
			}
			want[k]--
			rec := s.ledger.addIntents(k, 1, agent, s.cfg.Term, arrived)[0]
			recs = append(recs, rec)
			infos = append(infos, s.taskInfo(rec, o.GetAgentID(), pool.take(s.cfg.Task)))
		}
		if len(recs) == 0 {
			decline = append(decline, o.GetID())
			continue
		}
		p := byAgent[agent]
		if p == nil {
			p = &placement{agent: o.GetAgentID()}
			byAgent[agent] = p
			agents = append(agents, agent)
		}
		p.offers = append(p.offers, o.GetID())
		p.tasks = append(p.tasks, recs...)
		p.infos = append(p.infos, infos...)
		all = append(all, recs...)
	}
	// The demand is spent now (under the lock), so a Withdraw from here on sees these units as
	// pending, never as ungranted.
	if !s.cfg.CoolerKill {
		s.demand[1] = want[1] + held[1]
	}
	s.demand[0] = want[0] + held[0]
	for k, p := range paced {
		if p && want[k] == 0 {
			s.ledger.setBackoff(loop.Kind(k), delay[k], arrived.Add(delay[k]))
		}
	}
	s.mu.Unlock()

	var err error
	if len(all) > 0 && s.hooks.BeforeLaunch != nil {
		if err = s.hooks.BeforeLaunch(ctx, all); err != nil {
			// Nothing was launched: forget the intents, decline the offers.
			ids := make([]string, len(all))
			for i, r := range all {
				ids[i] = r.ID
			}
			s.ledger.drop(ids)
			for _, a := range agents {
				decline = append(decline, byAgent[a].offers...)
			}
			agents = nil
			s.giveBack(gen, countKind(all, loop.Warmer), countKind(all, loop.Cooler))
			sub.log.Warn("launch_cancelled", "tasks", len(all), "error", err)
		}
	}
	for _, a := range agents {
		p := byAgent[a]
		ids := make([]string, len(p.tasks))
		for i, r := range p.tasks {
			ids[i] = r.ID
		}
		s.ledger.setState(ids, StateIntent, StateStaging, s.now())
		s.mu.Lock()
		for _, id := range ids {
			s.inflight[id] = gen
		}
		s.mu.Unlock()
		acc := calls.Accept(calls.OfferOperations{calls.OpLaunch(p.infos...)}.WithOffers(p.offers...)).
			With(calls.RefuseSeconds(s.cfg.RefuseSeconds))
		// The unused part of the offer is filtered for RefuseSeconds from when the master takes
		// the ACCEPT: on a single agent that is the whole rest of the cluster, so the next
		// demand must REVIVE first (also a demand that comes while the ACCEPT is on its way).
		s.noteFilter(false)
		var sentMu sync.Mutex
		var sent time.Time
		traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
			sentMu.Lock()
			if sent.IsZero() {
				sent = s.now()
			}
			sentMu.Unlock()
		}})
		if cerr := sub.call(traced, acc); cerr != nil {
			var refused *apierrors.Error
			if errors.As(cerr, &refused) {
				// The master answered with an error status: nothing was queued, nothing
				// launched. The units go back to the demand, the offers are declined (an
				// unanswered offer stays allocated to us).
				s.mu.Lock()
				for _, id := range ids {
					delete(s.inflight, id)
				}
				s.mu.Unlock()
				s.ledger.drop(ids)
				s.giveBack(gen, countKind(p.tasks, loop.Warmer), countKind(p.tasks, loop.Cooler))
				decline = append(decline, p.offers...)
				sub.log.Warn("accept_refused", "agent", a, "tasks", len(ids), "error", cerr)
				continue
			}
			// No answer: the launch may or may not have reached the master; the launch
			// timeout reconciles.
			sub.log.Warn("accept_failed", "agent", a, "tasks", len(ids), "error", cerr)
			continue
		}
		s.noteFilter(true)
		s.rec.OffersUsed(len(p.offers))
		sentMu.Lock()
		if sent.IsZero() {
			sent = s.now()
		}
		s.rec.OfferToAccept(sent.Sub(arrived).Seconds())
		sentMu.Unlock()
		for _, r := range p.tasks {
			s.rec.TaskLaunched(r.Kind.String())
		}
		sub.log.Info("launched", "agent", a, "warmers", countKind(p.tasks, loop.Warmer), "coolers", countKind(p.tasks, loop.Cooler))
	}
	if len(decline) > 0 {
		refuse := s.cfg.RefuseSeconds
		s.mu.Lock()
		idle := s.demand[0]+s.demand[1] == 0
		s.mu.Unlock()
		if idle {
			refuse = max(refuse, 60*time.Second)
			s.noteFilter(false)
		}
		if cerr := sub.call(ctx, calls.Decline(decline...).With(calls.RefuseSeconds(refuse))); cerr != nil {
			sub.log.Warn("decline_failed", "offers", len(decline), "error", cerr)
		} else {
			s.rec.OffersDeclined(len(decline))
		}
		if idle {
			s.noteFilter(true)
		}
	}
	if err != nil && errors.Is(err, ErrStepDown) {
		return err
	}
	return nil
}

// giveBack returns units that were taken from the demand but not launched (BeforeLaunch
// refused them, or Mesos found the offer invalid) to the demand, if it is still the demand
// they were taken from; a Withdraw since then has already counted them as pending.
func (s *Scheduler) giveBack(gen uint64, warmers, coolers int) {
	s.mu.Lock()
	back := s.gen == gen
	if back {
		s.demand[0] += warmers
		s.demand[1] += coolers
	}
	s.mu.Unlock()
	if back {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func countKind(rs []TaskRecord, k loop.Kind) int {
	n := 0
	for _, r := range rs {
		if r.Kind == k {
			n++
		}
	}
	return n
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// terminal task states and which of them count as a failure of the task itself.
var terminalStates = map[mesos.TaskState]bool{
	mesos.TASK_FINISHED: false, mesos.TASK_FAILED: true, mesos.TASK_KILLED: false, mesos.TASK_ERROR: true,
	mesos.TASK_LOST: true, mesos.TASK_DROPPED: true, mesos.TASK_GONE: true, mesos.TASK_GONE_BY_OPERATOR: true,
	mesos.TASK_UNKNOWN: true,
}

func ledgerState(st mesos.TaskState) string {
	switch st {
	case mesos.TASK_STAGING:
		return StateStaging
	case mesos.TASK_STARTING:
		return StateStarting
	case mesos.TASK_RUNNING:
		return StateRunning
	case mesos.TASK_KILLING:
		return StateKilling
	}
	return strings.ToLower(strings.TrimPrefix(st.String(), "TASK_"))
}

// update applies a status update to the ledger and acknowledges it when it carries a uuid.
func (sub *subscription) update(ctx context.Context, st mesos.TaskStatus) {
	s := sub.s
	id := st.TaskID.Value
	state := st.GetState()
	failure, terminal := terminalStates[state]
	if state == mesos.TASK_UNREACHABLE {
		terminal = false
	}
	agent := st.GetAgentID().GetValue()
	res := s.ledger.update(id, ledgerState(state), agent, terminal, s.now(), s.cfg.Term)
	s.mu.Lock()
	gen, wasInflight := s.inflight[id]
	delete(s.inflight, id)
	s.mu.Unlock()
	switch {
	case res.Ended:
		kind := res.Kind.String()
		s.rec.TaskEnded(kind, state.String())
		// Outcomes that say nothing about whether tasks work leave the failure streak alone:
		// our own kills, reconciliation answers (an intent Mesos never saw, a task that ended
		// while we were away), and launches on offers that were gone (the unit goes back to
		// the demand: it was never launched).
		neutral := false
		switch reason := st.GetReason(); {
		case res.Killed && state == mesos.TASK_KILLED, reason == mesos.REASON_RECONCILIATION:
			neutral = true
		case reason == mesos.REASON_INVALID_OFFERS:
			neutral = true
			if wasInflight {
				w, c := 1, 0
				if res.Kind == loop.Cooler {
					w, c = 0, 1
				}
				s.giveBack(gen, w, c)
			}
		}
		streak := s.ledger.Failures()
		if !neutral {
			streak = s.ledger.noteOutcome(failure)
		}
		s.noteBackoff(sub.log, res.Kind, id, state, st.GetReason(), res.Killed)
		lvl := hclog.Debug
		if failure {
			lvl = hclog.Warn
		}
		if neutral {
			lvl = hclog.Debug
		}
		sub.log.Log(lvl, "task_ended", "task", id, "state", state.String(), "reason", st.GetReason().String(), "message", st.GetMessage(), "failure_streak", streak)
		if failure && !neutral && s.cfg.MaxFailures > 0 && streak >= s.cfg.MaxFailures {
			s.halt(fmt.Sprintf("%d tasks failed in a row (--max-failures %d); last: %s %s", streak, s.cfg.MaxFailures, state, st.GetMessage()))
		}
	case res.Adopted:
		sub.log.Info("task_adopted", "task", id, "state", state.String())
	case !res.Known && !res.Ours && !terminal:
		// Not a task this framework makes: nothing in the ledger can account for it.
		sub.log.Warn("unknown_task_killed", "task", id)
		if err := sub.call(ctx, calls.Kill(id, agent)); err != nil {
			sub.log.Warn("kill_failed", "task", id, "error", err)
		}
	}
	s.mu.Lock()
	if s.reconciling != nil {
		delete(s.reconciling, id)
		if len(s.reconciling) == 0 {
			s.reconciling = nil
			s.mu.Unlock()
			s.markReady()
			s.mu.Lock()
		}
	}
	s.mu.Unlock()
	if uuid := st.GetUUID(); len(uuid) > 0 {
		a := ack{agent: agent, task: id, uuid: uuid}
		if sub.acks == nil {
			sub.acknowledge(ctx, a)
		} else {
			sub.acks.enqueue(ctx, a)
		}
	}
}

// acknowledge sends one ACKNOWLEDGE. A failure is logged and counted (as a call problem);
// the master resends the update, and it is acknowledged then.
func (sub *subscription) acknowledge(ctx context.Context, a ack) {
	if err := sub.call(ctx, calls.Acknowledge(a.agent, a.task, a.uuid)); err != nil && ctx.Err() == nil {
		sub.log.Warn("acknowledge_failed", "task", a.task, "error", err)
	}
}

// taskBroken reports whether a task's end says its own command or container is at fault,
// rather than its agent, the master or this framework.
func taskBroken(state mesos.TaskState, reason mesos.TaskStatus_Reason) bool {
	if state != mesos.TASK_FAILED && state != mesos.TASK_ERROR {
		return false
	}
	switch reason {
	case mesos.REASON_AGENT_DISCONNECTED, mesos.REASON_AGENT_DRAINING, mesos.REASON_AGENT_REMOVED,
		mesos.REASON_AGENT_REMOVED_BY_OPERATOR, mesos.REASON_AGENT_REREGISTERED, mesos.REASON_AGENT_RESTARTED,
		mesos.REASON_AGENT_UNKNOWN, mesos.REASON_MASTER_DISCONNECTED, mesos.REASON_CONTAINER_PREEMPTED,
		mesos.REASON_EXECUTOR_REREGISTRATION_TIMEOUT, mesos.REASON_FRAMEWORK_REMOVED,
		mesos.REASON_INVALID_FRAMEWORKID, mesos.REASON_INVALID_OFFERS, mesos.REASON_RECONCILIATION,
		mesos.REASON_RESOURCES_UNKNOWN, mesos.REASON_TASK_KILLED_DURING_LAUNCH:
		return false
	}
	return true
}

// noteBackoff updates a kind's launch backoff from the end of one of its tasks: a broken task
// starts or doubles it, a task that finished (or ran until we killed it) clears it, and so
// does one that has been running as long as the delay (see clearBackoffOfRunning).
func (s *Scheduler) noteBackoff(log hclog.Logger, k loop.Kind, id string, state mesos.TaskState, reason mesos.TaskStatus_Reason, killed bool) {
	now := s.now()
	s.mu.Lock()
	switch {
	case taskBroken(state, reason):
		d := s.cfg.LaunchBackoff
		if prev, _ := s.ledger.Backoff(k); prev > 0 {
			d = min(2*prev, s.cfg.LaunchBackoffMax)
		}
		s.ledger.setBackoff(k, d, now.Add(d))
		s.mu.Unlock()
		s.rec.LaunchBackoff(k.String(), d.Seconds())
		log.Warn("launch_backoff", "kind", k.String(), "task", id, "delay", d)
		return
	case state == mesos.TASK_FINISHED || (killed && state == mesos.TASK_KILLED):
		if prev, _ := s.ledger.Backoff(k); prev > 0 {
			s.ledger.setBackoff(k, 0, time.Time{})
			s.mu.Unlock()
			s.rec.LaunchBackoff(k.String(), 0)
			log.Info("launch_backoff_cleared", "kind", k.String(), "task", id)
			return
		}
	}
	s.mu.Unlock()
}

// clearBackoffOfRunning clears the launch backoff of a kind with a task that has been running
// for as long as the kind's delay: the command works (long-running tasks may never finish).
// The ledger's lock is taken under s.mu, as Withdraw does.
func (s *Scheduler) clearBackoffOfRunning(log hclog.Logger, now time.Time) {
	for _, k := range []loop.Kind{loop.Warmer, loop.Cooler} {
		s.mu.Lock()
		d, _ := s.ledger.Backoff(k)
		cleared := d > 0 && s.ledger.runningSince(k, now.Add(-d))
		if cleared {
			s.ledger.setBackoff(k, 0, time.Time{})
		}
		s.mu.Unlock()
		if cleared {
			s.rec.LaunchBackoff(k.String(), 0)
			log.Info("launch_backoff_cleared", "kind", k.String(), "running_for_at_least", d)
		}
	}
}

// halt stops launching (max failures), visibly.
func (s *Scheduler) halt(why string) {
	s.mu.Lock()
	first := s.halted == ""
	s.halted = why
	s.mu.Unlock()
	if first {
		s.log.Error("launching_halted", "reason", why)
		s.rec.Error("framework", errors.New("launching halted: "+why))
	}
}

func (sub *subscription) declineInverse(ctx context.Context, ios []mesos.InverseOffer) {
	var ids []mesos.OfferID
	for _, io := range ios {
		ids = append(ids, io.OfferID)
	}
	if len(ids) > 0 {
		if err := sub.call(ctx, calls.DeclineInverseOffers(ids...)); err != nil {
			sub.log.Warn("decline_inverse_failed", "error", err)
		}
	}
}

// wantOffersLocked reports whether there is demand that needs offers (s.mu held): warmers, or
// coolers that run a command (kills need none).
func (s *Scheduler) wantOffersLocked(now time.Time) bool {
	_, warmerUntil := s.ledger.Backoff(loop.Warmer)
	_, coolerUntil := s.ledger.Backoff(loop.Cooler)
	return s.halted == "" && ((s.demand[0] > 0 && !now.Before(warmerUntil)) ||
		(s.demand[1] > 0 && !s.cfg.CoolerKill && !now.Before(coolerUntil)))
}

// drive runs beside the event loop of one subscription: it revives and suppresses offers as
// demand comes and goes, sends kills, finishes reconciliation, and reconciles stale tasks.
func (sub *subscription) drive(ctx context.Context) {
	s := sub.s
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	reconBackoff := time.Second
	nextRecon := s.now().Add(reconBackoff)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-tick.C:
		}
		now := s.now()

		// 1. Offers wanted?
		s.clearBackoffOfRunning(sub.log, now)
		s.mu.Lock()
		want := s.wantOffersLocked(now)
		if want {
			s.idleSince = time.Time{}
		} else if s.idleSince.IsZero() {
			s.idleSince = now
		}
		revive := want && (s.suppressed || s.filtered)
		filterSeq := s.filterSeq
		suppress := !want && !s.suppressed && now.Sub(s.idleSince) > 3*time.Second
		// Kills (--cooler kill) are picked under the lock with the demand they spend, so that a
		// Withdraw sees them either as demand or as pending coolers, never both or neither.
		var picked []TaskRecord
		gen := s.gen
		if s.cfg.CoolerKill && s.demand[1] > 0 && isClosed(s.ready) {
			picked = s.ledger.pickKills(s.demand[1], now)
			// What found nothing to kill stays demanded (Withdraw reports it Ungranted) and is
			// tried again as warmers start running.
			s.demand[1] -= len(picked)
		}
		s.mu.Unlock()
		switch {
		case revive:
			if err := sub.call(ctx, calls.Revive()); err == nil {
				s.revived(filterSeq)
				sub.log.Debug("revived")
			}
		case suppress:
			if err := sub.call(ctx, calls.Suppress()); err == nil {
				s.mu.Lock()
				s.suppressed = true
				s.mu.Unlock()
				sub.log.Debug("suppressed")
			}
		}

		// 2. Kills (--cooler kill): the newest running warmers.
		if len(picked) > 0 {
			for _, t := range picked {
				if err := sub.call(ctx, calls.Kill(t.ID, t.Agent)); err != nil {
					// Not killed: a running warmer again, and the kill back in the demand.
					sub.log.Warn("kill_failed", "task", t.ID, "error", err)
					s.mu.Lock()
					s.ledger.setKill(t.ID, false)
					if s.gen == gen {
						s.demand[1]++
					}
					s.mu.Unlock()
					continue
				}
				s.rec.TaskKillSent(t.Kind.String())
			}
		}

		// 3. The first reconciliation: ready after the wait even without every answer; go on
		// asking for the rest with backoff.
		s.mu.Lock()
		var rest map[string]string
		if s.reconciling != nil {
			if now.Sub(s.reconStart) >= s.cfg.ReconcileWait {
				s.mu.Unlock()
				s.markReady()
				s.mu.Lock()
			}
			if !now.Before(nextRecon) {
				rest = make(map[string]string, len(s.reconciling))
				for id, a := range s.reconciling {
					rest[id] = a
				}
				nextRecon = now.Add(reconBackoff)
				reconBackoff = min(reconBackoff*2, 60*time.Second)
			}
		}
		doStale := now.Sub(s.lastStale) >= s.cfg.LaunchTimeout/2
		doImplicit := now.Sub(s.lastImplied) >= s.cfg.ReconcileInterval
		if doStale {
			s.lastStale = now
		}
		if doImplicit {
			s.lastImplied = now
		}
		s.mu.Unlock()
		if len(rest) > 0 {
			_ = sub.call(ctx, calls.Reconcile(calls.ReconcileTasks(rest)))
		}
		// 4. Launch timeout: tasks with no word from Mesos for too long are asked about.
		if doStale {
			if stale := s.ledger.stale(now.Add(-s.cfg.LaunchTimeout)); len(stale) > 0 {
				sub.log.Info("reconciling_stale_tasks", "tasks", len(stale))
				_ = sub.call(ctx, calls.Reconcile(calls.ReconcileTasks(stale)))
			}
		}
		if doImplicit {
			_ = sub.call(ctx, calls.Reconcile())
		}
	}
}

// noteFilter records a call that installs a refuse filter, when it is sent and again when it
// is answered. If a REVIVE cleared the flag in between while demand waits, the driver is
// kicked to REVIVE again at once rather than at its next tick.
func (s *Scheduler) noteFilter(answered bool) {
	s.mu.Lock()
	raced := answered && !s.filtered && s.demand[0]+s.demand[1] > 0
	s.filtered = true
	s.filterSeq++
	s.mu.Unlock()
	if raced {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// revived records a REVIVE the master took: offers are unsuppressed, and the refuse filters
// are gone unless a call installing one was sent or answered since filterSeq was read.
func (s *Scheduler) revived(filterSeq uint64) {
	s.mu.Lock()
	s.suppressed = false
	if s.filterSeq == filterSeq {
		s.filtered = false
	}
	s.mu.Unlock()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
