package localmaster

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

var errStopped = errors.New("master is shutting down")

const maxBody = 64 << 20

// Handler serves the scheduler API (/api/v1/scheduler and /master/api/v1/scheduler),
// /state and /master/state, /health, and /admin/ when Config.Admin is set.
func (m *Master) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/scheduler", m.handleScheduler)
	mux.HandleFunc("/master/api/v1/scheduler", m.handleScheduler)
	mux.HandleFunc("/state", m.handleState)
	mux.HandleFunc("/master/state", m.handleState)
	mux.HandleFunc("/state.json", m.handleState)
	mux.HandleFunc("/master/state.json", m.handleState)
	mux.HandleFunc("/health", handleHealth)
	mux.HandleFunc("/master/health", handleHealth)
	if m.cfg.Admin {
		mux.HandleFunc("/admin/resources", m.handleAdminResources)
		mux.HandleFunc("/admin/lose-tasks", m.handleAdminLoseTasks)
		mux.HandleFunc("/admin/drop-streams", m.handleAdminDropStreams)
	}
	return mux
}

func handleHealth(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

func (m *Master) handleState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, m.Snapshot())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeText answers as libprocess does: text/plain, exact body, no trailing newline.
func writeText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// handleScheduler is POST /api/v1/scheduler, checked in the order Mesos' master checks.
func (m *Master) handleScheduler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeText(w, http.StatusMethodNotAllowed, "405 Method Not Allowed. Expecting one of { 'POST' }, but received '"+r.Method+"'.")
		return
	}
	cts, ok := r.Header["Content-Type"]
	if !ok || len(cts) == 0 {
		writeText(w, http.StatusBadRequest, "Expecting 'Content-Type' to be present")
		return
	}
	ct := cts[0]
	if ct != mediaJSON && ct != mediaProtobuf {
		writeText(w, http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of "+mediaJSON+" or "+mediaProtobuf)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeText(w, http.StatusBadRequest, "Failed to read body: "+err.Error())
		return
	}
	var call scheduler.Call
	if ct == mediaProtobuf {
		if err := call.Unmarshal(body); err != nil {
			writeText(w, http.StatusBadRequest, "Failed to parse body into Call protobuf")
			return
		}
	} else {
		if msg := jsonSyntaxError(body); msg != "" {
			writeText(w, http.StatusBadRequest, "Failed to parse body into JSON: "+msg)
			return
		}
		if err := json.Unmarshal(body, &call); err != nil {
			writeText(w, http.StatusBadRequest, "Failed to convert JSON into Call protobuf: "+err.Error())
			return
		}
	}
	if msg := validateCall(&call); msg != "" {
		writeText(w, http.StatusBadRequest, "Failed to validate scheduler::Call: "+msg)
		return
	}
	if call.Type == scheduler.Call_SUBSCRIBE {
		m.handleSubscribe(w, r, &call)
		return
	}
	code, text := m.dispatch(r, &call)
	switch {
	case code == http.StatusAccepted:
		w.WriteHeader(http.StatusAccepted)
	case code == http.StatusOK:
		w.WriteHeader(http.StatusOK)
	default:
		writeText(w, code, text)
	}
}

