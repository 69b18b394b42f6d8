package loop

// Built-in schedules: sine: and square: waves phased from the unix epoch (every replica
// computes the same value at the same instant), daily: time-of-day windows and weekly:
// day-of-week sets (1 inside, 0 outside).

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // tz= works in images without /usr/share/zoneinfo
)

type srcWave struct {
	square    bool
	low, high float64
	period    time.Duration
	mid, amp  float64
}

// srcNewWave parses "low,high,period" or keywords "low=,high=,period=" / "mean=,amp=,period=".
func srcNewWave(kind, rest string) (Source, error) {
	w := &srcWave{square: kind == "square"}
	parts := strings.Split(rest, ",")
	vals := map[string]string{}
	positional := !strings.Contains(rest, "=")
	if positional {
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s: want %s:LOW,HIGH,PERIOD (e.g. %s:10,50,1h), got %q", kind, kind, kind, rest)
		}
		vals["low"], vals["high"], vals["period"] = parts[0], parts[1], parts[2]
	} else {
		for _, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			switch {
			case !ok:
				return nil, fmt.Errorf("%s: %q is not KEY=VALUE", kind, p)
			case k != "low" && k != "high" && k != "period" && k != "mean" && k != "amp":
				return nil, fmt.Errorf("%s: unknown key %q (want low, high, period, or mean, amp, period)", kind, k)
			}
			vals[k] = v
		}
	}
	num := func(k string, def float64) (float64, error) {
		s, ok := vals[k]
		if !ok {
			return def, nil
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !srcFinite(v) {
			return 0, fmt.Errorf("%s: %s %q is not a finite number", kind, k, s)
		}
		return v, nil
	}
	p, ok := vals["period"]
	if !ok {
		return nil, fmt.Errorf("%s: the period is missing", kind)
	}
	d, err := time.ParseDuration(strings.TrimSpace(p))
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("%s: period %q is not a positive duration like 30s or 1h", kind, p)
	}
	w.period = d
	_, hasLow := vals["low"]
	_, hasHigh := vals["high"]
	_, hasMean := vals["mean"]
	_, hasAmp := vals["amp"]
	switch {
	case (hasLow || hasHigh) && (hasMean || hasAmp):
		return nil, fmt.Errorf("%s: give low and high, or mean and amp, not both", kind)
	case hasMean || hasAmp:
		mean, err := num("mean", 0)
		if err != nil {
			return nil, err
		}
		amp, err := num("amp", 1)
		if err != nil {
			return nil, err
		}
		w.low, w.high = mean-math.Abs(amp), mean+math.Abs(amp)
	default:
		if !hasLow || !hasHigh {
			return nil, fmt.Errorf("%s: give both low and high", kind)
		}
		if w.low, err = num("low", 0); err != nil {
			return nil, err
		}
		if w.high, err = num("high", 0); err != nil {
			return nil, err
		}
		if w.low > w.high {
			return nil, fmt.Errorf("%s: low %v is above high %v", kind, w.low, w.high)
		}
	}
	w.mid, w.amp = (w.low+w.high)/2, (w.high-w.low)/2
	return w, nil
}

// Read returns the value at now. Phase 0 is the unix epoch: a sine starts at the middle
// rising; a square is high for the first half of each period and low for the second.
func (w *srcWave) Read(_ context.Context, now time.Time) (float64, error) {
	p := w.period.Nanoseconds()
	t := ((now.UnixNano() % p) + p) % p
	if w.square {
		if t < p/2 {
			return w.high, nil
		}
		return w.low, nil
	}
	return w.mid + w.amp*math.Sin(2*math.Pi*float64(t)/float64(p)), nil
}

// srcSplitTZ separates "tz=Zone" items from the others.
func srcSplitTZ(kind, rest string, loc *time.Location) ([]string, *time.Location, error) {
	var items []string
	for _, it := range strings.Split(rest, ",") {
		it = strings.TrimSpace(it)
		if name, ok := strings.CutPrefix(it, "tz="); ok {
			l, err := time.LoadLocation(name)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: unknown time zone %q", kind, name)
			}
			loc = l
			continue
		}
		if it != "" {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("%s: nothing scheduled in %q", kind, rest)
	}
	return items, loc, nil
}

