package loop

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFloorDivisionAndModuloAreLikePython(t *testing.T) {
	for _, c := range []struct{ a, b, div, mod float64 }{
		// Python: -7 // 2 == -4, -7 % 2 == 1
		{7, 2, 3, 1},
		{-7, 2, -4, 1},
		{7, -2, -4, -1},
		{-7, -2, 3, -1},
		{7.5, 2, 3, 1.5},
		{-0.5, 1, -1, 0.5},
		{6, 3, 2, 0},
		{1, 0.1, 9, 0.09999999999999995}, // 1 // 0.1 == 9.0 in Python (0.1 is a bit above 1/10)
	} {
		if got := srcFloorDiv(c.a, c.b); got != c.div {
			t.Errorf("%v // %v = %v, want %v", c.a, c.b, got, c.div)
		}
		if got := srcMod(c.a, c.b); math.Abs(got-c.mod) > 1e-12 {
			t.Errorf("%v %% %v = %v, want %v", c.a, c.b, got, c.mod)
		}
	}
}

func TestFloorDivisionRewriteSkipsStringsAndComments(t *testing.T) {
	for _, c := range []struct {
		in, out string
		at      []int
	}{
		{"a // b", "a /  b", []int{2}},
		{"a//b//c", "a/ b/ c", []int{1, 4}},
		{"a / b", "a / b", nil},
		{`mean("x//y", 2) // 2`, `mean("x//y", 2) /  2`, []int{16}},
		{`'it\'s // no' + a//b`, `'it\'s // no' + a/ b`, []int{17}},
		{"a /* // */ / b", "a /* // */ / b", nil},
		{"é // 2", "é /  2", []int{2}}, // offsets count runes, as expr's lexer does
	} {
		out, at := srcRewriteFloorDiv(c.in)
		if out != c.out || len(at) != len(c.at) {
			t.Errorf("rewrite(%q) = %q %v, want %q %v", c.in, out, at, c.out, c.at)
			continue
		}
		for _, i := range c.at {
			if !at[i] {
				t.Errorf("rewrite(%q): no floor division at %d (got %v)", c.in, i, at)
			}
		}
	}
}

// srcTConsts are named constant sources for expression tests.
var srcTConsts = []string{"qsize=30", "qmin=10", "qmax=110", "imin=1", "imax=11", "qmean=40", "qstdev=4",
	"neg=-7", "two=2", "zero=0", "max_consumers=8", "is_night=daily:22:00-06:00,tz=UTC"}

func TestExpressionsComputeWhatTheyLookLike(t *testing.T) {
	night := time.Date(2026, 1, 3, 23, 15, 30, 0, time.UTC) // a Saturday
	noon := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)    // a Monday
	for _, c := range []struct {
		expr string
		at   time.Time
		want float64
	}{
		// README: (30-10)/(110-10)*(11-1)+1 = 0.2*10+1 = 3
		{"(qsize - qmin) / (qmax - qmin) * (imax - imin) + imin", noon, 3},
		// README: (30-40) // 4 = floor(-2.5) = -3
		{"(qsize - qmean) // qstdev", noon, -3},
		{"neg // two", noon, -4},
		{"neg / two", noon, -3.5},
		{"neg % two", noon, 1},
		{"7 // 2 + 1", noon, 4}, // same precedence as /, above +
		{"2 * qsize // 7", noon, 8},
		{"min(qsize, qmin, 20) + max(neg, two)", noon, 12},
		{"clamp(qsize, 0, 25) + clamp(neg, 0, 25) + clamp(15, 0, 25)", noon, 40},
		{"abs(neg) + floor(2.7) + ceil(2.1) + round(2.5)", noon, 7 + 2 + 3 + 3},
		{"two ** 3 - two ^ 2", noon, 4},
		{"qsize > qmin", noon, 1}, // a boolean is 1 or 0
		{"qsize > qmax ? 1 : -1", noon, -1},
		{"max_consumers * is_night", night, 8},
		{"max_consumers * is_night", noon, 0},
		{"hour * 100 + minute + second / 100", night, 2315.3},
		{"weekday", night, 6}, // Saturday (Sunday is 0)
		{"day + month * 100", night, 103},
		{"now_unix", night, float64(night.Unix())},
		{"(hour >= 22 || hour < 6) ? max_consumers : 1", night, 8},
		{"qsize /* the queue */ // 7", noon, 4},
	} {
		s := srcTParse(t, "expr:"+c.expr, "0", srcTConsts, SourceOptions{Location: time.UTC})
		m, _ := s.Read(context.Background(), c.at)
		if !m.OK || math.Abs(m.Value-c.want) > 1e-9 {
			st, _ := s.Status().Get("metric")
			t.Errorf("%s = %+v (%s), want %v", c.expr, m, st.LastError, c.want)
		}
	}
}

