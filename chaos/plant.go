package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// PlantConfig shapes the queue the replicas control.
type PlantConfig struct {
	// Listen is the plant's HTTP address (127.0.0.1:0 picks a port).
	Listen string
	// Rate is how many items arrive per second.
	Rate float64
	// Initial is the queue length at start.
	Initial float64
}

// DefaultPlantConfig is a queue with 2 items arriving per second and 20 waiting.
func DefaultPlantConfig() PlantConfig {
	return PlantConfig{Listen: "127.0.0.1:0", Rate: 2, Initial: 20}
}

// Plant is a queue service: items arrive at a rate; GET /size returns the length (the
// metric the replicas read); POST /take?n=N removes up to N items (what warmer tasks do).
// GET /stats returns the true length even while /size is faulted; POST
// /admin/fault?mode=fail|hang|none&for=DURATION makes /size answer 500 or hang for a while.
type Plant struct {
	cfg PlantConfig
	ln  net.Listener

	mu        sync.Mutex
	size      float64
	last      time.Time
	taken     int64
	fault     string
	faultTill time.Time
}

// NewPlant listens on cfg.Listen.
func NewPlant(cfg PlantConfig) (*Plant, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("plant: listen: %w", err)
	}
	return &Plant{cfg: cfg, ln: ln, size: cfg.Initial, last: time.Now()}, nil
}

// Addr is the plant's host:port.
func (p *Plant) Addr() string { return p.ln.Addr().String() }

// advanceLocked adds the arrivals since the last call.
func (p *Plant) advanceLocked(now time.Time) {
	p.size += p.cfg.Rate * now.Sub(p.last).Seconds()
	p.last = now
}

// Size is the true queue length (whole items).
func (p *Plant) Size() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceLocked(time.Now())
	return float64(int64(p.size))
}

// SetFault makes /size fail ("fail": 500) or hang ("hang") for d; "none" clears it.
func (p *Plant) SetFault(mode string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.faultTill = mode, time.Now().Add(d)
}

func (p *Plant) currentFault() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fault == "" || p.fault == "none" || time.Now().After(p.faultTill) {
		return ""
	}
	return p.fault
}

// Handler serves the plant's endpoints.
func (p *Plant) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /size", func(w http.ResponseWriter, r *http.Request) {
		switch p.currentFault() {
		case "fail":
			http.Error(w, "plant: injected failure", http.StatusInternalServerError)
			return
		case "hang":
			select {
			case <-r.Context().Done():
				return
			case <-time.After(30 * time.Second):
			}
		}
		fmt.Fprintf(w, "%g\n", p.Size())
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		s := p.Size()
		p.mu.Lock()
		taken := p.taken
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"size": s, "taken": taken})
	})
	mux.HandleFunc("POST /take", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			n = 1
		}
		p.mu.Lock()
		p.advanceLocked(time.Now())
		got := min(float64(n), float64(int64(p.size)))
		p.size -= got
		p.taken += int64(got)
		p.mu.Unlock()
		fmt.Fprintf(w, "%g\n", got)
	})
	mux.HandleFunc("POST /admin/fault", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("for"))
		if err != nil {
			d = 0
		}
		mode := r.URL.Query().Get("mode")
		if mode != "fail" && mode != "hang" && mode != "none" {
			http.Error(w, "mode: fail, hang or none", http.StatusBadRequest)
			return
		}
		p.SetFault(mode, d)
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// Run serves until ctx is done.
func (p *Plant) Run(ctx context.Context) error {
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
	})
	defer stop()
	if err := srv.Serve(p.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("plant: serve: %w", err)
	}
	return nil
}
