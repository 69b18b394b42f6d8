package deploy

import (
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var promql = parser.NewParser(parser.Options{})

// rulesFile parses deploy/prometheus/rules.yml as Prometheus does (promtool check rules:
// YAML, unknown fields, PromQL, label and annotation templates).
func rulesFile(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	rgs, errs := rulefmt.ParseFile(filepath.Join(root, "deploy", "prometheus", "rules.yml"), false,
		model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if rgs == nil {
		t.FailNow()
	}
	return rgs
}

func TestRulesAreValidAndComplete(t *testing.T) {
	rgs := rulesFile(t)
	alerts := map[string]bool{}
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[r.Alert] = true
				if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
					t.Errorf("alert %s needs a severity label and a summary", r.Alert)
				}
			}
		}
	}
	for _, want := range []string{
		"RelayMesosNoLeader", "RelayMesosLeaderCountNotOne", "RelayMesosLeadershipFlapping",
		"RelayMesosCheckpointFailing", "RelayMesosStarved", "RelayMesosErrorOutsideBand",
		"RelayMesosSourceMisses", "RelayMesosZooKeeperSessionLost", "RelayMesosMesosDisconnected",
		"RelayMesosLaunchBackoff", "RelayMesosMetricRefreshSlowerThanTick",
	} {
		if !alerts[want] {
			t.Errorf("alert %s missing", want)
		}
	}
	readme := string(readFile(t, filepath.Join(root, "deploy", "README.md")))
	for a := range alerts {
		if !strings.Contains(readme, "### "+a) {
			t.Errorf("alert %s has no runbook section (### %s) in deploy/README.md", a, a)
		}
	}
}

// selectorNames returns the metric names an expression selects.
func selectorNames(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q: %v", where, expr, err)
		return nil
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			if name == "" {
				for _, m := range vs.LabelMatchers {
					if m.Name == model.MetricNameLabel {
						name = m.Value
					}
				}
			}
			if name != "" {
				out = append(out, name)
			}
		}
		return nil
	})
	return out
}

// grafanaExprs returns every PromQL expression of the dashboard, with Grafana's interval
// variables replaced, and the metrics its label_values queries name.
func grafanaExprs(t *testing.T) (exprs map[string]string, labelValueMetrics []string) {
	t.Helper()
	var dash any
	readJSON(t, filepath.Join(root, "deploy", "grafana", "relay-mesos.json"), &dash)
	exprs = map[string]string{}
	repl := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			title, _ := x["title"].(string)
			for k, c := range x {
				p := path
				if title != "" {
					p = path + "/" + title
				}
				if s, ok := c.(string); ok && k == "expr" {
					exprs[p+"#"+s] = repl.Replace(s)
				}
				if s, ok := c.(string); ok && (k == "definition" || k == "query") {
					for _, m := range labelValuesRE.FindAllStringSubmatch(s, -1) {
						labelValueMetrics = append(labelValueMetrics, m[1])
					}
				}
				walk(p, c)
			}
		case []any:
			for _, c := range x {
				walk(path, c)
			}
		}
	}
	walk("", dash)
	if len(exprs) < 20 {
		t.Errorf("the dashboard has %d queries; expected a full dashboard", len(exprs))
	}
	return exprs, labelValueMetrics
}

func TestRulesAndDashboardUseExportedMetrics(t *testing.T) {
	have, source := exportedMetrics(t)
	t.Logf("exported metric names from %s: %d", source, len(have))
	recorded := map[string]bool{}
	rgs := rulesFile(t)
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	// Series Prometheus makes itself.
	scrape := map[string]bool{"up": true}
	used := map[string]bool{}
	check := func(where, name string) {
		used[name] = true
		if !have.has(name) && !recorded[name] && !scrape[name] {
			t.Errorf("%s uses %s, which relay-mesos does not export", where, name)
		}
	}
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			for _, n := range selectorNames(t, "rules.yml "+r.Alert+r.Record, r.Expr) {
				check("rules.yml "+r.Alert+r.Record, n)
			}
		}
	}
	exprs, lv := grafanaExprs(t)
	for where, e := range exprs {
		for _, n := range selectorNames(t, "grafana "+where, e) {
			check("grafana "+strings.SplitN(where, "#", 2)[0], n)
		}
	}
	for _, n := range lv {
		check("grafana label_values", n)
	}
	var unused []string
	for _, n := range have.names() {
		if strings.HasPrefix(n, "relay_mesos_") && !used[n] && !used[n+"_bucket"] {
			unused = append(unused, n)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("exported but on no dashboard panel and in no rule: %v", unused)
	}
}

func TestGrafanaDashboardShape(t *testing.T) {
	var d struct {
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			Type    string                   `json:"type"`
			Title   string                   `json:"title"`
			GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	readJSON(t, filepath.Join(root, "deploy", "grafana", "relay-mesos.json"), &d)
	if d.UID == "" || d.SchemaVersion < 30 {
		t.Errorf("uid %q schemaVersion %d", d.UID, d.SchemaVersion)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["job"] || !vars["datasource"] {
		t.Errorf("template variables %v, want datasource and job", vars)
	}
	// Panels must not overlap on Grafana's 24-column grid.
	type cell struct{ x, y int }
	taken := map[cell]string{}
	for _, p := range d.Panels {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X+g.W > 24 {
			t.Errorf("panel %q has grid %+v", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := taken[cell{x, y}]; ok {
					t.Errorf("panels %q and %q overlap", p.Title, other)
					return
				}
				taken[cell{x, y}] = p.Title
			}
		}
	}
}
