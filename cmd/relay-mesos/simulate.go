package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/relay-mesos/relay-mesos/cmd/config"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/loop/sim"
)

// simulate runs the project's controller against the scenario's simulated plant in virtual
// time and prints one CSV row per tick; with --plot it also draws SP, PV and the actions to a
// PNG, with --trace it writes the controller's trace (replacing the file, never rotated). A
// malformed scenario is an error wrapping errConfig that names the field.
func simulate(c *config.Simulate, stdout io.Writer) error {
	s, err := sim.Load(c.Scenario)
	if err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	var trace *loop.Trace
	if c.Trace != "" {
		if err := os.Remove(c.Trace); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("simulate: --trace: %w", err)
		}
		if trace, err = loop.OpenTrace(c.Trace, math.MaxInt64, nil); err != nil {
			return fmt.Errorf("%w: --trace: %v", errConfig, err)
		}
	}
	rows, err := sim.RunProject(s, traceObserver(trace))
	if trace != nil {
		failed := trace.Failures()
		if cerr := trace.Close(); cerr != nil && err == nil {
			err = cerr
		} else if failed > 0 && err == nil {
			err = fmt.Errorf("trace %s: %d ticks could not be written", c.Trace, failed)
		}
	}
	if err != nil {
		return fmt.Errorf("simulate %s: %w", c.Scenario, err)
	}
	w := bufio.NewWriter(stdout)
	fmt.Fprintln(w, sim.CSVHeader)
	for i := range rows {
		fmt.Fprintln(w, rows[i].CSV())
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("simulate: write csv: %w", err)
	}
	if c.Plot == "" {
		return nil
	}
	f, err := os.Create(c.Plot)
	if err != nil {
		return fmt.Errorf("simulate: plot: %w", err)
	}
	if err := sim.Plot(f, s.Name, rows); err != nil {
		f.Close()
		return fmt.Errorf("simulate: plot %s: %w", c.Plot, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("simulate: plot %s: %w", c.Plot, err)
	}
	return nil
}

// benchControl runs every scenario in the given directories through the project's controller,
// the original Relay controller and the greedy reference, prints the figures and the targets,
// and fails (exit status 1) if any scenario misses a target.
func benchControl(c *config.BenchControl, stdout io.Writer) error {
	if len(c.Dirs) == 0 {
		return fmt.Errorf("%w: bench-control needs at least one directory of scenarios", errConfig)
	}
	results, err := sim.Bench(c.Dirs, stdout)
	if errors.Is(err, sim.ErrScenario) {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	if err != nil {
		return fmt.Errorf("bench-control: %w", err)
	}
	failed := 0
	for _, r := range results {
		if !r.Pass() {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("bench-control: %d of %d scenarios missed their targets", failed, len(results))
	}
	return nil
}
