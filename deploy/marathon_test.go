package deploy

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// marathonApp is the part of a Marathon app definition the tests read.
type marathonApp struct {
	ID              string            `json:"id"`
	Instances       int               `json:"instances"`
	Cpus            float64           `json:"cpus"`
	Mem             float64           `json:"mem"`
	Constraints     [][]string        `json:"constraints"`
	Env             map[string]string `json:"env"`
	RequirePorts    bool              `json:"requirePorts"`
	PortDefinitions []struct {
		Port int    `json:"port"`
		Name string `json:"name"`
	} `json:"portDefinitions"`
	Container struct {
		Type   string `json:"type"`
		Docker struct {
			Image string `json:"image"`
		} `json:"docker"`
	} `json:"container"`
	HealthChecks []struct {
		Protocol               string `json:"protocol"`
		Path                   string `json:"path"`
		PortIndex              *int   `json:"portIndex"`
		GracePeriodSeconds     int    `json:"gracePeriodSeconds"`
		IntervalSeconds        int    `json:"intervalSeconds"`
		TimeoutSeconds         int    `json:"timeoutSeconds"`
		MaxConsecutiveFailures int    `json:"maxConsecutiveFailures"`
	} `json:"healthChecks"`
	ReadinessChecks []struct {
		Protocol                string `json:"protocol"`
		Path                    string `json:"path"`
		PortName                string `json:"portName"`
		HTTPStatusCodesForReady []int  `json:"httpStatusCodesForReady"`
	} `json:"readinessChecks"`
	UpgradeStrategy struct {
		MinimumHealthCapacity *float64 `json:"minimumHealthCapacity"`
		MaximumOverCapacity   *float64 `json:"maximumOverCapacity"`
	} `json:"upgradeStrategy"`
	TaskKillGracePeriodSeconds int `json:"taskKillGracePeriodSeconds"`
}

func loadMarathon(t *testing.T) marathonApp {
	t.Helper()
	var app marathonApp
	readJSON(t, filepath.Join(root, "deploy", "marathon", "relay-mesos.json"), &app)
	return app
}

func TestMarathonApp(t *testing.T) {
	app := loadMarathon(t)
	if app.Instances != 3 {
		t.Errorf("instances = %d, want 3", app.Instances)
	}
	unique := false
	for _, c := range app.Constraints {
		if len(c) == 2 && c[0] == "hostname" && c[1] == "UNIQUE" {
			unique = true
		}
	}
	if !unique {
		t.Errorf("constraints %v lack [hostname UNIQUE]: two replicas on one host fail together", app.Constraints)
	}
	if app.Container.Docker.Image == "" || app.Cpus <= 0 || app.Mem < 64 {
		t.Errorf("image %q, cpus %v, mem %v: want an image and real resources", app.Container.Docker.Image, app.Cpus, app.Mem)
	}

	// Health: /healthz over MESOS_HTTP on the first port.
	if len(app.HealthChecks) != 1 {
		t.Fatalf("%d health checks, want 1", len(app.HealthChecks))
	}
	hc := app.HealthChecks[0]
	if hc.Protocol != "MESOS_HTTP" || hc.Path != "/healthz" || hc.PortIndex == nil || *hc.PortIndex != 0 {
		t.Errorf("health check %+v, want MESOS_HTTP /healthz on port index 0", hc)
	}
	if hc.GracePeriodSeconds < 30 || hc.MaxConsecutiveFailures < 2 || hc.TimeoutSeconds >= hc.IntervalSeconds {
		t.Errorf("health check timing %+v: give a start-up grace, tolerate one failure, time out within the interval", hc)
	}

	// Readiness: /readyz, 200 meaning "standby or leading".
	if len(app.ReadinessChecks) != 1 {
		t.Fatalf("%d readiness checks, want 1", len(app.ReadinessChecks))
	}
	rc := app.ReadinessChecks[0]
	if rc.Path != "/readyz" || rc.Protocol != "HTTP" || len(app.PortDefinitions) == 0 || rc.PortName != app.PortDefinitions[0].Name {
		t.Errorf("readiness check %+v, want HTTP /readyz on the named port", rc)
	}
	if len(rc.HTTPStatusCodesForReady) != 1 || rc.HTTPStatusCodesForReady[0] != 200 {
		t.Errorf("ready codes %v, want [200] (followers answer 200 as ready standbys)", rc.HTTPStatusCodesForReady)
	}

	// Upgrades: Marathon keeps ceil(instances * minimumHealthCapacity) healthy and may run
	// instances * (1 + maximumOverCapacity) at once. With one replica per host, an extra
	// replica needs a spare host, so over-capacity must be 0, and exactly one replica may be
	// down at a time: ceil(3 * 0.67) = 3 would deadlock the deployment on three hosts.
	us := app.UpgradeStrategy
	if us.MinimumHealthCapacity == nil || us.MaximumOverCapacity == nil {
		t.Fatal("upgradeStrategy must set both minimumHealthCapacity and maximumOverCapacity")
	}
	minHealthy := int(math.Ceil(float64(app.Instances) * *us.MinimumHealthCapacity))
	maxCapacity := int(float64(app.Instances) * (1 + *us.MaximumOverCapacity))
	if *us.MaximumOverCapacity != 0 {
		t.Errorf("maximumOverCapacity = %v: with hostname UNIQUE a new replica needs a spare host", *us.MaximumOverCapacity)
	}
	if minHealthy != app.Instances-1 || minHealthy < 1 || maxCapacity != app.Instances {
		t.Errorf("Marathon keeps %d of %d healthy with room for %d: want exactly one replaced at a time", minHealthy, app.Instances, maxCapacity)
	}
	if app.TaskKillGracePeriodSeconds < 15 {
		t.Errorf("taskKillGracePeriodSeconds = %d: a leader needs time for its final checkpoint", app.TaskKillGracePeriodSeconds)
	}

	// The listen port is the declared port, fixed so the env can name it.
	_, port, _ := strings.Cut(app.Env["RELAY_MESOS_LISTEN"], ":")
	if p, err := strconv.Atoi(port); err != nil || !app.RequirePorts || p != app.PortDefinitions[0].Port {
		t.Errorf("RELAY_MESOS_LISTEN %q does not listen on the required port %d", app.Env["RELAY_MESOS_LISTEN"], app.PortDefinitions[0].Port)
	}
	if app.Env["RELAY_MESOS_EXIT_ON_LEADERSHIP_LOSS"] != "false" {
		t.Errorf("RELAY_MESOS_EXIT_ON_LEADERSHIP_LOSS = %q, want false (see deploy/README.md)", app.Env["RELAY_MESOS_EXIT_ON_LEADERSHIP_LOSS"])
	}
	if !strings.HasPrefix(app.Env["RELAY_MESOS_ZK"], "zk://") {
		t.Error("three replicas need RELAY_MESOS_ZK for leader election")
	}
}

func TestMarathonEnvIsTheRealConfig(t *testing.T) {
	app := loadMarathon(t)
	real := realEnvVars()
	for k := range app.Env {
		if _, ok := real[k]; !ok {
			t.Errorf("env %s is not read by relay-mesos (relay-mesos env lists them)", k)
		}
	}
	if err := parseRunEnv(t, app.Env); err != nil {
		t.Errorf("the Marathon env does not parse as a valid run config: %v", err)
	}
}
