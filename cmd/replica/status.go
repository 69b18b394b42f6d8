package replica

import (
	"encoding/json"
	"fmt"

	"github.com/relay-mesos/relay-mesos/metrics"
)

// LeaderView tells who leads, as this replica last saw it in the election nodes (nil: none
// known). Standalone replicas have none.
type LeaderView func() *metrics.LeaderInfo

// StatusProvider returns the /status provider of this replica. standalone marks a replica
// without ZooKeeper; leader may be nil then.
func (r *Replica) StatusProvider(standalone bool, leader LeaderView) metrics.StatusProvider {
	return metrics.StatusFunc(func() metrics.Status {
		r.mu.Lock()
		defer r.mu.Unlock()
		st := metrics.Status{ID: r.cfg.ID, Address: r.cfg.Address, FrameworkID: r.frameworkID}
		st.Mesos.Master = r.cfg.MasterURL
		if r.sources != nil {
			if b, err := json.Marshal(r.sources.Status()); err == nil {
				st.Sources = b
			}
		}
		if leader != nil {
			st.Leader = leader()
		}
		switch {
		case standalone:
			st.Role = metrics.RoleStandalone
			st.Leader = &metrics.LeaderInfo{ID: r.cfg.ID, Address: r.cfg.Address}
		case r.leading:
			st.Role = metrics.RoleLeader
		case st.Leader != nil:
			st.Role = metrics.RoleFollower
		default:
			st.Role = metrics.RoleCandidate
		}
		if r.leading || standalone {
			if r.sched != nil {
				fs := r.sched.Status()
				st.Mesos.Subscribed = fs.Subscribed
				if fs.Master != "" {
					st.Mesos.Master = fs.Master
				}
				if fs.Halted != "" {
					st.Errors = append(st.Errors, metrics.ErrorNote{Where: "framework", Message: "launching halted: " + fs.Halted})
				}
				for _, kind := range []string{"warmer", "cooler"} {
					if b, ok := fs.Backoff[kind]; ok {
						st.Errors = append(st.Errors, metrics.ErrorNote{Time: b.Until, Where: "framework", Message: fmt.Sprintf(
							"%s tasks failed: launches back off (delay %s, next not before %s)", kind, b.Delay, b.Until.UTC().Format("2006-01-02T15:04:05.000Z07:00"))})
					}
				}
			}
			st.Mesos.Deciding = r.deciding
			if b, err := json.Marshal(r.lastTerms); err == nil {
				st.Controller = b
			}
			st.Resumed = r.resumed
			st.Ledger = metrics.LedgerSummary{Warmer: metricsLedger(r.lastLedger).Warmer, Cooler: metricsLedger(r.lastLedger).Cooler}
		}
		return st
	})
}
