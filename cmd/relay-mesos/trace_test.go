package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/cmd/config"
)

var runArgs = []string{"run", "--metric", "1", "--target", "1", "--warmer", "true", "--master", "local"}

// Bad trace settings are a one-line error naming the flag, exit status 2, before anything starts.
func TestTraceFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"zero max bytes", nil, []string{"--trace-max-bytes", "0"}, "--trace-max-bytes"},
		{"negative max bytes", map[string]string{"RELAY_TRACE_MAX_BYTES": "-1"}, nil, "--trace-max-bytes"},
		{"max bytes not a number", nil, []string{"--trace-max-bytes", "64MiB"}, "--trace-max-bytes"},
		{"missing directory", nil, []string{"--state-dir", dir, "--trace-file", filepath.Join(dir, "no", "trace.jsonl")}, "--trace-file"},
		{"unset variable", nil, []string{"--state-dir", dir, "--trace-file", filepath.Join(dir, "trace-${RELAY_TEST_NO_SUCH_VAR}.jsonl")}, "$RELAY_TEST_NO_SUCH_VAR not set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run(append(append([]string{}, runArgs...), c.args...), &out, &errb)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, errb.String())
			}
			first := strings.SplitN(strings.TrimSpace(errb.String()), "\n", 2)[0]
			if !strings.HasPrefix(first, "relay-mesos:") || !strings.Contains(first, c.want) {
				t.Fatalf("first line %q does not name %s", first, c.want)
			}
		})
	}
}

// simulate --trace writes one line per scenario tick, and a second run replaces the file.
func TestSimulateTrace(t *testing.T) {
	scenario := filepath.Join("..", "..", "loop", "sim", "testdata", "scenarios", "queue_const.json")
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	for i := 0; i < 2; i++ {
		var out, errb bytes.Buffer
		if code := run([]string{"simulate", "--scenario", scenario, "--trace", trace}, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		rows := strings.Count(out.String(), "\n") - 1 // less the CSV header
		lines := traceLines(t, trace)
		if rows != 60 || len(lines) != rows {
			t.Fatalf("run %d: %d CSV rows, %d trace lines; the scenario has 60 ticks", i+1, rows, len(lines))
		}
	}
}

// A replica on the embedded master writes its trace, at the path with $MESOS_TASK_ID expanded,
// while it leads, and closes it at exit.
func TestRunWritesTheTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded master")
	}
	dir := t.TempDir()
	t.Setenv("MESOS_TASK_ID", "relay.7f3a")
	trace := filepath.Join(dir, "trace-relay.7f3a.jsonl")
	var cli config.CLI
	p, err := config.Parser(&cli)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]string{"run", "--metric", "0", "--target", "2", "--warmer", "sleep 30", "--master", "local",
		"--state-dir", dir, "--listen", "127.0.0.1:0", "--delay", "0.1", "--trace-file", filepath.Join(dir, "trace-$MESOS_TASK_ID.jsonl")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runReplica(ctx, &cli.Run, hclog.NewNullLogger()) }()
	deadline := time.Now().Add(30 * time.Second)
	complete := func() int { b, _ := os.ReadFile(trace); return bytes.Count(b, []byte("\n")) }
	for complete() < 5 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("fewer than 5 trace lines after 30s: %d", complete())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
	lines := traceLines(t, trace)
	asked := 0
	for _, l := range lines {
		asked += l.Decision.Warmers
		if l.Target.Value == nil || *l.Target.Value != 2 {
			t.Fatalf("a line with target %v, want 2", l.Target.Value)
		}
	}
	if asked == 0 {
		t.Fatalf("no line shows a warmer asked for with the metric 2 below target (%d lines)", len(lines))
	}
}

type cmdTraceLine struct {
	Tick   int64 `json:"tick"`
	Target struct {
		Value *float64 `json:"value"`
	} `json:"target"`
	Decision struct {
		Warmers int `json:"warmers"`
	} `json:"decision"`
}

func traceLines(t *testing.T, path string) []cmdTraceLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	var out []cmdTraceLine
	for i, s := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if s == "" {
			continue
		}
		var l cmdTraceLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, s)
		}
		out = append(out, l)
	}
	return out
}
