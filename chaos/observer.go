package chaos

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/state"
)

// Sample is the cluster as seen at one moment: the true metric, the target and who decides.
type Sample struct {
	At     time.Time
	Size   float64
	Target float64
	// Leader is the index of the replica that leads and decides (-1: none).
	Leader int
	Term   int64
	// Leaders counts replicas that say they lead (more than one is not by itself a violation:
	// a paused old leader may not know yet; acting is what the checks look at).
	Leaders int
}

// CtrlSeen is a leader's /status controller terms at one moment.
type CtrlSeen struct {
	At    time.Time
	Terms map[string]float64
	// FromToken: the token of the checkpoint the term restored, as the replica says (0: not
	// known); Terms are then exactly what it restored.
	FromToken int64
	WrittenAt time.Time
}

// TermInfo is what the observer learned about one leadership term.
type TermInfo struct {
	Term    int64
	Replica int
	// Start is the earliest evidence that the term had begun: the replica's own event, its
	// first launch or its first checkpoint.
	Start time.Time
	// Deciding is when the harness first saw it lead and decide.
	Deciding time.Time
	// First and Last controller terms seen while it led (First: the first seen at least
	// two ticks after Deciding).
	First, Last *CtrlSeen
}

// LaunchSeen is one launch from the master's launches log.
type LaunchSeen struct {
	TaskID       string
	FrameworkID  string
	Subscription int
	At           time.Time
	Term         int64
}

// CheckpointSeen is one checkpoint version read from ZooKeeper.
type CheckpointSeen struct {
	// Terms are the controller terms the checkpoint holds (nil if it could not be decoded).
	Terms     map[string]float64
	Token     int64
	WrittenAt time.Time
	SeenAt    time.Time
}

// Observer polls the replicas, the master, the plant and the checkpoint node, and keeps
// everything the checks and the report need.
type Observer struct {
	c        *Cluster
	interval time.Duration

	mu           sync.Mutex
	latest       []*polled
	samples      []Sample
	terms        map[int64]*TermInfo
	launches     map[string]LaunchSeen
	dupLaunches  []string
	tasks        map[string]MasterTask
	frameworkIDs map[string]time.Time
	checkpoints  []CheckpointSeen
	storedFwIDs  map[string]bool
	pollErrs     int
}

type polled struct {
	at time.Time
	st *ReplicaStatus
}

// NewObserver returns an observer of c sampling every interval (default 50ms).
func NewObserver(c *Cluster, interval time.Duration) *Observer {
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	return &Observer{c: c, interval: interval, latest: make([]*polled, len(c.Replicas)),
		terms: map[int64]*TermInfo{}, launches: map[string]LaunchSeen{}, tasks: map[string]MasterTask{},
		frameworkIDs: map[string]time.Time{}, storedFwIDs: map[string]bool{}}
}

// Run observes until ctx is done.
func (o *Observer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range o.c.Replicas {
		wg.Add(1)
		go func() { defer wg.Done(); o.pollReplica(ctx, i) }()
	}
	wg.Add(3)
	go func() { defer wg.Done(); o.sample(ctx) }()
	go func() { defer wg.Done(); o.pollMaster(ctx) }()
	go func() { defer wg.Done(); o.pollCheckpoints(ctx) }()
	wg.Wait()
	return nil
}

func (o *Observer) pollReplica(ctx context.Context, i int) {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := o.c.Status(pctx, i)
		cancel()
		now := time.Now()
		if err == nil {
			o.noteStatus(i, now, st)
		}
		select {
		case <-ctx.Done():
		case <-time.After(o.interval / 2):
		}
	}
}

func (o *Observer) noteStatus(i int, now time.Time, st *ReplicaStatus) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.latest[i] = &polled{at: now, st: st}
	if st.FrameworkID != "" {
		if _, ok := o.frameworkIDs[st.FrameworkID]; !ok {
			o.frameworkIDs[st.FrameworkID] = now
		}
	}
	if st.Term == 0 {
		return
	}
	ti := o.termLocked(st.Term)
	ti.Replica = i
	if ti.Start.IsZero() || st.TermAt.Before(ti.Start) {
		ti.Start = st.TermAt
	}
	if !st.Leading() {
		return
	}
	if ti.Deciding.IsZero() {
		ti.Deciding = now
	}
	if len(st.Controller) > 0 {
		seen := &CtrlSeen{At: now, Terms: st.Controller}
		ti.Last = seen
		if r := st.Resumed; ti.First == nil && r != nil && r.Term == st.Term {
			ti.First = &CtrlSeen{At: now, Terms: r.Terms, FromToken: r.FromToken, WrittenAt: r.WrittenAt}
		}
		if ti.First == nil && st.Resumed == nil && now.Sub(ti.Deciding) >= time.Duration(1.2*o.c.Cfg.Delay*float64(time.Second)) {
			ti.First = seen
		}
	}
}

func (o *Observer) termLocked(t int64) *TermInfo {
	ti := o.terms[t]
	if ti == nil {
		ti = &TermInfo{Term: t, Replica: -1}
		o.terms[t] = ti
	}
	return ti
}

func (o *Observer) sample(ctx context.Context) {
	t := time.NewTicker(o.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		size, err := o.c.PlantSize(pctx)
		cancel()
		now := time.Now()
		o.mu.Lock()
		if err != nil {
			o.pollErrs++
			o.mu.Unlock()
			continue
		}
		s := Sample{At: now, Size: size, Target: o.c.Cfg.Target, Leader: -1}
		for i, p := range o.latest {
			if p == nil || now.Sub(p.at) > 4*o.interval+200*time.Millisecond {
				continue // stale: the replica is not answering (killed or paused)
			}
			if p.st.Role == "leader" {
				s.Leaders++
			}
			if p.st.Leading() && p.st.Term >= s.Term {
				s.Leader, s.Term = i, p.st.Term
			}
		}
		o.samples = append(o.samples, s)
		o.mu.Unlock()
	}
}

