package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// History is the body of /api/history.
//
// The leader (or a standalone replica) serves its own ring. A follower serves the leader's:
// it fetches GET <leader>/api/history?local=1 with ServerConfig.ProxyTimeout and answers
// 200 with Source "leader" and From naming the leader. If that fetch fails it answers 502
// with Error, LeaderURL (a link to the leader's dashboard) and its own ring and status. A
// replica that knows no leader, and any request with ?local=1, gets the replica's own data
// (Source "local"). Status is the status of the replica whose data it is.
type History struct {
	// Source is "local" (this replica's ring) or "leader" (fetched from the leader).
	Source string `json:"source"`
	// From is the address the data was fetched from (Source "leader").
	From string `json:"from,omitempty"`
	// Note says in words where the data comes from.
	Note string `json:"note,omitempty"`
	// Error is why the leader's data could not be fetched.
	Error string `json:"error,omitempty"`
	// LeaderURL is the leader's dashboard.
	LeaderURL string `json:"leader_url,omitempty"`
	// ViewedVia is the replica that served the response when it is not the data's source.
	ViewedVia *LeaderInfo `json:"viewed_via,omitempty"`
	Status    Status      `json:"status"`
	Points    []Point     `json:"points"`
}

// maxHistoryBody bounds a proxied response, in bytes.
const maxHistoryBody = 16 << 20

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	st := s.snapshot()
	local := History{Source: "local", Status: st, Points: s.points()}
	if r.URL.Query().Get("local") != "" {
		writeJSON(w, http.StatusOK, local)
		return
	}
	switch {
	case st.Role == RoleLeader || st.Role == RoleStandalone:
		local.Note = "this replica is the leader"
	case st.Leader == nil || st.Leader.Address == "":
		local.Note = "no leader known: this replica's own history"
	case st.Leader.Address == st.Address:
		local.Note = "the leader's address is this replica's: its own history"
	default:
		base := baseURL(st.Leader.Address)
		h, err := s.fetchHistory(r.Context(), base)
		if err != nil {
			s.log.Debug("history_proxy_failed", "leader", st.Leader.Address, "error", err)
			local.Error = fmt.Sprintf("cannot fetch the leader's history from %s: %v", st.Leader.Address, err)
			local.LeaderURL = base + "/"
			local.Note = "this replica's own history (the leader could not be reached)"
			writeJSON(w, http.StatusBadGateway, local)
			return
		}
		h.Source, h.From, h.LeaderURL = "leader", st.Leader.Address, base+"/"
		h.Note = fmt.Sprintf("the leader's history, fetched from %s by follower %s", st.Leader.Address, st.ID)
		h.ViewedVia = &LeaderInfo{ID: st.ID, Address: st.Address}
		writeJSON(w, http.StatusOK, h)
		return
	}
	writeJSON(w, http.StatusOK, local)
}

func (s *Server) points() []Point {
	if s.m == nil {
		return []Point{}
	}
	return s.m.History()
}

// fetchHistory gets the leader's own history, bounded by the proxy timeout.
func (s *Server) fetchHistory(ctx context.Context, base string) (*History, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProxyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/history?local=1", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var h History
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxHistoryBody)).Decode(&h); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if h.Points == nil {
		h.Points = []Point{}
	}
	return &h, nil
}

// baseURL turns an advertised address (host:port or a URL) into a URL without a trailing
// slash.
func baseURL(addr string) string {
	addr = strings.TrimRight(addr, "/")
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return addr
	}
	return "http://" + addr
}
