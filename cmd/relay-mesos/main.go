// Command relay-mesos is a thermostat for distributed systems, run as a highly available
// Apache Mesos framework. `relay-mesos run` is one replica; see `relay-mesos --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/alecthomas/kong"
	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/cmd/config"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errConfig marks errors that are the user's configuration (exit status 2).
var errConfig = errors.New("configuration")

func run(args []string, stdout, stderr io.Writer) int {
	var cli config.CLI
	exitCode := -1
	parser, err := config.Parser(&cli, kong.Writers(stdout, stderr), kong.Exit(func(code int) { exitCode = code; panic(exitSignal{}) }))
	if err != nil {
		fmt.Fprintf(stderr, "relay-mesos: %v\n", err)
		return exitFail
	}
	kctx, err := parse(parser, args)
	if exitCode >= 0 {
		return exitCode // --help
	}
	if err != nil {
		fmt.Fprintf(stderr, "relay-mesos: %v\n", err)
		return exitConfig
	}
	log := newLogger(cli.LogLevel, cli.LogFormat, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	switch kctx.Command() {
	case "run":
		err = runReplica(ctx, &cli.Run, log)
	case "simulate":
		err = simulate(&cli.Simulate, stdout)
	case "bench-control <dirs>", "bench-control":
		err = benchControl(&cli.BenchControl, stdout)
	case "mesos-local":
		err = mesosLocal(ctx, &cli.MesosLocal, log)
	case "env":
		err = printEnv(stdout)
	default:
		err = fmt.Errorf("%w: unknown command %q", errConfig, kctx.Command())
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errConfig):
		fmt.Fprintf(stderr, "relay-mesos: %v\n", err)
		return exitConfig
	default:
		fmt.Fprintf(stderr, "relay-mesos: %v\n", err)
		return exitFail
	}
}

type exitSignal struct{}

// parse runs kong, turning its exit-on-help into a return.
func parse(p *kong.Kong, args []string) (kctx *kong.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitSignal); !ok {
				panic(r)
			}
		}
	}()
	return p.Parse(args)
}

func newLogger(level, format string, w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name: "relay-mesos", Level: hclog.LevelFromString(level), Output: w,
		JSONFormat: format == "json", TimeFormat: "2006-01-02T15:04:05.000Z07:00",
	})
}

func printEnv(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tFLAG\tDEFAULT\tHELP")
	for _, e := range config.EnvVars() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Env, e.Flag, e.Default, e.Help)
	}
	return tw.Flush()
}
