package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relay-mesos/relay-mesos/metrics/dashtest"
)

// leaderWithTicks builds a leader replica fed with n real ticks, a run of source misses and
// a starvation, like a session an operator would look at.
func leaderWithTicks(t *testing.T, n int, misses, starved map[int]bool) *replica {
	t.Helper()
	r := newReplica(t, Status{
		Role: RoleLeader, ID: "replica-a", FrameworkID: "5f1c2a9e-7b1d-4c55-9d1e-3f0a8c2b6d41-0000",
		Mesos:  MesosStatus{Master: "127.0.0.1:5050", Subscribed: true, Deciding: true},
		Ledger: LedgerSummary{Warmer: TaskCounts{Running: 9, Pending: 1}, Cooler: TaskCounts{Running: 2}},
	})
	r.status.set(func(s *Status) { s.Leader = &LeaderInfo{ID: "replica-a", Address: s.Address, Token: 7} })
	start := time.Now().Add(-time.Duration(n) * time.Second)
	r.clock.Set(start.Add(-20 * time.Second))
	r.m.ZKSession(ZKConnected)
	r.m.LeaderSeen("replica-a", 7)
	r.m.LeadershipAcquired(7, true)
	r.m.Subscribed("5f1c2a9e-7b1d-4c55-9d1e-3f0a8c2b6d41-0000")
	r.m.CheckpointFailed(20*time.Millisecond, "zookeeper")
	r.m.CheckpointDone(5*time.Millisecond, 2048)
	r.m.Error("source", errors.New(`metric command "queue-len" exited 1`))
	feedTicks(r.m, start, n, misses, starved)
	r.clock.Set(start.Add(time.Duration(n) * time.Second))
	return r
}

func runs(from, to int) map[int]bool {
	m := map[int]bool{}
	for i := from; i < to; i++ {
		m[i] = true
	}
	return m
}

func TestDashboardRendersTicksWithGaps(t *testing.T) {
	if testing.Short() {
		t.Skip("renders the page in Chromium")
	}
	dashtest.Require(t)
	const n = 240
	leader := leaderWithTicks(t, n, runs(80, 86), runs(120, 138))

	res := dashtest.Inspect(t, leader.http.URL+"/", dashtest.Options{MinPoints: n - 6})
	t.Logf("leader page: %+v", res)
	if res.Points != n-6 {
		t.Errorf("plotted %d metric points, want %d (every tick but the 6 misses)", res.Points, n-6)
	}
	if res.Gaps != 1 {
		t.Errorf("the metric line has %d gaps, want 1 (the run of misses)", res.Gaps)
	}
	if res.TargetPoints != n {
		t.Errorf("plotted %d target points, want %d", res.TargetPoints, n)
	}
	if res.Bars == 0 {
		t.Error("no launch bars in the tasks chart")
	}
	if res.Role != RoleLeader {
		t.Errorf("role badge %q, want %q", res.Role, RoleLeader)
	}
	if res.Banner != "" {
		t.Errorf("leader page shows an alert: %q", res.Banner)
	}

	// The same page on a 1920x1080 screen.
	big := dashtest.Inspect(t, leader.http.URL+"/", dashtest.Options{Width: 1920, Height: 1080, MinPoints: n - 6, Name: "dashboard-1080p.png"})
	if big.Points != res.Points || big.Gaps != 1 {
		t.Errorf("1920x1080: %d points, %d gaps; want the same as at 1366x768", big.Points, big.Gaps)
	}

	// A follower's dashboard shows the leader's data, fetched through its /api/history.
	follower := newReplica(t, Status{Role: RoleFollower, ID: "replica-b"})
	follower.m.ZKSession(ZKConnected)
	follower.status.set(func(s *Status) {
		s.Leader = &LeaderInfo{ID: "replica-a", Address: strings.TrimPrefix(leader.http.URL, "http://"), Token: 7}
	})
	fres := dashtest.Inspect(t, follower.http.URL+"/", dashtest.Options{MinPoints: n - 6, Name: "dashboard-follower.png"})
	t.Logf("follower page: %+v", fres)
	if fres.Points != n-6 || fres.Gaps != 1 {
		t.Errorf("follower page plotted %d points with %d gaps, want the leader's %d with 1", fres.Points, fres.Gaps, n-6)
	}
	if fres.Role != RoleFollower || !strings.Contains(fres.Source, "leader") {
		t.Errorf("follower page: role %q, source %q; want follower showing the leader's data", fres.Role, fres.Source)
	}
}

func TestDashboardFollowerWithUnreachableLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("renders the page in Chromium")
	}
	dashtest.Require(t)
	f := newReplica(t, Status{Role: RoleFollower, ID: "replica-b",
		Leader: &LeaderInfo{ID: "replica-a", Address: "127.0.0.1:1", Token: 3}})
	f.m.ZKSession(ZKConnected)
	// This replica led before: its own ring has points, shown with an alert and a link.
	f.m.LeadershipAcquired(2, false)
	feedTicks(f.m, time.Now().Add(-time.Minute), 30, nil, nil)
	f.m.LeadershipLost("session_lost")
	res := dashtest.Inspect(t, f.http.URL+"/", dashtest.Options{MinPoints: 30, Name: "dashboard-unreachable.png"})
	if !strings.Contains(res.Banner, "cannot fetch the leader's history") || !strings.Contains(res.Banner, "Open the leader's dashboard") {
		t.Errorf("banner %q does not say the leader is unreachable and link to it", res.Banner)
	}
}