func TestExpressionMisses(t *testing.T) {
	named := append([]string{"fails=cmd:exit 4", "nofile=file:/nonexistent/relay", "neg_one=-1"}, srcTConsts...)
	for _, c := range []struct {
		expr, class, fragment string
	}{
		{"qsize / zero", MissInvalid, "division by zero"},
		{"qsize // zero", MissInvalid, "floor division by zero"},
		{"qsize % zero", MissInvalid, "modulo by zero"},
		{"neg_one ** 0.5", MissInvalid, "NaN"},
		{"10 ** 400", MissInvalid, "Inf"},
		{"clamp(qsize, 5, 1)", MissInvalid, "low 5 is above high 1"},
		{"fails + nofile", MissCommand, "input fails missed"}, // class of the first missing input
		{"nofile + fails", MissOther, "input nofile missed"},
		{"qsize + mean(fails, 3)", MissCommand, "input fails missed"},
	} {
		s := srcTParse(t, "expr:"+c.expr, "0", named, SourceOptions{})
		m, _ := s.Read(context.Background(), time.Now())
		st, _ := s.Status().Get("metric")
		if m.OK || st.LastClass != c.class || !strings.Contains(st.LastError, c.fragment) {
			t.Errorf("%s = %+v, class %q error %q; want a %s miss mentioning %q", c.expr, m, st.LastClass, st.LastError, c.class, c.fragment)
		}
	}
}

func TestMeanAndStdevOverTheLastGoodReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q")
	s := srcTParse(t, "expr:mean(q, 3)", "expr:stdev(q, 3)", []string{"q=file:" + path,
		"z=expr:(q - mean(q, 3)) // stdev(q, 3)"}, SourceOptions{})
	z, err := ParseSources("expr:z", "expr:stdev(q, 1000)", []string{"q=file:" + path,
		"z=expr:(q - mean(q, 3)) // stdev(q, 3)"}, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Reads: 1, 2, (missing: not counted), 3, 4, 12
	for i, c := range []struct {
		write      string // "" removes the file (a miss)
		mean, sd   float64
		okM, okS   bool
		zv         float64
		zOK        bool
		wantWindow string
	}{
		{"1", 1, 0, true, false, 0, false, "1 read: stdev needs 2"},
		{"2", 1.5, math.Sqrt(0.5), true, true, 0, true, "(2-1.5)//0.707 = 0"},
		{"", 0, 0, false, false, 0, false, "a miss is a miss of everything using q"},
		{"3", 2, 1, true, true, 1, true, "window 1,2,3: (3-2)//1 = 1"},
		{"4", 3, 1, true, true, 1, true, "window 2,3,4"},
		{"12", 19.0 / 3, math.Sqrt(((4-19.0/3)*(4-19.0/3) + (12-19.0/3)*(12-19.0/3) + (3-19.0/3)*(3-19.0/3)) / 2), true, true, 1, true, "window 3,4,12"},
	} {
		if c.write == "" {
			_ = os.Remove(path)
		} else if err := os.WriteFile(path, []byte(c.write), 0o600); err != nil {
			t.Fatal(err)
		}
		now := time.Unix(int64(1000+i), 0)
		m, sd := s.Read(context.Background(), now)
		zm, _ := z.Read(context.Background(), now)
		if m.OK != c.okM || sd.OK != c.okS || (m.OK && math.Abs(m.Value-c.mean) > 1e-9) || (sd.OK && math.Abs(sd.Value-c.sd) > 1e-9) {
			t.Errorf("read %d (%s): mean %+v stdev %+v, want %v/%v %v/%v", i, c.wantWindow, m, sd, c.mean, c.okM, c.sd, c.okS)
		}
		if zm.OK != c.zOK || (zm.OK && zm.Value != c.zv) {
			t.Errorf("read %d (%s): z %+v, want %v/%v", i, c.wantWindow, zm, c.zv, c.zOK)
		}
	}
	if st, _ := s.Status().Get("target"); st.LastClass != MissOther || !strings.Contains(st.LastError, "input q missed") {
		t.Errorf("stdev's last miss: %q %q", st.LastClass, st.LastError)
	}
	// The window holds what the largest n asks for, no more.
	if got := len(z.byName["q"].win.buf); got != 1000 {
		t.Errorf("window of q holds %d values, want 1000", got)
	}
	if got := len(s.byName["q"].win.buf); got != 3 {
		t.Errorf("window of q holds %d values, want 3", got)
	}
}

