// Package dashtest loads the relay-mesos dashboard in headless Chromium, checks that its
// chart has data, and saves a screenshot. The metrics tests use it on a test server; the
// lead's end-to-end tests use it on a running replica.
//
// Chromium is Debian's chromium package (/usr/bin/chromium; RELAY_CHROMIUM overrides the
// path). When it is missing the test is skipped, or fails when RELAY_REQUIRE_CHROMIUM=1.
package dashtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Options tunes Inspect. Zero values take the defaults.
type Options struct {
	// Width and Height of the browser window in CSS pixels (default 1366x768, a laptop).
	Width, Height int
	// Name of the PNG file (default "dashboard.png").
	Name string
	// MinPoints: wait until the chart has plotted at least this many metric points
	// (default 1).
	MinPoints int
	// Timeout bounds the whole check (default 60s).
	Timeout time.Duration
}

// Result is what the page showed.
type Result struct {
	// Points is the number of metric points plotted; Gaps the breaks in the metric line
	// (source misses between readings); TargetPoints the target points plotted.
	Points, Gaps, TargetPoints int
	// Bars is the number of launch bars in the tasks chart.
	Bars int
	// Role is the role badge's text; Banner the alert banner's text ("" when hidden).
	Role, Banner string
	// Source is the "whose data" text of the header.
	Source string
	// PNG is the screenshot's path (in the test's temp dir).
	PNG string
}

// Check loads url (a replica's dashboard, e.g. "http://127.0.0.1:8080/") at 1366x768, waits
// for plotted points, saves a screenshot and returns the number of metric points plotted
// and the PNG's path. The PNG is also written to $RELAY_SCREENSHOT_DIR/dashboard.png when
// that variable is set.
func Check(t testing.TB, url string) (points int, pngPath string) {
	t.Helper()
	r := Inspect(t, url, Options{})
	return r.Points, r.PNG
}

// Chromium returns the path of the Chromium binary, if there is one.
func Chromium() (string, bool) {
	if p := os.Getenv("RELAY_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		return path, err == nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Require skips the test (or fails it when RELAY_REQUIRE_CHROMIUM=1) if Chromium is
// missing, and returns its path.
func Require(t testing.TB) string {
	t.Helper()
	p, ok := Chromium()
	if !ok {
		if os.Getenv("RELAY_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("chromium is required (RELAY_REQUIRE_CHROMIUM=1) but missing: apt-get install -y --no-install-recommends chromium (make deps)")
		}
		t.Skip("chromium not installed: the dashboard is not rendered (make deps installs it)")
	}
	return p
}

// pageState is read from the page after it rendered.
type pageState struct {
	Ready        bool   `json:"ready"`
	Points       int    `json:"points"`
	Gaps         int    `json:"gaps"`
	TargetPoints int    `json:"targetPoints"`
	Bars         int    `json:"bars"`
	Role         string `json:"role"`
	Banner       string `json:"banner"`
	Source       string `json:"source"`
}

const readState = `(() => {
  const c = document.getElementById("chart"), k = document.getElementById("tasks");
  const b = document.getElementById("banner");
  return {
    ready: document.body.dataset.ready === "1",
    points: +(c && c.dataset.points || 0), gaps: +(c && c.dataset.gaps || 0),
    targetPoints: +(c && c.dataset.targetPoints || 0), bars: +(k && k.dataset.bars || 0),
    role: (document.getElementById("role") || {}).textContent || "",
    banner: b && !b.hidden ? b.textContent : "",
    source: (document.getElementById("source") || {}).textContent || "",
  };
})()`

// Inspect loads url in headless Chromium, waits until the dashboard has rendered at least
// opt.MinPoints metric points, reads what it shows and saves a full-page screenshot.
func Inspect(t testing.TB, url string, opt Options) Result {
	t.Helper()
	bin := Require(t)
	if opt.Width <= 0 || opt.Height <= 0 {
		opt.Width, opt.Height = 1366, 768
	}
	if opt.Name == "" {
		opt.Name = "dashboard.png"
	}
	if opt.MinPoints <= 0 {
		opt.MinPoints = 1
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), opt.Timeout)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(opt.Width, opt.Height),
	)
	defer acancel() // waits for the browser to exit
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer bcancel()

	wait := `document.body.dataset.ready === "1" && +document.getElementById("chart").dataset.points >= ` +
		strconv.Itoa(opt.MinPoints)
	err := chromedp.Do(bctx,
		chromedp.EmulateViewport(int64(opt.Width), int64(opt.Height)),
		chromedp.Navigate(url),
		chromedp.Poll[chromedp.Void](wait, chromedp.WithPollingInterval(100*time.Millisecond)),
	)
	if err != nil {
		st, _ := chromedp.Run(bctx, chromedp.Evaluate[pageState](readState))
		t.Fatalf("dashboard at %s did not render %d points: %v (page state %+v)", url, opt.MinPoints, err, st)
	}
	st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](readState))
	if err != nil {
		t.Fatalf("read the dashboard's state: %v", err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.TempDir(), opt.Name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	if dir := os.Getenv("RELAY_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("screenshot dir: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, opt.Name), png, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
	}
	return Result{
		Points: st.Points, Gaps: st.Gaps, TargetPoints: st.TargetPoints, Bars: st.Bars,
		Role: st.Role, Banner: st.Banner, Source: st.Source, PNG: path,
	}
}
