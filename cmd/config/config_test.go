package config

import (
	"strings"
	"testing"
)

func parse(t *testing.T, env map[string]string, args ...string) (*CLI, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var cli CLI
	k, err := Parser(&cli)
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Parse(args)
	return &cli, err
}

var base = []string{"run", "--metric", "1", "--target", "2", "--warmer", "true", "--master", "local"}

func TestEnvVarsMatchTheRelayNames(t *testing.T) {
	got := map[string]string{}
	for _, e := range EnvVars() {
		got[e.Env] = e.Flag
	}
	for env, flag := range map[string]string{
		"RELAY_METRIC": "--metric", "RELAY_TARGET": "--target", "RELAY_WARMER": "--warmer",
		"RELAY_COOLER": "--cooler", "RELAY_DELAY": "--delay", "RELAY_LOOKBACK": "--lookback",
		"RELAY_MESOS_MASTER": "--master", "RELAY_MESOS_FRAMEWORK_NAME": "--framework-name",
		"RELAY_MESOS_FRAMEWORK_PRINCIPAL": "--framework-principal", "RELAY_MESOS_FRAMEWORK_ROLE": "--framework-role",
		"RELAY_MESOS_CHECKPOINT": "--checkpoint", "RELAY_MESOS_FAILOVER_TIMEOUT": "--failover-timeout",
		"RELAY_MESOS_TASK_RESOURCES": "--task-resources", "RELAY_MESOS_ENVIRONMENT": "--environment",
		"RELAY_MESOS_URIS": "--uris", "RELAY_MESOS_DOCKER_IMAGE": "--docker-image",
		"RELAY_MESOS_DOCKER_NETWORK": "--docker-network", "RELAY_MESOS_FORCE_PULL_IMAGE": "--force-pull-image",
		"RELAY_MESOS_DOCKER_PARAMETERS": "--docker-parameters", "RELAY_MESOS_VOLUMES": "--volumes",
		"RELAY_MESOS_MAX_FAILURES": "--max-failures", "RELAY_MESOS_ZK": "--zk", "RELAY_MESOS_LISTEN": "--listen",
		"RELAY_MESOS_ZK_AUTH_FILE": "--zk-auth-file", "RELAY_SOURCES": "--source",
		"RELAY_TRACE_FILE": "--trace-file", "RELAY_TRACE_MAX_BYTES": "--trace-max-bytes",
		"RELAY_METRIC_SCALE": "--metric-scale", "RELAY_MESOS_LAUNCH_BACKOFF": "--launch-backoff",
		"RELAY_MESOS_LAUNCH_BACKOFF_MAX": "--launch-backoff-max",
	} {
		if got[env] != flag {
			t.Errorf("%s maps to %q, want %q", env, got[env], flag)
		}
	}
}

func TestBooleansParseFalseAsFalse(t *testing.T) {
	for _, tc := range []struct {
		val  string
		want bool
	}{{"false", false}, {"0", false}, {"true", true}, {"1", true}} {
		cli, err := parse(t, map[string]string{"RELAY_MESOS_CHECKPOINT": tc.val}, base...)
		if err != nil {
			t.Fatalf("%s: %v", tc.val, err)
		}
		if cli.Run.Checkpoint != tc.want {
			t.Errorf("RELAY_MESOS_CHECKPOINT=%s gave %v", tc.val, cli.Run.Checkpoint)
		}
	}
	cli, err := parse(t, nil, base...)
	if err != nil || !cli.Run.Checkpoint {
		t.Fatalf("checkpoint must default to true: %v %v", cli.Run.Checkpoint, err)
	}
	cli, err = parse(t, nil, append(base, "--no-checkpoint")...)
	if err != nil || cli.Run.Checkpoint {
		t.Fatalf("--no-checkpoint must turn it off: %v %v", cli.Run.Checkpoint, err)
	}
}

func TestBadValuesAreRejectedNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"zero delay", nil, []string{"--delay", "0"}, "--delay"},
		{"negative delay", map[string]string{"RELAY_DELAY": "-1"}, nil, "--delay"},
		{"infinite delay", map[string]string{"RELAY_DELAY": "Inf"}, nil, "--delay"},
		{"NaN delay", nil, []string{"--delay", "NaN"}, "--delay"},
		{"zero lookback", nil, []string{"--lookback", "0"}, "--lookback"},
		{"zero max per tick", nil, []string{"--max-per-tick", "0"}, "--max-per-tick"},
		{"negative in flight", nil, []string{"--max-in-flight", "-3"}, "--max-in-flight"},
		{"negative tolerance", nil, []string{"--tolerance", "-1"}, "--tolerance"},
		{"negative metric scale", map[string]string{"RELAY_METRIC_SCALE": "-0.01"}, nil, "--metric-scale"},
		{"zero failover timeout", nil, []string{"--failover-timeout", "0s"}, "--failover-timeout"},
		{"bad zk", nil, []string{"--zk", "localhost:2181"}, "--zk"},
		{"bad source", nil, []string{"--source", "nameonly"}, "--source"},
		{"bad delay text", nil, []string{"--delay", "soon"}, "--delay"},
		{"zero trace max bytes", nil, []string{"--trace-max-bytes", "0"}, "--trace-max-bytes"},
		{"negative trace max bytes", map[string]string{"RELAY_TRACE_MAX_BYTES": "-5"}, nil, "--trace-max-bytes"},
		{"zero launch backoff", nil, []string{"--launch-backoff", "0s"}, "--launch-backoff"},
		{"launch backoff max below it", map[string]string{"RELAY_MESOS_LAUNCH_BACKOFF": "10s", "RELAY_MESOS_LAUNCH_BACKOFF_MAX": "5s"}, nil, "--launch-backoff-max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.env, append(append([]string{}, base...), tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestSourcesFromEnvSplitOnNewlinesAndDoubleSemicolons(t *testing.T) {
	cli, err := parse(t, map[string]string{"RELAY_SOURCES": "a=1;;b=sine:mean=1,amp=2\nc=expr:a+b"}, base...)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cli.Run.SourceList(), "|")
	if got != "a=1|b=sine:mean=1,amp=2|c=expr:a+b" {
		t.Fatalf("got %q", got)
	}
}

func TestTraceFlags(t *testing.T) {
	cli, err := parse(t, nil, base...)
	if err != nil {
		t.Fatal(err)
	}
	if cli.Run.TraceFile != "" || cli.Run.TraceMaxBytes != 64<<20 {
		t.Fatalf("defaults: file %q, max bytes %d; want no trace and 64 MiB", cli.Run.TraceFile, cli.Run.TraceMaxBytes)
	}
	cli, err = parse(t, map[string]string{"RELAY_TRACE_FILE": "/var/log/relay/trace.jsonl", "RELAY_TRACE_MAX_BYTES": "1048576"}, base...)
	if err != nil {
		t.Fatal(err)
	}
	if cli.Run.TraceFile != "/var/log/relay/trace.jsonl" || cli.Run.TraceMaxBytes != 1<<20 {
		t.Fatalf("from the environment: %q %d", cli.Run.TraceFile, cli.Run.TraceMaxBytes)
	}
	cli, err = parse(t, nil, "simulate", "--scenario", "config_test.go", "--trace", "t.jsonl")
	if err != nil || cli.Simulate.Trace != "t.jsonl" {
		t.Fatalf("simulate --trace: %q %v", cli.Simulate.Trace, err)
	}
}
