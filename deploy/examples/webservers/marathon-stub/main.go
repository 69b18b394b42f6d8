// Command marathon-stub is a stand-in for the part of Marathon's REST API that the webservers
// and minimum examples use, so that they run on one machine without a Marathon:
//
//	GET /v2/apps/<id>  {"app": {"id": "/<id>", "instances": n, "tasksRunning": r, "tasksStaged": s}}
//	PUT /v2/apps/<id>  {"instances": n}  sets the app's instances (creating the app)
//
// A new instance counts as running -start-delay after the PUT that asked for it, as a
// deployment would; a removed instance goes at once (the newest first). State is in memory.
// The apps named by -apps exist from the start with 0 instances (a GET of an unknown app is a
// 404, as in Marathon). It prints "marathon-stub listening on http://HOST:PORT" first.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	delay := flag.Duration("start-delay", 0, "time a new instance takes to count as running (e.g. 1s)")
	apps := flag.String("apps", "web,web-min", "comma-separated ids of the apps that exist at start, with 0 instances")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, *delay, strings.Split(*apps, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "marathon-stub:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, listen string, delay time.Duration, apps []string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Printf("marathon-stub listening on http://%s\n", ln.Addr())
	st := newStub(delay, time.Now)
	for _, id := range apps {
		if id = strings.Trim(strings.TrimSpace(id), "/"); id != "" {
			st.apps[id] = []time.Time{}
		}
	}
	srv := &http.Server{Handler: st, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// stub holds the apps: per app, when each instance became (or becomes) running.
type stub struct {
	delay time.Duration
	now   func() time.Time
	mu    sync.Mutex
	apps  map[string][]time.Time
}

func newStub(delay time.Duration, now func() time.Time) *stub {
	return &stub{delay: delay, now: now, apps: map[string][]time.Time{}}
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/v2/apps/")
	id = strings.Trim(id, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		starts, found := s.apps[id]
		if !found {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": fmt.Sprintf("App '/%s' does not exist", id)})
			return
		}
		running := 0
		for _, at := range starts {
			if !at.After(s.now()) {
				running++
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"app": map[string]any{
			"id": "/" + id, "instances": len(starts), "tasksRunning": running, "tasksStaged": len(starts) - running,
		}})
	case http.MethodPut:
		var body struct {
			Instances *int `json:"instances"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Instances == nil || *body.Instances < 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Object is not valid: instances must be a number >= 0"})
			return
		}
		starts := s.apps[id]
		for len(starts) < *body.Instances {
			starts = append(starts, s.now().Add(s.delay))
		}
		starts = starts[:*body.Instances]
		s.apps[id] = starts
		writeJSON(w, http.StatusOK, map[string]string{
			"version": s.now().UTC().Format(time.RFC3339Nano), "deploymentId": fmt.Sprintf("stub-%d", s.now().UnixNano()),
		})
	default:
		w.Header().Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
