package main

import (
	"context"
	"time"

	"bytes"
	"github.com/relay-mesos/relay-mesos/loop"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input is a one-line error naming the field, exit status 2; --help is 0.
func TestExitStatusAndErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"ticks": "many"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "Usage: relay-mesos"},
		{"env lists the Relay names", []string{"env"}, 0, "RELAY_METRIC"},
		{"unknown flag", []string{"run", "--no-such-flag"}, 2, "no-such-flag"},
		{"missing metric", []string{"run", "--target", "1", "--warmer", "true", "--master", "local"}, 2, "--metric"},
		{"zero delay", []string{"run", "--metric", "1", "--target", "1", "--warmer", "true", "--master", "local", "--delay", "0"}, 2, "--delay"},
		{"negative lookback", []string{"run", "--metric", "1", "--target", "1", "--warmer", "true", "--master", "local", "--lookback", "-1"}, 2, "--lookback"},
		{"failover timeout 0", []string{"run", "--metric", "1", "--target", "1", "--warmer", "true", "--master", "local", "--failover-timeout", "0s"}, 2, "--failover-timeout"},
		{"bad source", []string{"run", "--metric", "cmd:", "--target", "1", "--warmer", "true", "--master", "local", "--state-dir", dir}, 2, "metric"},
		{"bad task resources", []string{"run", "--metric", "1", "--target", "1", "--warmer", "true", "--master", "local", "--task-resources", "gpus:1", "--state-dir", dir}, 2, "gpus"},
		{"malformed scenario", []string{"simulate", "--scenario", bad}, 2, "ticks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(c.args, &out, &errb)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, errb.String())
			}
			all := out.String() + errb.String()
			if !strings.Contains(all, c.want) {
				t.Fatalf("output does not mention %q:\n%s", c.want, all)
			}
			if c.code == 2 {
				lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
				if !strings.HasPrefix(lines[0], "relay-mesos:") {
					t.Fatalf("first line is not the error: %q", lines[0])
				}
			}
		})
	}
}

func TestAdvertiseDefault(t *testing.T) {
	t.Setenv("HOST", "node7.example")
	for _, c := range []struct{ listen, adv, want string }{
		{"127.0.0.1:8080", "", "127.0.0.1:8080"},
		{"0.0.0.0:31080", "", "node7.example:31080"},
		{":31080", "", "node7.example:31080"},
		{"0.0.0.0:31080", "lb.example:80", "lb.example:80"},
	} {
		if got := advertiseAddr(c.listen, c.adv); got != c.want {
			t.Errorf("advertiseAddr(%q, %q) = %q, want %q", c.listen, c.adv, got, c.want)
		}
	}
}

// --moves target (Relay's web-server example: metric = desired servers, target = running
// instances) hands the controller the running instances as what it moves and the desired count
// as where to hold them; the default leaves them as they are.
func TestMovesTarget(t *testing.T) {
	src := loop.ReaderFunc(func(context.Context, time.Time) (loop.Sample, loop.Sample) {
		return loop.Sample{Value: 7, OK: true}, loop.Sample{Value: 3, OK: true} // desired 7, running 3
	})
	tests := []struct {
		moves      string
		pv, target float64
	}{{"metric", 7, 3}, {"target", 3, 7}}
	for _, tc := range tests {
		pv, sp := moved(tc.moves, src).Read(context.Background(), time.Time{})
		if pv.Value != tc.pv || sp.Value != tc.target {
			t.Errorf("--moves %s: controller sees metric %v, target %v; want %v, %v", tc.moves, pv.Value, sp.Value, tc.pv, tc.target)
		}
	}
}
