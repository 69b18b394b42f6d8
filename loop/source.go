package loop

// Metric and target sources: the spec strings of --metric, --target and --source NAME=SPEC,
// what a failed read is (a miss, with a bounded class), and the options every source shares.
// The syntax is documented in SOURCES.md beside this file.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Source is one reading of a number. Read blocks at most until ctx is done; an error is a
// miss (see MissClass), and a returned value is always finite.
type Source interface {
	Read(ctx context.Context, now time.Time) (float64, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, now time.Time) (float64, error)

// Read calls f.
func (f SourceFunc) Read(ctx context.Context, now time.Time) (float64, error) { return f(ctx, now) }

// MissRecorder counts failed reads. metrics.Metrics implements it. source is "metric",
// "target" or the NAME of a --source entry; class is one of the MissClass words. It is called
// on the goroutine of Sources.Read and must not block.
type MissRecorder interface {
	SourceMiss(source, class string)
}

// SourceOptions is what every source shares. The zero value works: 10 s timeout, a private
// HTTP client, the process environment and working directory, local time, no logs, no counts.
type SourceOptions struct {
	// Timeout bounds one read of one source (commands are killed, requests cancelled).
	// 0 means DefaultSourceTimeout. The ctx given to Read bounds it too.
	Timeout time.Duration
	// HTTPClient is used by http(s)://, json: and prom: sources; nil means a new client.
	HTTPClient *http.Client
	// Env holds extra KEY=VALUE entries added to the process environment of cmd: sources.
	Env []string
	// Dir is the working directory of cmd: sources and the base of relative file: paths;
	// "" means the process's own.
	Dir string
	// Location is the time zone of daily:, weekly: and of hour, minute, ... in expr:, unless a
	// spec names its own tz=; nil means time.Local.
	Location *time.Location
	// Log receives one line per change of a source's state (first miss, recovery); nil
	// means no logs.
	Log hclog.Logger
	// Misses counts every miss; nil means none are counted.
	Misses MissRecorder
}

// DefaultSourceTimeout is the read timeout when SourceOptions.Timeout is 0.
const DefaultSourceTimeout = 10 * time.Second

func (o SourceOptions) withDefaults() SourceOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultSourceTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Log == nil {
		o.Log = hclog.NewNullLogger()
	}
	return o
}

// Miss classes, the values MissClass returns and the label values of the miss counter.
const (
	MissTimeout = "timeout" // the read did not finish within the timeout
	MissCommand = "command" // a cmd: source exited non-zero or could not start
	MissParse   = "parse"   // no number where one was expected (output, body, JSON field, PromQL result)
	MissHTTP    = "http"    // connection error or non-2xx status, Prometheus error
	MissInvalid = "invalid" // NaN or Inf, division by zero, a statistic of too few reads
	MissOther   = "other"   // anything else (a file that cannot be read)
)

// Sentinel errors wrapped by every miss, one per class; MissClass tests for them.
var (
	ErrSourceTimeout = errors.New("timed out")
	ErrSourceCommand = errors.New("command failed")
	ErrSourceParse   = errors.New("not a number")
	ErrSourceHTTP    = errors.New("http error")
	ErrSourceInvalid = errors.New("invalid value")
	// ErrSourceSpec is wrapped by every ParseSources and ParseSource error (a config error).
	ErrSourceSpec = errors.New("invalid source spec")
)

// MissClass returns the class of a failed read: "timeout", "command", "parse", "http",
// "invalid" or "other". A deadline (context.DeadlineExceeded, a net timeout) is "timeout"
// whatever else the error says.
func MissClass(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrSourceTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return MissTimeout
	case errors.Is(err, ErrSourceCommand):
		return MissCommand
	case errors.Is(err, ErrSourceHTTP):
		return MissHTTP
	case errors.Is(err, ErrSourceParse):
		return MissParse
	case errors.Is(err, ErrSourceInvalid):
		return MissInvalid
	}
	return MissOther
}

// ParseSource returns the source of one spec that is not an expression (a number, cmd:,
// http(s)://, json:, prom:, file:, sine:, square:, daily:, weekly:). Errors wrap
// ErrSourceSpec. The returned source applies no timeout of its own beyond ctx; Sources does.
func ParseSource(spec string, opt SourceOptions) (Source, error) {
	_, src, err := srcParseLeaf(spec, opt.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceSpec, err)
	}
	return src, nil
}

// srcParseLeaf returns the kind word and the source of a leaf spec.
func srcParseLeaf(spec string, opt SourceOptions) (kind string, src Source, err error) {
	spec = strings.TrimSpace(spec)
	prefix, rest, _ := strings.Cut(spec, ":")
	switch strings.ToLower(prefix) {
	case "cmd":
		src, err = srcNewCommand(rest, opt)
		return "cmd", src, err
	case "http", "https":
		src, err = srcNewHTTP(spec, "", opt)
		return "http", src, err
	case "json":
		src, err = srcNewJSON(rest, opt)
		return "json", src, err
	case "prom":
		src, err = srcNewProm(rest, opt)
		return "prom", src, err
	case "file":
		src, err = srcNewFile(rest, opt)
		return "file", src, err
	case "sine", "square":
		src, err = srcNewWave(strings.ToLower(prefix), rest)
		return strings.ToLower(prefix), src, err
	case "daily":
		src, err = srcNewDaily(rest, opt.Location)
		return "daily", src, err
	case "weekly":
		src, err = srcNewWeekly(rest, opt.Location)
		return "weekly", src, err
	case "expr":
		return "", nil, errors.New("expr: is only allowed in --metric, --target and --source")
	}
	if spec == "" {
		return "", nil, errors.New("empty spec")
	}
	v, perr := strconv.ParseFloat(spec, 64)
	if perr != nil {
		return "", nil, fmt.Errorf("%q is not a number, cmd:, http(s)://, json:PATH@URL, prom:URL QUERY, file:, sine:, square:, daily:, weekly: or expr:", srcClip(spec, 60))
	}
	if !srcFinite(v) {
		return "", nil, fmt.Errorf("%q is not a finite number", spec)
	}
	return "const", SourceFunc(func(context.Context, time.Time) (float64, error) { return v, nil }), nil
}

// srcNumber parses the last non-empty line of out as a finite number.
func srcNumber(out []byte, what string) (float64, error) {
	text := strings.TrimRight(string(out), " \t\r\n")
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, fmt.Errorf("%w: %s is empty", ErrSourceParse, what)
	}
	v, err := srcParseFloat(text)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q", ErrSourceParse, what, srcClip(text, 60))
	}
	return srcCheckFinite(v, what)
}

// srcParseFloat is strconv.ParseFloat where an out-of-range number is its ±Inf (a miss of
// class invalid later), not a syntax error.
func srcParseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil
	}
	return v, err
}

// srcCheckFinite turns NaN and Inf into an invalid-class miss.
func srcCheckFinite(v float64, what string) (float64, error) {
	if !srcFinite(v) {
		return 0, fmt.Errorf("%w: %s is %v", ErrSourceInvalid, what, v)
	}
	return v, nil
}

func srcFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// srcClip shortens s to at most n bytes for an error message.
func srcClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// srcLookBash finds bash once at parse time, so a missing bash is a config error.
func srcLookBash() (string, error) {
	p, err := exec.LookPath("bash")
	if err != nil {
		return "", fmt.Errorf("cmd: bash not found in PATH (cmd: sources run bash -c): %w", err)
	}
	return p, nil
}
