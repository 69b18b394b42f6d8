package examples

import (
	"path/filepath"
	"testing"
	"time"
)

// Example 4: web servers scaled through a Marathon-compatible API follow the load, written as
// Relay users wrote it: metric = desired servers (ceil(load / 10)), target = the app's
// tasksRunning, RELAY_MOVES=target (the tasks move the target); warmer/cooler = scale.sh
// up/down (a PUT of instances ± 1). The history shows what the controller holds: the running
// instances as its metric, the desired count as its target.
func TestExampleWebservers(t *testing.T) {
	fullOnly(t)
	tmp := t.TempDir()
	url := startMarathon(t, tmp, 0)
	load := filepath.Join(tmp, "load")
	writeFile(t, load, "25\n")
	r := startExample(t, "webservers", "webservers/env", "MARATHON_URL="+url, "APP_ID=web",
		"LOAD_SPEC=file:"+load, "SCALE_LOCK="+filepath.Join(tmp, "scale.lock"))
	steps := []step{{"25", 3, 14 * time.Second}, {"62", 7, 14 * time.Second}, {"5", 1, 12 * time.Second}}
	starts := runSteps(t, load, steps)
	pts := r.history()
	report(t, "webservers", pts)
	t.Logf("metric/target per tick: %s", series(pts))
	judgeSteps(t, pts, steps, starts, 5*time.Second, 1.1)
	if n, running := marathonInstances(t, url, "web"); n > 2 || running > 2 {
		t.Errorf("at the end the app has %d instances (%d running), want about 1 (2 at most)", n, running)
	}
}
