// Command chaos runs the failover harness: `chaos -quick` (one fault of each quick kind) or
// `chaos -full` (a 3-server ZooKeeper ensemble and at least 200 faults of every kind). It
// prints the report, writes it to -out, and exits 1 on any invariant violation or missed
// target, 2 on bad flags. `chaos -recheck DIR` runs the metric checks again over the files of
// a finished run's report (samples.csv, faults.csv, ...) with the current bounds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/relay-mesos/relay-mesos/chaos"
)

func main() {
	if chaos.ServePlantFromEnv() {
		return
	}
	os.Exit(run())
}

// recheck runs the metric checks over a finished run's files and prints what they found.
func recheck(dir string, baseline time.Duration) int {
	plant := chaos.PlantOf(chaos.ClusterConfig{}) // the plant every run of this command uses
	rec, err := chaos.ReadRun(dir, baseline, plant)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos: recheck:", err)
		return 2
	}
	lim := chaos.LimitsFor(plant)
	ev := chaos.CheckMetric(rec.Trace, lim, rec.Phases)
	fmt.Print(chaos.RecheckReport(dir, rec, lim, ev))
	if len(ev.Violations) > 0 {
		return 1
	}
	return 0
}

func run() int {
	var (
		quick  = flag.Bool("quick", false, "the quick subset (one fault of each quick kind)")
		full   = flag.Bool("full", false, "the full run (3-server ensemble, -faults faults of every kind)")
		faults = flag.Int("faults", 210, "faults in the full run")
		out    = flag.String("out", "out/chaos", "directory of the report (markdown, CSV, PNG)")
		bin    = flag.String("bin", "bin/relay-mesos", "the relay-mesos binary (make build)")
		work   = flag.String("work-dir", "", "where the processes keep data and logs (default: a temp dir, removed on success)")
		seed   = flag.Uint64("seed", 0, "seed of the fault schedule (0: from the clock)")
		level  = flag.String("log-level", "info", "log level")
		again  = flag.String("recheck", "", "run the metric checks over the report files in this directory and exit")
		base   = flag.Duration("baseline", 60*time.Second, "with -recheck of a report without phases.csv: the baseline's length before the first fault")
	)
	flag.Parse()
	if *again != "" {
		return recheck(*again, *base)
	}
	if *quick == *full {
		fmt.Fprintln(os.Stderr, "chaos: give exactly one of -quick and -full")
		return 2
	}
	binary, err := filepath.Abs(*bin)
	if err == nil {
		_, err = os.Stat(binary)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: relay-mesos binary: %v (run make build)\n", err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	dir := *work
	keep := dir != ""
	if dir == "" {
		if dir, err = os.MkdirTemp("", "relay-chaos-"); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			return 1
		}
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "chaos", Level: hclog.LevelFromString(*level), Output: os.Stderr})
	var o chaos.Options
	if *quick {
		o = chaos.QuickOptions(binary, dir)
	} else {
		o = chaos.FullOptions(binary, dir, *faults)
	}
	if *seed != 0 {
		o.Seed = *seed
	}
	o.Cluster.PlantCommand = []string{exe}
	o.Out, o.Log = *out, log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := chaos.Run(ctx, o)
	if err != nil {
		log.Error("chaos_failed", "error", err, "work_dir", dir)
		return 1
	}
	fmt.Println(res.Markdown())
	log.Info("done", "took", time.Since(start).Round(time.Second), "report", *out, "violations", len(res.Violations))
	if res.Failed() {
		log.Error("chaos_run_failed", "work_dir", dir)
		return 1
	}
	if !keep {
		_ = os.RemoveAll(dir)
	}
	return 0
}
