package localmaster

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// resSet is a bag of agent resources: scalars (cpus, mem, disk, gpus, ...) and ranges (ports).
// Scalars are kept at Mesos' fixed-point precision of three decimals.
type resSet struct {
	scalars map[string]float64
	ranges  map[string][]valueRange
}

type valueRange struct{ begin, end uint64 }

func newResSet() resSet {
	return resSet{scalars: map[string]float64{}, ranges: map[string][]valueRange{}}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// parseResources reads "cpus:4;mem:4096;disk:10000;ports:[31000-32000]" and also the
// "cpus=4,mem=4096" form. A role suffix such as "cpus(*):4" is accepted and ignored.
func parseResources(spec string) (resSet, error) {
	rs := newResSet()
	for _, item := range splitOutsideBrackets(spec) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.IndexAny(item, ":=")
		if i <= 0 {
			return rs, fmt.Errorf("resource %q: want name:value", item)
		}
		name, val := strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+1:])
		if p := strings.IndexByte(name, '('); p > 0 {
			name = name[:p]
		}
		if strings.HasPrefix(val, "[") {
			rg, err := parseRanges(val)
			if err != nil {
				return rs, fmt.Errorf("resource %q: %w", name, err)
			}
			rs.ranges[name] = mergeRanges(append(rs.ranges[name], rg...))
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return rs, fmt.Errorf("resource %q: %q is not a non-negative number", name, val)
		}
		rs.scalars[name] = round3(rs.scalars[name] + f)
	}
	return rs, nil
}

