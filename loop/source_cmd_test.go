package loop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommandSourceReadsTheLastLineOfStdout(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "num"), []byte("17\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opt := SourceOptions{Env: []string{"RELAY_T_FOO=7.25"}, Dir: dir}
	long := strings.Repeat("e", 500)
	for _, c := range []struct {
		name, script string
		want         float64
		class        string
		fragments    []string
	}{
		{"number", "echo 42", 42, "", nil},
		{"last non-empty line wins", "echo starting; echo 1; echo ' 3.5 '; echo; echo", 3.5, "", nil},
		{"negative exponent", "printf -- '-1.5e2'", -150, "", nil},
		{"env is passed", "echo $RELAY_T_FOO", 7.25, "", nil},
		{"dir is the working directory", "cat num", 17, "", nil},
		{"non-zero exit", "echo 5; echo boom >&2; exit 3", 0, MissCommand, []string{"exit status 3", "boom"}},
		{"stderr is cut at 200 bytes", "echo " + long + " >&2; exit 1", 0, MissCommand, []string{strings.Repeat("e", 200) + `"`}},
		{"no output", "true", 0, MissParse, []string{"stdout is empty"}},
		{"not a number", "echo twelve", 0, MissParse, []string{`"twelve"`}},
		{"NaN is a miss", "echo NaN", 0, MissInvalid, []string{"NaN"}},
		{"Inf is a miss", "echo -inf", 0, MissInvalid, []string{"-Inf"}},
		{"unknown command", "no-such-command-relay", 0, MissCommand, []string{"exit status 127", "not found"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := srcTRead(t, "cmd:"+c.script, opt, 5*time.Second)
			srcTWant(t, c.script, v, err, c.want, c.class, c.fragments...)
		})
	}
}

// srcTAlive says whether pid is a live (not zombie) process.
func srcTAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// state is the field after "(comm)".
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// srcTWaitDead waits up to 2 s for pid to be gone.
func srcTWaitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !srcTAlive(pid) {
			return
		}
	}
	t.Errorf("process %d still runs after the read", pid)
}

func srcTPid(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return pid
		}
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestCommandSourceHangingIsCutAtTheTimeoutWithItsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The child sleep holds stdout open and ignores the shell's death: only a kill of the
	// whole process group ends it.
	script := "sleep 300 & echo $! > " + pidFile + "; wait"
	start := time.Now()
	v, err := srcTRead(t, "cmd:"+script, SourceOptions{}, 300*time.Millisecond)
	took := time.Since(start)
	srcTWant(t, script, v, err, 0, MissTimeout, "killed after")
	if took > 300*time.Millisecond+srcPipeGrace+500*time.Millisecond {
		t.Errorf("the read took %v with a 300ms timeout", took)
	}
	srcTWaitDead(t, srcTPid(t, pidFile))
}

func TestCommandSourceKillsWhatItLeftBehindOnSuccess(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The background sleep keeps stdout open; the read must not wait for it.
	script := "sleep 300 & echo $! > " + pidFile + "; echo 5"
	start := time.Now()
	v, err := srcTRead(t, "cmd:"+script, SourceOptions{}, 5*time.Second)
	srcTWant(t, script, v, err, 5, "")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the read took %v: it waited for the background child", took)
	}
	srcTWaitDead(t, srcTPid(t, pidFile))
}

func TestCommandSourceKeepsOnlyTheTailOfHugeOutput(t *testing.T) {
	// 1 MB of noise, then the number.
	v, err := srcTRead(t, "cmd:head -c 1000000 /dev/zero | tr '\\0' x; echo; echo 9", SourceOptions{}, 5*time.Second)
	srcTWant(t, "huge", v, err, 9, "")
}