func (o *Observer) pollMaster(ctx context.Context) {
	for ctx.Err() == nil {
		o.readMaster(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// readMaster merges one /state into what was seen.
func (o *Observer) readMaster(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	st, err := o.c.MasterState(pctx)
	cancel()
	if err != nil {
		return false
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range st.Frameworks {
		if _, ok := o.frameworkIDs[f.ID]; !ok {
			o.frameworkIDs[f.ID] = now
		}
	}
	inLog := map[string]int{}
	for _, l := range st.Launches {
		inLog[l.TaskID]++
		ls := LaunchSeen{TaskID: l.TaskID, FrameworkID: l.FrameworkID, Subscription: l.Subscription, At: l.At, Term: TaskTerm(l.TaskID)}
		if prev, ok := o.launches[l.TaskID]; ok && (!prev.At.Equal(l.At) || prev.Subscription != l.Subscription) {
			o.dupLaunches = append(o.dupLaunches, l.TaskID)
		}
		o.launches[l.TaskID] = ls
		if ls.Term != 0 {
			ti := o.termLocked(ls.Term)
			if ti.Start.IsZero() || l.At.Before(ti.Start) {
				ti.Start = l.At
			}
		}
	}
	for id, n := range inLog {
		if n > 1 {
			o.dupLaunches = append(o.dupLaunches, id)
		}
	}
	for _, t := range append(append([]MasterTask{}, st.Tasks...), st.CompletedTasks...) {
		o.tasks[t.ID] = t
	}
	return true
}

func (o *Observer) pollCheckpoints(ctx context.Context) {
	var servers []string
	for _, z := range o.c.ZK {
		servers = append(servers, z.Addr())
	}
	conn, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		return
	}
	defer conn.Close()
	store := state.NewZK(conn, "/relay-mesos/chaos", nil, nil)
	var last CheckpointSeen
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cp, err := store.Load(pctx)
		id, ferr := store.LoadFrameworkID(pctx)
		cancel()
		now := time.Now()
		o.mu.Lock()
		if err == nil && (cp.Token != last.Token || !cp.WrittenAt.Equal(last.WrittenAt)) {
			last = CheckpointSeen{Token: cp.Token, WrittenAt: cp.WrittenAt, SeenAt: now, Terms: checkpointTerms(cp.Payload, o.c.Cfg.Delay)}
			o.checkpoints = append(o.checkpoints, last)
			ti := o.termLocked(cp.Token)
			if ti.Start.IsZero() || cp.WrittenAt.Before(ti.Start) {
				ti.Start = cp.WrittenAt
			}
		}
		if ferr == nil && id != "" {
			o.storedFwIDs[id] = true
		}
		o.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkpointTerms decodes a checkpoint payload's controller state into its terms.
func checkpointTerms(payload []byte, delay float64) map[string]float64 {
	var p struct {
		Controller json.RawMessage `json:"controller"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return nil
	}
	st, err := loop.UnmarshalState(p.Controller)
	if err != nil {
		return nil
	}
	cfg := loop.DefaultConfig()
	cfg.Delay = time.Duration(delay * float64(time.Second))
	b, err := json.Marshal(loop.TermsOf(&cfg, &st))
	if err != nil {
		return nil
	}
	m := map[string]float64{}
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// Snapshot is a copy of everything observed so far.
type Snapshot struct {
	Samples      []Sample
	Terms        []TermInfo
	Launches     []LaunchSeen
	DupLaunches  []string
	Tasks        map[string]MasterTask
	FrameworkIDs map[string]time.Time
	StoredFwIDs  []string
	Checkpoints  []CheckpointSeen
}

// Snapshot copies what was observed; launches sorted by time, terms by term.
func (o *Observer) Snapshot() Snapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := Snapshot{Samples: append([]Sample{}, o.samples...), DupLaunches: append([]string{}, o.dupLaunches...),
		Tasks: map[string]MasterTask{}, FrameworkIDs: map[string]time.Time{}, Checkpoints: append([]CheckpointSeen{}, o.checkpoints...)}
	for _, t := range o.terms {
		s.Terms = append(s.Terms, *t)
	}
	sort.Slice(s.Terms, func(i, j int) bool { return s.Terms[i].Term < s.Terms[j].Term })
	for _, l := range o.launches {
		s.Launches = append(s.Launches, l)
	}
	sort.Slice(s.Launches, func(i, j int) bool { return s.Launches[i].At.Before(s.Launches[j].At) })
	for k, v := range o.tasks {
		s.Tasks[k] = v
	}
	for k, v := range o.frameworkIDs {
		s.FrameworkIDs[k] = v
	}
	for k := range o.storedFwIDs {
		s.StoredFwIDs = append(s.StoredFwIDs, k)
	}
	return s
}

// Refresh reads the master once more (after things settle), so the snapshot is current.
func (o *Observer) Refresh(ctx context.Context) { o.readMaster(ctx) }

// Latest is replica i's latest status and when it was read (nil if none).
func (o *Observer) Latest(i int) (*ReplicaStatus, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.latest[i]; p != nil {
		return p.st, p.at
	}
	return nil, time.Time{}
}
