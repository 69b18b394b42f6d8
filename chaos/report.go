package chaos

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// KindRow is one line of the per-kind table.
type KindRow struct {
	Kind              string
	Count, FailedOver int
	P50, P99, Max     time.Duration // over the faults that failed over (-1: none)
	Launches          int           // launches while faults of this kind were in force
	RecoveredMax      time.Duration // slowest return of the metric to the band (-1: none)
	Overdue           int           // faults whose metric was not back in band within the bound
	Errors            int           // injections that reported an error
}

func byKind(fs []FaultResult) map[string][]FaultResult {
	m := map[string][]FaultResult{}
	for _, f := range fs {
		m[f.Kind] = append(m[f.Kind], f)
	}
	return m
}

// failovers are the failover times of the faults that caused one; a fault of a kind that
// must cause one (kill -9, SIGTERM) and did not counts as an infinite time.
func failovers(fs []FaultResult) []time.Duration {
	var out []time.Duration
	for _, f := range fs {
		switch {
		case f.FailedOver:
			out = append(out, f.Failover)
		case (f.Kind == FaultKill9 || f.Kind == FaultSIGTERM) && f.OldTerm > 0:
			out = append(out, time.Duration(math.MaxInt64))
		}
	}
	return out
}

// percentile is the nearest-rank percentile (-1 for none).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d == time.Duration(math.MaxInt64):
		return "none"
	}
	return d.Round(time.Millisecond).String()
}

// KindTable summarises the faults per kind, in a fixed order.
func KindTable(fs []FaultResult) []KindRow {
	per := byKind(fs)
	var kinds []string
	for k := range per {
		kinds = append(kinds, k)
	}
	order := map[string]int{}
	for i, k := range FullKinds {
		order[k] = i
	}
	sort.Slice(kinds, func(i, j int) bool { return order[kinds[i]] < order[kinds[j]] })
	var rows []KindRow
	for _, k := range kinds {
		r := KindRow{Kind: k, RecoveredMax: -1}
		var fo []time.Duration
		for _, f := range per[k] {
			r.Count++
			r.Launches += f.Launches
			if f.FailedOver {
				r.FailedOver++
			}
			if f.Err != "" {
				r.Errors++
			}
			if f.Overdue {
				r.Overdue++
			}
			if f.Recovered > r.RecoveredMax {
				r.RecoveredMax = f.Recovered
			}
		}
		fo = failovers(per[k])
		r.P50, r.P99, r.Max = percentile(fo, 0.5), percentile(fo, 0.99), percentile(fo, 1)
		rows = append(rows, r)
	}
	return rows
}

// Markdown is the report as Markdown (also what the chaos command prints).
func (r *Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Chaos run %s (%s)\n\n", r.Started.Format(time.RFC3339), r.Took.Round(time.Second))
	fmt.Fprintf(&b, "Faults: %d, leadership terms: %d, task launches: %d, FrameworkIDs: %v\n\n", len(r.Faults), r.Terms, r.Launches, r.FrameworkIDs)
	b.WriteString("| fault | count | failovers | failover p50 | p99 | max | launches during fault | slowest recovery | not recovered in bound | injection errors |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range KindTable(r.Faults) {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %d | %s | %d | %d |\n", k.Kind, k.Count, k.FailedOver, fmtDur(k.P50), fmtDur(k.P99), fmtDur(k.Max), k.Launches, fmtDur(k.RecoveredMax), k.Overdue, k.Errors)
	}
	ratio := "-"
	if r.BaselineRate > 0 {
		ratio = fmt.Sprintf("%.2fx", r.IAERate/r.BaselineRate)
	}
	fmt.Fprintf(&b, "\nIAE (|metric - target| x s): %.0f over the faulted phase; %.1f per minute vs %.1f per minute fault-free (%s; limit max(%gx, %.0f per minute))\n\n", r.IAE, r.IAERate, r.BaselineRate, ratio, r.Limits.IAERatio, r.Limits.IAEFloor)
	l := r.Limits
	fmt.Fprintf(&b, "Metric bounds (from the plant: %g items/s arrive, a task takes %d items/s for %d s, target %g): band ±%.0f (one task's net effect); outside fault windows (each to its end or the new leader deciding, + %v) the metric is in band in >= %.0f%% of samples (got %.0f%%), back in band within %v after each fault, never out of band with no task running for over %v; windup: launches after a starvation or leaderless gap take at most the error + arrivals + %d tasks' worth.\n\n",
		l.Plant.Rate, l.Plant.TakePerRound, l.Plant.Rounds, l.Plant.Target, l.Band, l.Grace, 100*l.InBandShare, 100*r.InBand, l.Recovery, l.StallAfter, l.WindupSlack)
	b.WriteString("## Targets\n\n| target | want | got | ok |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		ok := "PASS"
		if !t.OK {
			ok = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, ok)
	}
	fmt.Fprintf(&b, "\n## Invariant violations: %d\n\n", len(r.Violations))
	for i, v := range r.Violations {
		if i == 50 {
			fmt.Fprintf(&b, "- ... and %d more\n", len(r.Violations)-50)
			break
		}
		fmt.Fprintf(&b, "- %s\n", v)
	}
	return b.String()
}