func TestExpressionSpecErrorsNameTheEntry(t *testing.T) {
	for _, c := range []struct {
		metric, target string
		named          []string
		fragments      []string
	}{
		{"expr:qsize + nope", "1", []string{"qsize=1"}, []string{"--metric: invalid source spec: expr: unknown name nope"}},
		{"1", "expr:", nil, []string{"--target: invalid source spec: expr: the expression is empty"}},
		{"1", "expr:(1 + ", nil, []string{"--target: invalid source spec: expr:"}},
		{"expr:a", "1", []string{"a=expr:b + 1", "b=expr:a * 2"}, []string{"--source a", "cycle: metric -> a -> b -> a"}},
		{"1", "1", []string{"a=expr:a"}, []string{"--source a", "cycle: a -> a"}},
		{"expr:mean(q, n)", "1", []string{"q=1", "n=3"}, []string{"--metric", "n must be a whole number from 1 to 10000"}},
		{"expr:mean(q, 0)", "1", []string{"q=1"}, []string{"n must be a whole number"}},
		{"expr:stdev(q, 20000)", "1", []string{"q=1"}, []string{"n must be a whole number"}},
		{"expr:mean(hour, 3)", "1", nil, []string{"must name a --source entry"}},
		{"expr:mean(q)", "1", []string{"q=1"}, []string{"mean takes (source, n)"}},
		{`expr:"text"`, "1", nil, []string{"gives a string, want a number"}},
		{"expr:now()", "1", nil, []string{"--metric", "expr:"}},
		{"1", "1", []string{"q=cmd:"}, []string{"--source q: invalid source spec: cmd: the command is empty"}},
		{"1", "1", []string{"qsize"}, []string{`--source "qsize"`, "NAME=SPEC"}},
		{"1", "1", []string{"q=1", "q=2"}, []string{"--source q", "defined twice"}},
		{"1", "1", []string{"1q=1"}, []string{"--source 1q", "letters, digits and _"}},
		{"1", "1", []string{"hour=1"}, []string{"--source hour", "reserved"}},
		{"1", "1", []string{"len=1"}, []string{"--source len", "reserved"}},
		{"1", "1", []string{"metric=1"}, []string{"--source metric", "reserved"}},
		{"", "1", nil, []string{"--metric: invalid source spec: empty spec"}},
		{"1", "bogus", nil, []string{"--target: invalid source spec:", `"bogus" is not a number`}},
	} {
		_, err := ParseSources(c.metric, c.target, c.named, SourceOptions{})
		for _, f := range c.fragments {
			if err == nil || !strings.Contains(err.Error(), f) {
				t.Errorf("ParseSources(%q, %q, %q) = %v, want an error mentioning %q", c.metric, c.target, c.named, err, f)
			}
		}
	}
}

func TestWindowRingKeepsTheNewestOldestFirst(t *testing.T) {
	var r srcRing
	r.push(1) // no window: nothing kept
	if got := r.last(5); len(got) != 0 {
		t.Fatalf("empty ring gave %v", got)
	}
	r.grow(3)
	for i := 1; i <= 5; i++ {
		r.push(float64(i))
	}
	got := ""
	for _, v := range r.last(10) {
		got += strconv.FormatFloat(v, 'f', -1, 64) + " "
	}
	if got != "3 4 5 " {
		t.Errorf("last(10) = %q, want 3 4 5", got)
	}
}

// FuzzSourceExpr: any expression text either fails to parse with a spec error or reads as
// a finite number or a classified miss; the // rewrite never moves a character.
func FuzzSourceExpr(f *testing.F) {
	for _, seed := range []string{"(qsize - qmin) / (qmax - qmin) * (imax - imin) + imin", "(qsize - qmean) // qstdev",
		"mean(qsize, 3) // 0", `"a//b"`, "a /* // */ b", "'\\'' // 2", "clamp(neg, 1, 0)", "qsize ** 1e6", "`x` + 1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		out, _ := srcRewriteFloorDiv(text)
		if len([]rune(out)) != len([]rune(text)) {
			t.Fatalf("rewrite changed the length: %q -> %q", text, out)
		}
		s, err := ParseSources("expr:"+text, "0", srcTConsts, SourceOptions{})
		if err != nil {
			if !errors.Is(err, ErrSourceSpec) {
				t.Fatalf("error without ErrSourceSpec: %v", err)
			}
			return
		}
		m, _ := s.Read(context.Background(), time.Unix(0, 0))
		st, _ := s.Status().Get("metric")
		if m.OK && !srcFinite(m.Value) || !m.OK && st.LastClass == "" {
			t.Fatalf("%q: %+v %+v", text, m, st)
		}
	})
}
