package sim

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// Result is one scenario run through the three controllers, with the project's targets.
type Result struct {
	Path     string
	Scenario *Scenario
	// Mine is the project's controller; Orig the original Relay; Ref the greedy reference.
	Mine, Orig, Ref Figures
	// IAELimit and CostLimit are the targets the project's run must meet.
	IAELimit, CostLimit float64
	// Failed names the targets missed (empty = PASS).
	Failed []string
}

// Pass reports whether every target was met.
func (r *Result) Pass() bool { return len(r.Failed) == 0 }

// Limits returns the targets of a scenario given the original's and the reference's figures:
// best = min(reference IAE, original IAE);
// IAE <= 1.25*best + 0.1*(original - best) + 0.25*ticks; cost <= max(original, 1.25*reference).
func Limits(ticks int, orig, ref Figures) (iae, cost float64) {
	best := math.Min(ref.IAE, orig.IAE)
	iae = 1.25*best + 0.1*(orig.IAE-best) + 0.25*float64(ticks)
	cost = math.Max(float64(orig.Cost), 1.25*float64(ref.Cost))
	return iae, cost
}

// Evaluate runs one scenario through the three controllers and checks the targets.
func Evaluate(s *Scenario) (*Result, error) {
	res := &Result{Scenario: s}
	for _, x := range []struct {
		pol Policy
		f   *Figures
	}{{Project, &res.Mine}, {OriginalRelay, &res.Orig}, {Reference, &res.Ref}} {
		rows, err := Run(s, x.pol)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.pol, err)
		}
		*x.f = Compute(s, rows)
	}
	res.IAELimit, res.CostLimit = Limits(s.Ticks, res.Orig, res.Ref)
	res.judge()
	return res, nil
}

// judge sets Failed: the targets the project's figures miss.
func (r *Result) judge() {
	r.Failed = nil
	if r.Mine.IAE > r.IAELimit {
		r.Failed = append(r.Failed, "iae")
	}
	if float64(r.Mine.Cost) > r.CostLimit {
		r.Failed = append(r.Failed, "cost")
	}
	for _, w := range r.Mine.PostStarve {
		if !w.OK() {
			r.Failed = append(r.Failed, fmt.Sprintf("post-starvation[%d,%d)", w.Start, w.End))
		}
	}
	if r.Mine.Deadlock {
		r.Failed = append(r.Failed, fmt.Sprintf("deadlock@%d", r.Mine.DeadlockAt))
	}
}

// ScenarioFiles lists the *.json files under the given files or directories (recursively),
// sorted per argument.
func ScenarioFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrScenario, err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrScenario, err)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// Bench evaluates every scenario file under paths and writes the table to w. It returns the
// results; a scenario file that does not parse is an error wrapping ErrScenario.
func Bench(paths []string, w io.Writer) ([]*Result, error) {
	files, err := ScenarioFiles(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no scenario files (*.json) in %v", ErrScenario, paths)
	}
	var results []*Result
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			return nil, err
		}
		r, err := Evaluate(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r.Path = f
		results = append(results, r)
	}
	WriteTable(w, results)
	return results, nil
}

// WriteTable writes the bench table: per scenario the project's IAE (and its limit), overshoot,
// post-starvation overshoot (and its limit), cost (and its limit), deadlock, the original's and
// the reference's IAE/cost, and PASS or FAIL with the targets missed.
func WriteTable(w io.Writer, results []*Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tticks\tIAE\tIAE max\tovershoot\tpost-starve\tpost max\tcost\tcost max\tdeadlock\torig IAE\torig cost\tref IAE\tref cost\tresult\t")
	pass := 0
	for _, r := range results {
		post, postMax := "-", "-"
		if w, ok := worstWindow(r.Mine.PostStarve); ok {
			post, postMax = fmt.Sprintf("%.1f", w.Overshoot), fmt.Sprintf("%.1f", 0.1*w.ErrorLeft)
		}
		verdict := "PASS"
		if !r.Pass() {
			verdict = "FAIL " + strings.Join(r.Failed, ",")
		} else {
			pass++
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.1f\t%s\t%s\t%d\t%.0f\t%s\t%.0f\t%d\t%.0f\t%d\t%s\t\n",
			name(r), r.Scenario.Ticks, r.Mine.IAE, r.IAELimit, r.Mine.Overshoot, post, postMax, r.Mine.Cost, r.CostLimit,
			yesNo(r.Mine.Deadlock), r.Orig.IAE, r.Orig.Cost, r.Ref.IAE, r.Ref.Cost, verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed\n", pass, len(results)-pass)
}

// worstWindow is the starved window whose overshoot is furthest past (or least short of) its
// limit, a tenth of the error it left: the table shows that window's overshoot and limit side
// by side, so a run with several windows is not shown as the largest overshoot of one against
// the smallest limit of another (8.4 against 4.3, and PASS).
func worstWindow(ws []StarveFigure) (StarveFigure, bool) {
	var worst StarveFigure
	for i, w := range ws {
		if i == 0 || w.Overshoot-0.1*w.ErrorLeft > worst.Overshoot-0.1*worst.ErrorLeft {
			worst = w
		}
	}
	return worst, len(ws) > 0
}

func name(r *Result) string {
	if r.Path == "" {
		return r.Scenario.Name
	}
	return r.Path
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