func splitOutsideBrackets(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ';', ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseRanges(v string) ([]valueRange, error) {
	if !strings.HasSuffix(v, "]") {
		return nil, fmt.Errorf("ranges %q: missing ]", v)
	}
	var out []valueRange
	for _, part := range strings.Split(v[1:len(v)-1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, ok := strings.Cut(part, "-")
		if !ok {
			hi = lo
		}
		b, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		e, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 64)
		if err1 != nil || err2 != nil || e < b {
			return nil, fmt.Errorf("bad range %q", part)
		}
		out = append(out, valueRange{b, e})
	}
	return out, nil
}

func mergeRanges(in []valueRange) []valueRange {
	if len(in) == 0 {
		return nil
	}
	rs := append([]valueRange(nil), in...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].begin < rs[j].begin })
	out := []valueRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.begin <= last.end+1 {
			if r.end > last.end {
				last.end = r.end
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtractRanges returns a minus b.
func subtractRanges(a, b []valueRange) []valueRange {
	out := append([]valueRange(nil), a...)
	for _, r := range b {
		var next []valueRange
		for _, x := range out {
			if r.end < x.begin || r.begin > x.end {
				next = append(next, x)
				continue
			}
			if r.begin > x.begin {
				next = append(next, valueRange{x.begin, r.begin - 1})
			}
			if r.end < x.end {
				next = append(next, valueRange{r.end + 1, x.end})
			}
		}
		out = next
	}
	return out
}

// rangesContain reports whether a covers every value of b.
func rangesContain(a, b []valueRange) bool { return len(subtractRanges(b, a)) == 0 }

func (r resSet) clone() resSet {
	c := newResSet()
	for k, v := range r.scalars {
		c.scalars[k] = v
	}
	for k, v := range r.ranges {
		c.ranges[k] = append([]valueRange(nil), v...)
	}
	return c
}

func (r resSet) add(o resSet) resSet {
	c := r.clone()
	for k, v := range o.scalars {
		c.scalars[k] = round3(c.scalars[k] + v)
	}
	for k, v := range o.ranges {
		c.ranges[k] = mergeRanges(append(c.ranges[k], v...))
	}
	return c
}

// addIn adds o to r in place, without merging ranges (see merged): summing many task
// resources this way allocates nothing per task.
func (r resSet) addIn(o resSet) {
	for k, v := range o.scalars {
		r.scalars[k] = round3(r.scalars[k] + v)
	}
	for k, v := range o.ranges {
		r.ranges[k] = append(r.ranges[k], v...)
	}
}

// merged returns r with its ranges merged (after addIn).
func (r resSet) merged() resSet {
	for k, v := range r.ranges {
		r.ranges[k] = mergeRanges(v)
	}
	return r
}

// sub returns r minus o, never below zero.
func (r resSet) sub(o resSet) resSet {
	c := r.clone()
	for k, v := range o.scalars {
		c.scalars[k] = math.Max(0, round3(c.scalars[k]-v))
	}
	for k, v := range o.ranges {
		c.ranges[k] = subtractRanges(c.ranges[k], v)
	}
	return c
}

// contains reports whether r holds at least o.
func (r resSet) contains(o resSet) bool {
	for k, v := range o.scalars {
		if round3(r.scalars[k]-v) < 0 {
			return false
		}
	}
	for k, v := range o.ranges {
		if !rangesContain(r.ranges[k], v) {
			return false
		}
	}
	return true
}

func (r resSet) empty() bool {
	for _, v := range r.scalars {
		if v > 0 {
			return false
		}
	}
	for _, v := range r.ranges {
		if len(v) > 0 {
			return false
		}
	}
	return true
}

// allocatable mirrors Mesos' default --min_allocatable_resources (cpus:0.01|mem:32).
func (r resSet) allocatable() bool { return r.scalars["cpus"] >= 0.01 || r.scalars["mem"] >= 32 }

func (r resSet) String() string {
	var parts []string
	for _, k := range sortedKeys(r.scalars) {
		parts = append(parts, fmt.Sprintf("%s:%s", k, strconv.FormatFloat(r.scalars[k], 'f', -1, 64)))
	}
	names := make([]string, 0, len(r.ranges))
	for k := range r.ranges {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if len(r.ranges[k]) > 0 {
			parts = append(parts, k+":"+rangesString(r.ranges[k]))
		}
	}
	return strings.Join(parts, ";")
}

func rangesString(rs []valueRange) string {
	s := make([]string, len(rs))
	for i, x := range rs {
		s[i] = fmt.Sprintf("%d-%d", x.begin, x.end)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fromProto sums Mesos resources by name; roles, reservations and allocation info are ignored
// (the embedded agent has one unreserved pool).
func fromProto(rs []mesos.Resource) resSet {
	out := newResSet()
	for _, r := range rs {
		switch {
		case r.Scalar != nil:
			out.scalars[r.Name] = round3(out.scalars[r.Name] + r.Scalar.Value)
		case r.Ranges != nil:
			var vr []valueRange
			for _, x := range r.Ranges.Range {
				vr = append(vr, valueRange{x.Begin, x.End})
			}
			out.ranges[r.Name] = mergeRanges(append(out.ranges[r.Name], vr...))
		}
	}
	return out
}

// toProto renders the set as offer resources: ports first, then the scalars in the order
// Mesos itself prints them (cpus, mem, disk, then the rest by name).
func (r resSet) toProto(allocRole string) []mesos.Resource {
	var out []mesos.Resource
	star := "*"
	alloc := func() *mesos.Resource_AllocationInfo {
		if allocRole == "" {
			return nil
		}
		role := allocRole
		return &mesos.Resource_AllocationInfo{Role: &role}
	}
	names := make([]string, 0, len(r.ranges))
	for k := range r.ranges {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if len(r.ranges[k]) == 0 {
			continue
		}
		t := mesos.RANGES
		vr := &mesos.Value_Ranges{}
		for _, x := range r.ranges[k] {
			vr.Range = append(vr.Range, mesos.Value_Range{Begin: x.begin, End: x.end})
		}
		role := star
		out = append(out, mesos.Resource{Name: k, Type: &t, Ranges: vr, Role: &role, AllocationInfo: alloc()})
	}
	order := []string{"cpus", "mem", "disk"}
	for _, k := range sortedKeys(r.scalars) {
		if k != "cpus" && k != "mem" && k != "disk" {
			order = append(order, k)
		}
	}
	for _, k := range order {
		v, ok := r.scalars[k]
		if !ok || v <= 0 {
			continue
		}
		t := mesos.SCALAR
		role := star
		out = append(out, mesos.Resource{Name: k, Type: &t, Scalar: &mesos.Value_Scalar{Value: v}, Role: &role, AllocationInfo: alloc()})
	}
	return out
}

// amounts renders scalars for /state, with ranges as their count of values under the same name.
func (r resSet) amounts() map[string]float64 {
	out := map[string]float64{}
	for k, v := range r.scalars {
		out[k] = v
	}
	for k, v := range r.ranges {
		n := 0.0
		for _, x := range v {
			n += float64(x.end - x.begin + 1)
		}
		out[k] = n
	}
	return out
}
