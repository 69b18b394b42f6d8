// Command webserver is the long-running "web server" of the webservers-kill example: it
// answers "ok" to every GET on 127.0.0.1 and a free port (or -listen), writes its URL to
// $SERVERS_DIR/<pid> while it serves, and removes that file when it stops (SIGTERM, SIGINT).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, os.Getenv("SERVERS_DIR")); err != nil {
		fmt.Fprintln(os.Stderr, "webserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, listen, dir string) error {
	if dir == "" {
		return fmt.Errorf("SERVERS_DIR is not set")
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "ok")
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("servers dir: %w", err)
	}
	reg := filepath.Join(dir, strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(reg, []byte("http://"+ln.Addr().String()+"/\n"), 0o644); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer os.Remove(reg)
	fmt.Printf("webserver %d serving on http://%s/\n", os.Getpid(), ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
