package chaos

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Recorded is a finished run read back from its report files, for the metric checks.
type Recorded struct {
	Trace  Trace
	Phases Phases
	// Guessed says what the files did not hold and how it was inferred (reports written
	// before phases.csv, tasks.csv and launches.csv existed).
	Guessed []string
}

// ReadRun reads a report directory written by WriteReport for a run on plant p: samples.csv
// and faults.csv, and phases.csv, tasks.csv and launches.csv where present. Without phases.csv the faulted phase
// is taken from the first fault's start to the last one's end + 2 s and the baseline as the
// given length before it; without tasks.csv a shrinking queue stands in for a running task;
// without launches.csv windup is not checked.
func ReadRun(dir string, baseline time.Duration, p PlantNumbers) (Recorded, error) {
	var rec Recorded
	rows, err := readCSV(filepath.Join(dir, "samples.csv"))
	if err != nil {
		return rec, err
	}
	for i, r := range rows {
		at, err1 := time.Parse(time.RFC3339Nano, r["time"])
		size, err2 := strconv.ParseFloat(r["metric"], 64)
		target, err3 := strconv.ParseFloat(r["target"], 64)
		leader, err4 := strconv.Atoi(r["leader"])
		term, err5 := strconv.ParseInt(r["term"], 10, 64)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return rec, fmt.Errorf("samples.csv row %d: %w", i+2, err)
		}
		rec.Trace.Samples = append(rec.Trace.Samples, Sample{At: at, Size: size, Target: target, Leader: leader, Term: term})
	}
	rows, err = readCSV(filepath.Join(dir, "faults.csv"))
	if err != nil {
		return rec, err
	}
	for i, r := range rows {
		start, err1 := time.Parse(time.RFC3339Nano, r["start"])
		d, err2 := intOr0(r["duration_ms"])
		fo, err3 := intOr0(r["failover_ms"])
		launches, err4 := intOr0(r["launches_during"])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return rec, fmt.Errorf("faults.csv row %d: %w", i+2, err)
		}
		f := FaultResult{Fault: Fault{Kind: r["kind"], Start: start, End: start.Add(time.Duration(d) * time.Millisecond), Err: r["error"]},
			FailedOver: r["failed_over"] == "true", Failover: time.Duration(fo) * time.Millisecond, Launches: int(launches), Recovered: -1, RecoveredFree: -1}
		rec.Trace.Faults = append(rec.Trace.Faults, f)
	}
	if len(rec.Trace.Samples) == 0 || len(rec.Trace.Faults) == 0 {
		return rec, fmt.Errorf("%s: no samples or no faults", dir)
	}

	if rows, err := readCSV(filepath.Join(dir, "phases.csv")); err == nil {
		for _, r := range rows {
			from, _ := time.Parse(time.RFC3339Nano, r["from"])
			to, _ := time.Parse(time.RFC3339Nano, r["to"])
			switch r["phase"] {
			case "baseline":
				rec.Phases.BaseFrom, rec.Phases.BaseTo = from, to
			case "faults":
				rec.Phases.FaultsFrom, rec.Phases.FaultsTo = from, to
			}
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		fs := rec.Trace.Faults
		rec.Phases.FaultsFrom = fs[0].Start
		last := fs[0].End
		for _, f := range fs {
			if f.End.After(last) {
				last = f.End
			}
		}
		rec.Phases.FaultsTo = last.Add(2 * time.Second)
		rec.Phases.BaseFrom, rec.Phases.BaseTo = fs[0].Start.Add(-baseline), fs[0].Start
		rec.Guessed = append(rec.Guessed, fmt.Sprintf("no phases.csv: faulted phase %s..%s (first fault to last fault's end + 2 s), baseline the %v before it",
			rec.Phases.FaultsFrom.Format("15:04:05"), rec.Phases.FaultsTo.Format("15:04:05"), baseline))
	} else {
		return rec, err
	}

	if rows, err := readCSV(filepath.Join(dir, "tasks.csv")); err == nil {
		rec.Trace.ActivityKnown = true
		for _, r := range rows {
			from, err := time.Parse(time.RFC3339Nano, r["launched_at"])
			if err != nil {
				continue
			}
			to := from.Add(4 * p.TaskLife()) // as TraceOf
			if e, err := time.Parse(time.RFC3339Nano, r["ended_at"]); err == nil && e.Before(to) {
				to = e
			}
			rec.Trace.Active = append(rec.Trace.Active, Span{from, to})
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		rec.Guessed = append(rec.Guessed, "no tasks.csv: the stall check takes a shrinking queue for a running task")
	} else {
		return rec, err
	}

	if rows, err := readCSV(filepath.Join(dir, "launches.csv")); err == nil {
		rec.Trace.LaunchesKnown = true
		for _, r := range rows {
			if at, err := time.Parse(time.RFC3339Nano, r["at"]); err == nil {
				rec.Trace.Launches = append(rec.Trace.Launches, at)
			}
		}
		sort.Slice(rec.Trace.Launches, func(i, j int) bool { return rec.Trace.Launches[i].Before(rec.Trace.Launches[j]) })
	} else if errors.Is(err, fs.ErrNotExist) {
		rec.Guessed = append(rec.Guessed, "no launches.csv: windup not checked")
	} else {
		return rec, err
	}
	return rec, nil
}

func intOr0(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// readCSV reads a CSV file with a header row into one map per row.
func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	head := all[0]
	out := make([]map[string]string, 0, len(all)-1)
	for _, row := range all[1:] {
		m := make(map[string]string, len(head))
		for i, h := range head {
			if i < len(row) {
				m[strings.TrimSpace(h)] = row[i]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// RecheckReport is what the metric checks found in a recorded run, as Markdown.
func RecheckReport(dir string, rec Recorded, lim Limits, ev MetricEval) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Metric checks of %s\n\n", dir)
	for _, g := range rec.Guessed {
		fmt.Fprintf(&b, "- %s\n", g)
	}
	overdue := 0
	for _, o := range ev.Overdue {
		if o {
			overdue++
		}
	}
	ratio := "-"
	if ev.BaselineRate > 0 {
		ratio = fmt.Sprintf("%.2fx", ev.IAERate/ev.BaselineRate)
	}
	fmt.Fprintf(&b, "\nBand ±%.0f, grace %v, recovery %v, stall %v, in-band share >= %.0f%%, IAE limit max(%gx, %.0f/min), windup slack %d tasks.\n\n",
		lim.Band, lim.Grace, lim.Recovery, lim.StallAfter, 100*lim.InBandShare, lim.IAERatio, lim.IAEFloor, lim.WindupSlack)
	fmt.Fprintf(&b, "Faults: %d, not back in band within the bound: %d. In band outside fault windows: %.0f%%. IAE %.0f per minute vs %.0f fault-free (%s).\n\n",
		len(rec.Trace.Faults), overdue, 100*ev.InBand, ev.IAERate, ev.BaselineRate, ratio)
	fmt.Fprintf(&b, "## Violations: %d\n\n", len(ev.Violations))
	for _, v := range ev.Violations {
		fmt.Fprintf(&b, "- %s\n", v)
	}
	return b.String()
}