// srcDaily is 1 when the local time of day is inside one of the windows.
type srcDaily struct {
	loc     *time.Location
	windows [][2]int // [start, end) in seconds after midnight; start > end wraps midnight
}

// srcNewDaily parses "HH:MM-HH:MM[,HH:MM-HH:MM...][,tz=Zone]".
func srcNewDaily(rest string, loc *time.Location) (Source, error) {
	items, loc, err := srcSplitTZ("daily", rest, loc)
	if err != nil {
		return nil, err
	}
	d := &srcDaily{loc: loc}
	for _, it := range items {
		a, b, ok := strings.Cut(it, "-")
		if !ok {
			return nil, fmt.Errorf("daily: %q is not a window HH:MM-HH:MM", it)
		}
		start, err := srcClockTime(a)
		if err != nil {
			return nil, fmt.Errorf("daily: %w", err)
		}
		end, err := srcClockTime(b)
		if err != nil {
			return nil, fmt.Errorf("daily: %w", err)
		}
		if start == end || start == 24*3600 {
			return nil, fmt.Errorf("daily: window %q is empty", it)
		}
		d.windows = append(d.windows, [2]int{start, end})
	}
	return d, nil
}

// srcClockTime parses "H:MM", "HH:MM" or "HH:MM:SS" (24:00 is the end of the day).
func srcClockTime(s string) (int, error) {
	s = strings.TrimSpace(s)
	f := strings.Split(s, ":")
	if len(f) < 2 || len(f) > 3 {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	var n [3]int
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 || (i > 0 && (v > 59 || len(x) != 2)) {
			return 0, fmt.Errorf("%q is not a time HH:MM", s)
		}
		n[i] = v
	}
	sec := n[0]*3600 + n[1]*60 + n[2]
	if sec > 24*3600 {
		return 0, fmt.Errorf("%q is past 24:00", s)
	}
	return sec, nil
}

func (d *srcDaily) Read(_ context.Context, now time.Time) (float64, error) {
	h, m, s := now.In(d.loc).Clock()
	t := h*3600 + m*60 + s
	for _, w := range d.windows {
		if (w[0] < w[1] && t >= w[0] && t < w[1]) || (w[0] > w[1] && (t >= w[0] || t < w[1])) {
			return 1, nil
		}
	}
	return 0, nil
}

// srcWeekly is 1 on the chosen days of the week.
type srcWeekly struct {
	loc  *time.Location
	days [7]bool // indexed by time.Weekday
}

var srcDayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func srcDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) >= 3 {
		if d, ok := srcDayNames[s[:3]]; ok && strings.HasPrefix(strings.ToLower(d.String()), s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (mon, tue, ... sun)", s)
}

// srcNewWeekly parses "DAY[-DAY][,DAY[-DAY]...][,tz=Zone]"; a range may wrap (fri-mon).
func srcNewWeekly(rest string, loc *time.Location) (Source, error) {
	items, loc, err := srcSplitTZ("weekly", rest, loc)
	if err != nil {
		return nil, err
	}
	w := &srcWeekly{loc: loc}
	for _, it := range items {
		a, b, isRange := strings.Cut(it, "-")
		from, err := srcDay(a)
		if err != nil {
			return nil, fmt.Errorf("weekly: %w", err)
		}
		to := from
		if isRange {
			if to, err = srcDay(b); err != nil {
				return nil, fmt.Errorf("weekly: %w", err)
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			w.days[d] = true
			if d == to {
				break
			}
		}
	}
	return w, nil
}

func (w *srcWeekly) Read(_ context.Context, now time.Time) (float64, error) {
	if w.days[now.In(w.loc).Weekday()] {
		return 1, nil
	}
	return 0, nil
}