// WriteReport writes report.md, faults.csv, kinds.csv, samples.csv, phases.csv, tasks.csv,
// launches.csv, violations.csv and run.png into dir (ReadRun reads them back).
func WriteReport(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	rows := [][]string{{"n", "kind", "start", "duration_ms", "old_leader", "old_term", "failed_over", "failover_ms", "new_term", "launches_during", "recovered_ms", "lost_tasks", "error", "recovered_outside_faults_ms", "overdue"}}
	for i, f := range r.Faults {
		rows = append(rows, []string{fmt.Sprint(i + 1), f.Kind, f.Start.Format(time.RFC3339Nano), ms(f.End.Sub(f.Start)), fmt.Sprint(f.OldLeader), fmt.Sprint(f.OldTerm),
			fmt.Sprint(f.FailedOver), ms(f.Failover), fmt.Sprint(f.NewTerm), fmt.Sprint(f.Launches), ms(f.Recovered), fmt.Sprint(len(f.Lost)), f.Err, ms(f.RecoveredFree), fmt.Sprint(f.Overdue)})
	}
	if err := writeCSV(filepath.Join(dir, "faults.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"kind", "count", "failovers", "failover_p50_ms", "failover_p99_ms", "failover_max_ms", "launches_during", "slowest_recovery_ms", "injection_errors", "not_recovered_in_bound"}}
	for _, k := range KindTable(r.Faults) {
		rows = append(rows, []string{k.Kind, fmt.Sprint(k.Count), fmt.Sprint(k.FailedOver), ms(k.P50), ms(k.P99), ms(k.Max), fmt.Sprint(k.Launches), ms(k.RecoveredMax), fmt.Sprint(k.Errors), fmt.Sprint(k.Overdue)})
	}
	if err := writeCSV(filepath.Join(dir, "kinds.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"time", "metric", "target", "leader", "term"}}
	for _, s := range r.Snapshot.Samples {
		rows = append(rows, []string{s.At.Format(time.RFC3339Nano), fmt.Sprint(s.Size), fmt.Sprint(s.Target), fmt.Sprint(s.Leader), fmt.Sprint(s.Term)})
	}
	if err := writeCSV(filepath.Join(dir, "samples.csv"), rows); err != nil {
		return err
	}
	// What -recheck needs to run the metric checks again: the phases, the tasks and launches.
	ph := r.Phases
	rows = [][]string{{"phase", "from", "to"}, {"baseline", stamp(ph.BaseFrom), stamp(ph.BaseTo)}, {"faults", stamp(ph.FaultsFrom), stamp(ph.FaultsTo)}}
	if err := writeCSV(filepath.Join(dir, "phases.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"task_id", "state", "launched_at", "ended_at"}}
	for _, t := range sortedTasks(r.Snapshot.Tasks) {
		end := ""
		if t.EndedAt != nil {
			end = stamp(*t.EndedAt)
		}
		rows = append(rows, []string{t.ID, t.State, stamp(t.LaunchedAt), end})
	}
	if err := writeCSV(filepath.Join(dir, "tasks.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"task_id", "at", "term", "subscription"}}
	for _, l := range r.Snapshot.Launches {
		rows = append(rows, []string{l.TaskID, stamp(l.At), fmt.Sprint(l.Term), fmt.Sprint(l.Subscription)})
	}
	if err := writeCSV(filepath.Join(dir, "launches.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"check", "time", "detail"}}
	for _, v := range r.Violations {
		rows = append(rows, []string{v.Check, v.At.Format(time.RFC3339Nano), v.Detail})
	}
	if err := writeCSV(filepath.Join(dir, "violations.csv"), rows); err != nil {
		return err
	}
	return plotRun(filepath.Join(dir, "run.png"), r)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func ms(d time.Duration) string {
	if d < 0 || d == time.Duration(math.MaxInt64) {
		return ""
	}
	return fmt.Sprint(d.Milliseconds())
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// plotRun draws metric, target and the leading replica over the run, with fault starts.
func plotRun(path string, r *Result) error {
	ss := r.Snapshot.Samples
	if len(ss) == 0 {
		return nil
	}
	t0 := ss[0].At
	metric, target, leader := make(plotter.XYs, len(ss)), make(plotter.XYs, len(ss)), make(plotter.XYs, len(ss))
	top := 0.0
	for i, s := range ss {
		x := s.At.Sub(t0).Seconds()
		metric[i] = plotter.XY{X: x, Y: s.Size}
		target[i] = plotter.XY{X: x, Y: s.Target}
		top = math.Max(top, s.Size)
	}
	scale := math.Max(top, 10) / 8
	for i, s := range ss {
		leader[i] = plotter.XY{X: s.At.Sub(t0).Seconds(), Y: float64(s.Leader+1) * scale}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("chaos: metric, target and leader (%d faults)", len(r.Faults))
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "queue length"
	add := func(xy plotter.XYs, c color.Color, name string, w vg.Length) error {
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, w
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	if err := add(metric, color.RGBA{R: 30, G: 90, B: 200, A: 255}, "metric", vg.Points(1)); err != nil {
		return err
	}
	if err := add(target, color.RGBA{R: 220, G: 60, B: 40, A: 255}, "target", vg.Points(1)); err != nil {
		return err
	}
	if err := add(leader, color.RGBA{G: 150, A: 255}, fmt.Sprintf("leader replica+1 (x%.1f; 0 = none)", scale), vg.Points(0.7)); err != nil {
		return err
	}
	for _, f := range r.Faults {
		x := f.Start.Sub(t0).Seconds()
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top}})
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = color.Gray{Y: 160}, vg.Points(0.4), []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
	}
	p.Legend.Top = true
	return p.Save(14*vg.Inch, 5*vg.Inch, path)
}
