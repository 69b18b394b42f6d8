package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/relay-mesos/relay-mesos/cmd/config"
	"github.com/relay-mesos/relay-mesos/metrics"
)

// root is the module root, seen from this package's directory.
const root = ".."

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readFile(t, path)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// realEnvVars is every environment variable the run command reads.
func realEnvVars() map[string]config.EnvVar {
	out := map[string]config.EnvVar{}
	for _, e := range config.EnvVars() {
		out[e.Env] = e
	}
	return out
}

// parseRunEnv parses the run command with exactly env set (no arguments) and validates it,
// as the binary would in a container configured by env only.
func parseRunEnv(t *testing.T, env map[string]string) error {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "RELAY_") {
			t.Setenv(k, "") // registers the restore
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var cli config.CLI
	k, err := config.Parser(&cli)
	if err != nil {
		return err
	}
	if _, err := k.Parse([]string{"run"}); err != nil {
		return err
	}
	return cli.Run.Validate()
}

// binary builds cmd/relay-mesos once with the Dockerfile's build command.
var binary struct {
	once sync.Once
	path string
	skip string
	err  error
}

// hasMain reports whether cmd/relay-mesos holds a main package yet.
func hasMain() (bool, string) {
	out, err := exec.Command("go", "list", "-f", "{{.Name}}", root+"/cmd/relay-mesos").CombinedOutput()
	if err != nil {
		return false, strings.TrimSpace(string(out))
	}
	return strings.TrimSpace(string(out)) == "main", ""
}

// buildBinary runs the Dockerfile's go build command with the output in a temp dir. It
// returns "" and a reason when cmd/relay-mesos has no main package yet.
func buildBinary(t *testing.T, dir string) (path, skip string) {
	t.Helper()
	binary.once.Do(func() {
		if ok, why := hasMain(); !ok {
			binary.skip = "cmd/relay-mesos has no main package yet (" + why + ")"
			return
		}
		df := parseDockerfile(t, filepath.Join(root, "deploy", "Dockerfile"))
		build, out := df.goBuild()
		if build == "" {
			binary.err = fmt.Errorf("no go build command in the Dockerfile")
			return
		}
		binary.path = filepath.Join(dir, "relay-mesos")
		cmd := exec.Command("sh", "-c", strings.Replace(build, "-o "+out, "-o "+binary.path, 1))
		cmd.Dir = root
		if o, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("%s: %v\n%s", build, err, o)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path, binary.skip
}

var binDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "relay-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// exported is what /metrics serves: the metric families and their types.
type exported map[string]string

// has reports whether name is an exported series name (histogram series included).
func (e exported) has(name string) bool {
	if _, ok := e[name]; ok {
		return true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if typ := e[base]; typ == "HISTOGRAM" || typ == "SUMMARY" {
				return true
			}
		}
	}
	return false
}

func (e exported) names() []string {
	var out []string
	for n := range e {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// exportedMetrics scrapes the real binary's /metrics, or, while cmd/relay-mesos is not
// written, gathers a registry built the way cmd must build it (metrics.New plus the Go and
// process collectors).
func exportedMetrics(t *testing.T) (exported, string) {
	t.Helper()
	bin, skip := buildBinary(t, binDir)
	if skip != "" {
		reg := prometheus.NewRegistry()
		metrics.New(reg)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := exported{}
		for _, mf := range mfs {
			out[mf.GetName()] = mf.GetType().String()
		}
		return out, "registry built by metrics.New (" + skip + ")"
	}
	return scrapeBinary(t, bin), "the relay-mesos binary"
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrapeBinary runs one standalone replica on the embedded Mesos master and scrapes it.
func scrapeBinary(t *testing.T, bin string) exported {
	t.Helper()
	addr := freeAddr(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELAY_") {
			env = append(env, kv)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "run", "--master", "local", "--metric", "1", "--target", "1",
		"--warmer", "true", "--listen", addr, "--state-dir", t.TempDir())
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		t.Logf("relay-mesos output:\n%s", logs.String())
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err == nil && resp.StatusCode == http.StatusOK {
			p := expfmt.NewTextParser(model.UTF8Validation)
			mfs, perr := p.TextToMetricFamilies(resp.Body)
			resp.Body.Close()
			if perr != nil {
				t.Fatalf("parse /metrics: %v", perr)
			}
			out := exported{}
			for n, mf := range mfs {
				out[n] = mf.GetType().String()
			}
			return out
		}
		if resp != nil {
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("relay-mesos did not serve /metrics on %s within 60s", addr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// labelValuesRE finds the metric of a Grafana label_values(metric, label) query.
var labelValuesRE = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
