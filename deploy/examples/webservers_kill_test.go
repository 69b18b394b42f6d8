package examples

import (
	"path/filepath"
	"testing"
	"time"
)

// Example 4b: the framework runs the web servers itself as long-running tasks and kills the
// newest when there are too many (--cooler kill); metric = servers that answer a GET.
func TestExampleWebserversKill(t *testing.T) {
	fullOnly(t)
	tmp := t.TempDir()
	load := filepath.Join(tmp, "load")
	writeFile(t, load, "25\n")
	r := startExample(t, "webservers-kill", "webservers-kill/env", "WEBSERVER_BIN="+bins.webserver,
		"SERVERS_DIR="+filepath.Join(tmp, "servers"), "LOAD_SPEC=file:"+load)
	steps := []step{{"25", 3, 12 * time.Second}, {"55", 6, 12 * time.Second}, {"15", 2, 12 * time.Second}}
	starts := runSteps(t, load, steps)
	pts := r.history()
	report(t, "webservers-kill", pts)
	t.Logf("metric/target per tick: %s", series(pts))
	judgeSteps(t, pts, steps, starts, 4*time.Second, 0.75)
	if w, c := totalRequested(pts); w == 0 || c == 0 {
		t.Errorf("requested %d servers and %d kills, want both", w, c)
	}
}