func (m *Master) handleSubscribe(w http.ResponseWriter, r *http.Request, call *scheduler.Call) {
	// An empty Accept allows everything; JSON is the default, as in Mesos.
	var contentType string
	switch {
	case acceptsMediaType(r.Header.Values("Accept"), mediaJSON):
		contentType = mediaJSON
	case acceptsMediaType(r.Header.Values("Accept"), mediaProtobuf):
		contentType = mediaProtobuf
	default:
		writeText(w, http.StatusNotAcceptable, "Expecting 'Accept' to allow '"+mediaProtobuf+"' or '"+mediaJSON+"'")
		return
	}
	if _, ok := r.Header["Mesos-Stream-Id"]; ok {
		writeText(w, http.StatusBadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
		return
	}
	s, err := m.subscribe(call.Subscribe, contentType)
	if err != nil {
		writeText(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	m.serveStream(w, r, s)
}

// dispatch runs one non-SUBSCRIBE call and returns the HTTP answer.
func (m *Master) dispatch(r *http.Request, call *scheduler.Call) (int, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return http.StatusServiceUnavailable, errStopped.Error()
	}
	fw := m.frameworks[call.FrameworkID.GetValue()]
	if fw == nil {
		return http.StatusBadRequest, "Framework cannot be found"
	}
	if fw.stream == nil {
		return http.StatusForbidden, "Framework is not subscribed"
	}
	ids, ok := r.Header["Mesos-Stream-Id"]
	if !ok || len(ids) == 0 {
		return http.StatusBadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
	}
	if ids[0] != fw.stream.id {
		return http.StatusBadRequest, "The stream ID '" + ids[0] + "' included in this request didn't match the stream ID currently associated with framework ID " + fw.id
	}
	switch call.Type {
	case scheduler.Call_TEARDOWN:
		m.log.Info("framework teardown requested", "framework_id", fw.id)
		m.removeFrameworkLocked(fw)
	case scheduler.Call_ACCEPT:
		m.acceptLocked(fw, call.Accept, fw.stream.id, fw.stream.number)
	case scheduler.Call_DECLINE:
		m.declineLocked(fw, call.Decline)
	case scheduler.Call_REVIVE:
		var roles []string
		if call.Revive != nil {
			roles = call.Revive.Roles
		}
		m.reviveLocked(fw, roles)
	case scheduler.Call_SUPPRESS:
		var roles []string
		if call.Suppress != nil {
			roles = call.Suppress.Roles
		}
		m.suppressLocked(fw, roles)
	case scheduler.Call_KILL:
		m.killCallLocked(fw, call.Kill)
	case scheduler.Call_SHUTDOWN:
		m.shutdownLocked(fw, call.Shutdown)
	case scheduler.Call_ACKNOWLEDGE:
		m.acknowledgeLocked(fw, call.Acknowledge)
	case scheduler.Call_RECONCILE:
		m.reconcileLocked(fw, call.Reconcile)
	case scheduler.Call_UPDATE_FRAMEWORK:
		if err := m.updateFrameworkLocked(fw, call.UpdateFramework); err != nil {
			return http.StatusBadRequest, "Failed to validate UPDATE_FRAMEWORK: " + err.Error()
		}
		return http.StatusOK, ""
	case scheduler.Call_MESSAGE, scheduler.Call_REQUEST, scheduler.Call_ACCEPT_INVERSE_OFFERS,
		scheduler.Call_DECLINE_INVERSE_OFFERS, scheduler.Call_ACKNOWLEDGE_OPERATION_STATUS,
		scheduler.Call_RECONCILE_OPERATIONS:
		// Accepted and dropped: no executors to message, no operations with feedback.
	default:
		return http.StatusNotImplemented, ""
	}
	return http.StatusAccepted, ""
}

// validateCall mirrors validation::scheduler::call::validate.
func validateCall(c *scheduler.Call) string {
	if c.Type == scheduler.Call_SUBSCRIBE {
		if c.Subscribe == nil {
			return "Expecting 'subscribe' to be present"
		}
		if c.Subscribe.FrameworkInfo == nil {
			return "Not initialized: subscribe.framework_info"
		}
		if c.Subscribe.FrameworkInfo.GetID().GetValue() != c.FrameworkID.GetValue() {
			return "'framework_id' differs from 'subscribe.framework_info.id'"
		}
		return ""
	}
	if c.FrameworkID == nil {
		return "Expecting 'framework_id' to be present"
	}
	missing := func(name string, present bool) string {
		if present {
			return ""
		}
		return "Expecting '" + name + "' to be present"
	}
	switch c.Type {
	case scheduler.Call_ACCEPT:
		return missing("accept", c.Accept != nil)
	case scheduler.Call_DECLINE:
		return missing("decline", c.Decline != nil)
	case scheduler.Call_ACCEPT_INVERSE_OFFERS:
		return missing("accept_inverse_offers", c.AcceptInverseOffers != nil)
	case scheduler.Call_DECLINE_INVERSE_OFFERS:
		return missing("decline_inverse_offers", c.DeclineInverseOffers != nil)
	case scheduler.Call_KILL:
		return missing("kill", c.Kill != nil)
	case scheduler.Call_SHUTDOWN:
		return missing("shutdown", c.Shutdown != nil)
	case scheduler.Call_ACKNOWLEDGE:
		if c.Acknowledge == nil {
			return missing("acknowledge", false)
		}
		if len(c.Acknowledge.UUID) != 16 {
			return "Not a valid UUID"
		}
	case scheduler.Call_ACKNOWLEDGE_OPERATION_STATUS:
		return missing("acknowledge_operation_status", c.AcknowledgeOperationStatus != nil)
	case scheduler.Call_RECONCILE:
		return missing("reconcile", c.Reconcile != nil)
	case scheduler.Call_RECONCILE_OPERATIONS:
		return missing("reconcile_operations", c.ReconcileOperations != nil)
	case scheduler.Call_MESSAGE:
		return missing("message", c.Message != nil)
	case scheduler.Call_REQUEST:
		return missing("request", c.Request != nil)
	case scheduler.Call_UPDATE_FRAMEWORK:
		return missing("update_framework", c.UpdateFramework != nil)
	}
	return ""
}

// jsonSyntaxError returns "" for valid JSON, else a picojson-like message:
// "syntax error at line N near: <rest of the line from the bad token>".
func jsonSyntaxError(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	if err == nil {
		return ""
	}
	var se *json.SyntaxError
	off := len(body)
	if errors.As(err, &se) {
		off = int(se.Offset) - 1
	}
	if off < 0 {
		off = 0
	}
	if off > len(body) {
		off = len(body)
	}
	start := off
	for start > 0 && isWordByte(body[start-1]) {
		start--
	}
	line := 1 + strings.Count(string(body[:start]), "\n")
	rest := string(body[start:])
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	return "syntax error at line " + strconv.Itoa(line) + " near: " + rest
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// acceptsMediaType implements HTTP Accept matching with q-values and wildcards; no header
// accepts everything.
func acceptsMediaType(values []string, mediaType string) bool {
	if len(values) == 0 {
		return true
	}
	want := strings.SplitN(mediaType, "/", 2)
	bestSpec, bestQ := -1, 0.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			fields := strings.Split(strings.TrimSpace(part), ";")
			mt := strings.ToLower(strings.TrimSpace(fields[0]))
			if mt == "" {
				continue
			}
			q := 1.0
			for _, p := range fields[1:] {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.TrimSpace(k) == "q" {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			typ, sub, _ := strings.Cut(mt, "/")
			spec := -1
			switch {
			case typ == "*" && sub == "*":
				spec = 0
			case typ == want[0] && sub == "*":
				spec = 1
			case typ == want[0] && sub == want[1]:
				spec = 2
			}
			if spec > bestSpec {
				bestSpec, bestQ = spec, q
			}
		}
	}
	return bestSpec >= 0 && bestQ > 0
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}
