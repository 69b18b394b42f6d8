package deploy

import (
	"path/filepath"
	"strings"
	"testing"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Build       *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
	} `yaml:"services"`
}

func TestComposeCluster(t *testing.T) {
	dir := filepath.Join(root, "deploy", "compose")
	var c composeFile
	readYAML(t, filepath.Join(dir, "docker-compose.yml"), &c)
	for _, s := range []string{"zookeeper", "mesos-master", "mesos-agent", "relay-1", "relay-2", "relay-3", "prometheus", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("service %s missing", s)
		}
	}
	real := realEnvVars()
	for _, name := range []string{"relay-1", "relay-2", "relay-3"} {
		s := c.Services[name]
		if s.Build == nil || filepath.Join(dir, s.Build.Context, s.Build.Dockerfile) != filepath.Join(root, "deploy", "Dockerfile") {
			t.Errorf("%s is not built from deploy/Dockerfile", name)
		}
		for k := range s.Environment {
			if _, ok := real[k]; !ok {
				t.Errorf("%s: env %s is not read by relay-mesos", name, k)
			}
		}
		if s.Environment["RELAY_MESOS_ADVERTISE"] != name+":8080" {
			t.Errorf("%s advertises %q; the other replicas reach it at %s:8080", name, s.Environment["RELAY_MESOS_ADVERTISE"], name)
		}
		if err := parseRunEnv(t, s.Environment); err != nil {
			t.Errorf("%s: env does not parse as a valid run config: %v", name, err)
		}
	}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q on every interface; bind to 127.0.0.1", name, p)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := filepath.Abs(filepath.Join(dir, src)); err != nil || !exists(filepath.Join(dir, src)) {
					t.Errorf("%s mounts %s, which does not exist", name, src)
				}
			}
		}
	}

	// Prometheus scrapes the three replicas and loads the rules; Grafana is provisioned.
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, filepath.Join(dir, "prometheus.yml"), &prom)
	if len(prom.ScrapeConfigs) != 1 || prom.ScrapeConfigs[0].JobName != "relay-mesos" ||
		len(prom.ScrapeConfigs[0].StaticConfigs) != 1 || len(prom.ScrapeConfigs[0].StaticConfigs[0].Targets) != 3 {
		t.Errorf("prometheus.yml does not scrape the three replicas in job relay-mesos: %+v", prom.ScrapeConfigs)
	}
	if len(prom.RuleFiles) != 1 {
		t.Errorf("prometheus.yml rule_files = %v", prom.RuleFiles)
	}
	for _, f := range []string{"grafana/datasource.yml", "grafana/dashboards.yml"} {
		var v map[string]any
		readYAML(t, filepath.Join(dir, f), &v)
		if v["apiVersion"] != 1 {
			t.Errorf("%s: apiVersion %v, want 1", f, v["apiVersion"])
		}
	}
}
