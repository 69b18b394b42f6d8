package loop

// cmd: sources: bash -c SCRIPT, the last non-empty line of stdout is the number.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// srcStdoutKeep is how much of the end of stdout is kept (the number is on the last line).
	srcStdoutKeep = 64 << 10
	// srcStderrKeep is how much of the start of stderr goes into a miss's error text.
	srcStderrKeep = 200
	// srcPipeGrace bounds the wait for output after the command's process group is gone
	// (only a process that left the group can hold the pipes open that long).
	srcPipeGrace = 100 * time.Millisecond
)

type srcCommand struct {
	bash, script, dir string
	env               []string
}

func srcNewCommand(script string, opt SourceOptions) (Source, error) {
	if strings.TrimSpace(script) == "" {
		return nil, errors.New("cmd: the command is empty")
	}
	bash, err := srcLookBash()
	if err != nil {
		return nil, err
	}
	c := &srcCommand{bash: bash, script: script, dir: opt.Dir}
	if len(opt.Env) > 0 {
		c.env = append(os.Environ(), opt.Env...)
	}
	return c, nil
}

// Read runs the command in its own process group. When ctx is done the whole group is
// killed (SIGKILL); when the command exits, whatever it left running in its group is killed
// too, so nothing it started outlives the read.
func (c *srcCommand) Read(ctx context.Context, _ time.Time) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: command not started: %w", ErrSourceTimeout, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("command: stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return 0, fmt.Errorf("command: stderr pipe: %w", err)
	}
	cmd := exec.CommandContext(ctx, c.bash, "-c", c.script)
	cmd.Dir, cmd.Env = c.dir, c.env
	cmd.Stdout, cmd.Stderr = outW, errW // files: no copying goroutines, Wait returns at exit
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return 0, fmt.Errorf("%w: start: %w", ErrSourceCommand, err)
	}
	var (
		stdout srcTail
		stderr srcHead
		wg     sync.WaitGroup
	)
	wg.Go(func() { _, _ = io.Copy(&stdout, outR) })
	wg.Go(func() { _, _ = io.Copy(&stderr, errR) })
	werr := cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers in the group; ESRCH if none
	deadline := time.Now().Add(srcPipeGrace)
	_ = outR.SetReadDeadline(deadline)
	_ = errR.SetReadDeadline(deadline)
	wg.Wait()
	outR.Close()
	errR.Close()

	if ctx.Err() != nil {
		return 0, fmt.Errorf("%w: command killed after %v%s", ErrSourceTimeout,
			time.Since(start).Round(time.Millisecond), stderr.suffix())
	}
	if werr != nil {
		return 0, fmt.Errorf("%w: %w%s", ErrSourceCommand, werr, stderr.suffix())
	}
	v, err := srcNumber(stdout.Bytes(), "stdout")
	if err != nil {
		return 0, fmt.Errorf("%w%s", err, stderr.suffix())
	}
	return v, nil
}

// srcTail keeps the last srcStdoutKeep bytes written to it.
type srcTail struct{ b []byte }

func (t *srcTail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - srcStdoutKeep; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *srcTail) Bytes() []byte { return t.b }

// srcHead keeps the first srcStderrKeep bytes written to it and drops the rest.
type srcHead struct{ b []byte }

func (h *srcHead) Write(p []byte) (int, error) {
	if room := srcStderrKeep - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// suffix is ": stderr: TEXT" or "" when stderr was empty.
func (h *srcHead) suffix() string {
	s := string(bytes.TrimSpace(h.b))
	if s == "" {
		return ""
	}
	return fmt.Sprintf(": stderr: %q", s)
}
