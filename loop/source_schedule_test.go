package loop

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// srcTAt reads spec at the instant now.
func srcTAt(t *testing.T, spec string, loc *time.Location, now time.Time) float64 {
	t.Helper()
	src, err := ParseSource(spec, SourceOptions{Location: loc})
	if err != nil {
		t.Fatalf("ParseSource(%q): %v", spec, err)
	}
	v, err := src.Read(context.Background(), now)
	if err != nil {
		t.Fatalf("%s at %v: %v", spec, now, err)
	}
	return v
}

func TestWavesArePhasedFromTheEpoch(t *testing.T) {
	epoch := time.Unix(0, 0)
	day := time.Unix(1_700_006_400, 0) // a multiple of 1h (and of 20s) after the epoch
	for _, c := range []struct {
		spec string
		at   time.Time
		want float64
	}{
		// sine: middle rising at phase 0, high at 1/4, middle at 1/2, low at 3/4.
		{"sine:10,50,1h", epoch, 30},
		{"sine:10,50,1h", day, 30},
		{"sine:10,50,1h", day.Add(15 * time.Minute), 50},
		{"sine:10,50,1h", day.Add(30 * time.Minute), 30},
		{"sine:10,50,1h", day.Add(45 * time.Minute), 10},
		{"sine:10,50,1h", epoch.Add(-15 * time.Minute), 10}, // before the epoch too
		{"sine:mean=1,amp=2,period=20s", day.Add(5 * time.Second), 3},
		{"sine:low=0, high=4, period=20s", day.Add(15 * time.Second), 0},
		// square: high for the first half of each period, then low.
		{"square:20,50,150s", day.Add(-30 * time.Second), 20}, // day is a multiple of 150s too
		{"square:20,50,150s", day, 50},
		{"square:20,50,150s", day.Add(74 * time.Second), 50},
		{"square:20,50,150s", day.Add(75 * time.Second), 20},
		{"square:20,50,150s", day.Add(149 * time.Second), 20},
		{"square:20,50,150s", day.Add(150 * time.Second), 50},
	} {
		if got := srcTAt(t, c.spec, time.UTC, c.at); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s at %v = %v, want %v", c.spec, c.at.UTC(), got, c.want)
		}
	}
}

func TestDailyAndWeeklyWindows(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-01-03 is a Saturday; Paris is UTC+1 in January.
	for _, c := range []struct {
		spec string
		loc  *time.Location
		at   string // UTC
		want float64
	}{
		{"daily:22:00-06:00", time.UTC, "2026-01-05 21:59", 0},
		{"daily:22:00-06:00", time.UTC, "2026-01-05 22:00", 1}, // start is inside
		{"daily:22:00-06:00", time.UTC, "2026-01-06 03:00", 1},
		{"daily:22:00-06:00", time.UTC, "2026-01-06 06:00", 0}, // end is outside
		{"daily:09:00-12:00,13:00-17:30", time.UTC, "2026-01-05 12:30", 0},
		{"daily:09:00-12:00,13:00-17:30", time.UTC, "2026-01-05 17:29", 1},
		{"daily:22:00-06:00,tz=Europe/Paris", time.UTC, "2026-01-05 21:30", 1}, // 22:30 in Paris
		{"daily:22:00-06:00,tz=Europe/Paris", time.UTC, "2026-01-06 05:30", 0}, // 06:30 in Paris
		{"daily:22:00-06:00", paris, "2026-01-05 21:30", 1},                    // SourceOptions.Location
		{"daily:00:00-24:00", time.UTC, "2026-01-05 23:59", 1},
		{"weekly:sat-sun", time.UTC, "2026-01-02 23:59", 0}, // Friday
		{"weekly:sat-sun", time.UTC, "2026-01-03 00:00", 1},
		{"weekly:sat-sun", time.UTC, "2026-01-04 23:59", 1},
		{"weekly:sat-sun", time.UTC, "2026-01-05 00:00", 0},
		{"weekly:fri-mon", time.UTC, "2026-01-05 12:00", 1}, // a range may wrap
		{"weekly:fri-mon", time.UTC, "2026-01-06 12:00", 0},
		{"weekly:Monday,wed", time.UTC, "2026-01-07 12:00", 1},
		{"weekly:sat,tz=Europe/Paris", time.UTC, "2026-01-02 23:30", 1}, // Saturday 00:30 in Paris
	} {
		if got := srcTAt(t, c.spec, c.loc, at(c.at)); got != c.want {
			t.Errorf("%s at %s UTC (location %v) = %v, want %v", c.spec, c.at, c.loc, got, c.want)
		}
	}
}

func TestFileSource(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("n", "41\n")
	write("two", "# queue size\n12\n\n")
	write("bad", "lots")
	write("huge", strings.Repeat("x", 200000)+"\n8\n")
	for _, c := range []struct {
		spec, class string
		want        float64
		fragments   []string
	}{
		{"file:" + filepath.Join(dir, "n"), "", 41, nil},
		{"file:two", "", 12, nil}, // relative to SourceOptions.Dir
		{"file:huge", "", 8, nil},
		{"file:bad", MissParse, 0, []string{`"lots"`}},
		{"file:nope", MissOther, 0, []string{"no such file"}},
	} {
		v, err := srcTRead(t, c.spec, SourceOptions{Dir: dir}, time.Second)
		srcTWant(t, c.spec, v, err, c.want, c.class, c.fragments...)
	}
}

func TestLeafSpecErrorsAreClear(t *testing.T) {
	for spec, fragment := range map[string]string{
		"":                                  "empty spec",
		"forty-two":                         "not a number, cmd:",
		"NaN":                               "not a finite number",
		"cmd:   ":                           "command is empty",
		"file:":                             "path is empty",
		"sine:1,2":                          "sine:LOW,HIGH,PERIOD",
		"sine:1,2,0s":                       "positive duration",
		"sine:1,2,20":                       "positive duration",
		"sine:5,2,20s":                      "low 5 is above high 2",
		"sine:low=1,period=1m":              "give both low and high",
		"sine:low=1,mean=2,period=1m":       "not both",
		"square:low=1,high=x,period=1m":     `high "x" is not a finite number`,
		"square:lo=1,high=2,period=1m":      `unknown key "lo"`,
		"square:1,2":                        "square:LOW,HIGH,PERIOD",
		"daily:22-06":                       `"22" is not a time`,
		"daily:22:00":                       "not a window",
		"daily:10:00-10:00":                 "empty",
		"daily:10:00-25:00":                 "past 24:00",
		"daily:10:61-11:00":                 "not a time",
		"daily:tz=Europe/Paris":             "nothing scheduled",
		"daily:22:00-06:00,tz=Mars/Olympus": `unknown time zone "Mars/Olympus"`,
		"weekly:weekend":                    `"weekend" is not a day`,
		"weekly:mo-fr":                      `"mo" is not a day`,
		"expr:1+1":                          "only allowed in --metric",
	} {
		_, err := ParseSource(spec, SourceOptions{})
		if err == nil || !strings.Contains(err.Error(), fragment) {
			t.Errorf("ParseSource(%q) = %v, want an error mentioning %q", spec, err, fragment)
		}
	}
}
