package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"

	"github.com/relay-mesos/relay-mesos/loop"
)

// ErrScenario is wrapped by every error about a malformed scenario file.
var ErrScenario = errors.New("scenario")

// Scenario is one parsed and validated scenario file, defaults filled in.
type Scenario struct {
	// Name is the file's base name without .json (set by Load).
	Name   string
	Ticks  int
	Target Target
	Plant  PlantSpec
	Supply Supply
	Relay  RelaySpec
	// Controller is the project's controller config: loop.DefaultConfig() overlaid with the
	// file's "controller" object, HasWarmer/HasCooler from the relay object.
	Controller loop.Config
}

// Target is the set point schedule.
type Target struct {
	Type   string       // constant, steps, list, sine, square
	Value  float64      // constant
	Steps  [][2]float64 // steps: [start, value]
	Values []float64    // list
	Mean   float64      // sine
	Amp    float64      // sine
	Period float64      // sine, square
	Low    float64      // square
	High   float64      // square
}

// At returns the set point at tick t.
func (g *Target) At(t int) float64 {
	switch g.Type {
	case "steps":
		v := 0.0
		for _, s := range g.Steps {
			if s[0] <= float64(t) {
				v = s[1]
			}
		}
		return v
	case "list":
		return g.Values[min(t, len(g.Values)-1)]
	case "sine":
		return g.Mean + g.Amp*math.Sin(2*math.Pi*float64(t)/g.Period)
	case "square":
		p := int(g.Period)
		if t%p < p/2 {
			return g.High
		}
		return g.Low
	default:
		return g.Value
	}
}

// stepwise reports whether the target only changes by steps (not a continuous sine).
func (g *Target) stepwise() bool { return g.Type != "sine" }

// PlantSpec describes the simulated plant.
type PlantSpec struct {
	Type    string  // queue or tasks
	Initial float64 // q (queue) or forever-running tasks (tasks)
	Lag     int     // lag_ticks, at least 1
	// queue
	Arrival     float64 // arrival_per_tick
	ItemsPerRun float64 // items_per_run k
	Life        int     // run_lifetime_ticks
	MetricSign  float64 // metric_sign
	Offset      float64 // metric_offset
	// tasks
	Duration int // task_duration_ticks d
	// arrivalAt, when set (by tests only: the file format has no time-varying arrival),
	// replaces Arrival with an arrival that changes with the tick.
	arrivalAt func(t int) float64
	// noiseAt, when set (by tests only), is added to the metric read at tick t (a queue's
	// length sampled between the producer's and the consumers' steps); the plant is unchanged.
	noiseAt func(t int) float64
	// holdEvery, when above 1 (set by tests only), has the metric read refreshed only every
	// holdEvery ticks (a Prometheus series scraped less often than it is read): between
	// refreshes the controller reads the last refreshed value; the rows hold the true metric.
	holdEvery int
}

// responseTicks is the plant's response time: the ticks from a grant to the tick its effect is
// complete (a task counted from its start; a queue worker's draining builds up over its life).
func (p *PlantSpec) responseTicks() int {
	r := max(p.Lag, 1)
	if p.Type == "queue" {
		r += max(p.Life, 1) - 1
	}
	return r
}

// Supply is what the cluster grants.
type Supply struct {
	// MaxPerTick caps the units granted per tick; negative means no cap.
	MaxPerTick int
	// Starved windows [start, end): nothing is granted.
	Starved [][2]int
}

// starved reports whether tick t is inside a starved window.
func (s *Supply) starved(t int) bool {
	for _, w := range s.Starved {
		if t >= w[0] && t < w[1] {
			return true
		}
	}
	return false
}

// available reports whether the cluster grants anything at tick t.
func (s *Supply) available(t int) bool { return s.MaxPerTick != 0 && !s.starved(t) }

// grant returns what the supply grants of a request at tick t: warmers first, then coolers,
// together within the cap.
func (s *Supply) grant(t, warmers, coolers int) (int, int) {
	if s.starved(t) {
		return 0, 0
	}
	if s.MaxPerTick >= 0 {
		warmers = min(warmers, s.MaxPerTick)
		coolers = min(coolers, s.MaxPerTick-warmers)
	}
	return warmers, coolers
}

// RelaySpec is the original Relay's settings; Warmer and Cooler also say which actions exist.
type RelaySpec struct {
	Lookback int
	Ramp     int
	Warmer   bool
	Cooler   bool
}

// Load reads and parses a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScenario, err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	s.Name = strings.TrimSuffix(base, ".json")
	return s, nil
}

// The file's shape: pointers tell a missing field from a zero.
// Each object is decoded on its own so that an unknown or mistyped field is named with its path.
type fileScenario struct {
	Ticks      *int            `json:"ticks"`
	Target     json.RawMessage `json:"target"`
	Plant      json.RawMessage `json:"plant"`
	Supply     json.RawMessage `json:"supply"`
	Relay      json.RawMessage `json:"relay"`
	Controller json.RawMessage `json:"controller"`
}

// decodeObject decodes an optional sub-object into *dst (left nil when absent or null).
func decodeObject[T any](raw json.RawMessage, name string, dst **T) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	*dst = new(T)
	return strictDecode(raw, *dst, name)
}

type fileTarget struct {
	Type   *string     `json:"type"`
	Value  *float64    `json:"value"`
	Steps  [][]float64 `json:"steps"`
	Values []float64   `json:"values"`
	Mean   *float64    `json:"mean"`
	Amp    *float64    `json:"amp"`
	Period *float64    `json:"period"`
	Low    *float64    `json:"low"`
	High   *float64    `json:"high"`
}

type filePlant struct {
	Type        *string  `json:"type"`
	Initial     *float64 `json:"initial"`
	Arrival     *float64 `json:"arrival_per_tick"`
	ItemsPerRun *float64 `json:"items_per_run"`
	Life        *int     `json:"run_lifetime_ticks"`
	Lag         *int     `json:"lag_ticks"`
	MetricSign  *float64 `json:"metric_sign"`
	Offset      *float64 `json:"metric_offset"`
	Duration    *int     `json:"task_duration_ticks"`
}

type fileSupply struct {
	MaxPerTick *int    `json:"max_units_per_tick"`
	Starved    [][]int `json:"starved"`
}

type fileRelay struct {
	Lookback *int  `json:"lookback"`
	Ramp     *int  `json:"ramp"`
	Warmer   *bool `json:"warmer"`
	Cooler   *bool `json:"cooler"`
}

// fieldError is a one-line error naming the field.
func fieldError(field, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrScenario, field, fmt.Sprintf(format, a...))
}

func strictDecode(b []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, prefix)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrScenario)
	}
	return nil
}

// jsonError turns a decoding error into one naming the field where it can.
func jsonError(err error, prefix string) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		f := te.Field
		switch {
		case f == "" && prefix == "":
			f = "scenario"
		case f == "":
			f = prefix
		case prefix != "":
			f = prefix + "." + f
		}
		want := te.Type.String()
		if te.Type.Kind() == reflect.Struct {
			want = "an object"
		}
		return fieldError(f, "expected %s, got JSON %s", want, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("%w: invalid JSON at byte %d: %v", ErrScenario, se.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if prefix != "" {
			f = prefix + "." + f
		}
		return fieldError(f, "unknown field")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: invalid JSON: unexpected end of the file", ErrScenario)
	}
	return fmt.Errorf("%w: invalid JSON: %v", ErrScenario, err)
}

// Parse parses and validates a scenario. Every error wraps ErrScenario and names the field.
func Parse(b []byte) (*Scenario, error) {
	var f fileScenario
	if err := strictDecode(b, &f, ""); err != nil {
		return nil, err
	}
	s := &Scenario{Ticks: 100}
	if f.Ticks != nil {
		s.Ticks = *f.Ticks
	}
	if s.Ticks <= 0 || s.Ticks > 10_000_000 {
		return nil, fieldError("ticks", "must be in 1..10000000, got %d", s.Ticks)
	}
	var (
		ft *fileTarget
		fp *filePlant
		fs *fileSupply
		fr *fileRelay
	)
	for _, err := range []error{
		decodeObject(f.Target, "target", &ft), decodeObject(f.Plant, "plant", &fp),
		decodeObject(f.Supply, "supply", &fs), decodeObject(f.Relay, "relay", &fr),
	} {
		if err != nil {
			return nil, err
		}
	}
	var err error
	if s.Target, err = parseTarget(ft); err != nil {
		return nil, err
	}
	if s.Plant, err = parsePlant(fp); err != nil {
		return nil, err
	}
	if s.Supply, err = parseSupply(fs); err != nil {
		return nil, err
	}
	if s.Relay, err = parseRelay(fr); err != nil {
		return nil, err
	}
	cfg := loop.DefaultConfig()
	if len(f.Controller) > 0 && string(f.Controller) != "null" {
		if err := strictDecode(f.Controller, &cfg, "controller"); err != nil {
			return nil, err
		}
	}
	cfg.HasWarmer, cfg.HasCooler = s.Relay.Warmer, s.Relay.Cooler
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: controller: %v", ErrScenario, err)
	}
	s.Controller = cfg
	return s, nil
}

func finiteAll(vs ...*float64) bool {
	for _, v := range vs {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			return false
		}
	}
	return true
}

func parseTarget(f *fileTarget) (Target, error) {
	g := Target{Type: "constant", Period: 100, Amp: 1}
	if f == nil {
		return g, nil
	}
	if f.Type != nil {
		g.Type = *f.Type
	}
	set := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	set(&g.Value, f.Value)
	set(&g.Mean, f.Mean)
	set(&g.Amp, f.Amp)
	set(&g.Period, f.Period)
	set(&g.Low, f.Low)
	set(&g.High, f.High)
	switch g.Type {
	case "constant":
	case "steps":
		if f.Steps == nil {
			return g, fieldError("target.steps", "required for type steps")
		}
		for i, st := range f.Steps {
			if len(st) != 2 {
				return g, fieldError(fmt.Sprintf("target.steps[%d]", i), "must be [start, value], got %d numbers", len(st))
			}
			if st[0] != math.Trunc(st[0]) || st[0] < 0 {
				return g, fieldError(fmt.Sprintf("target.steps[%d]", i), "start must be a tick >= 0, got %v", st[0])
			}
			g.Steps = append(g.Steps, [2]float64{st[0], st[1]})
		}
	case "list":
		if len(f.Values) == 0 {
			return g, fieldError("target.values", "required and non-empty for type list")
		}
		g.Values = f.Values
	case "sine":
		if !(g.Period > 0) {
			return g, fieldError("target.period", "must be > 0, got %v", g.Period)
		}
	case "square":
		if f.Low == nil || f.High == nil {
			return g, fieldError("target.low", "square needs low and high")
		}
		if g.Period != math.Trunc(g.Period) || g.Period < 2 {
			return g, fieldError("target.period", "must be a whole number of ticks >= 2, got %v", g.Period)
		}
	default:
		return g, fieldError("target.type", "must be constant, steps, list, sine or square, got %q", g.Type)
	}
	if !finiteAll(f.Value, f.Mean, f.Amp, f.Period, f.Low, f.High) {
		return g, fieldError("target", "numbers must be finite")
	}
	return g, nil
}

func parsePlant(f *filePlant) (PlantSpec, error) {
	p := PlantSpec{Lag: 1, ItemsPerRun: 1, Life: 1, MetricSign: -1, Duration: 10}
	if f == nil {
		return p, fieldError("plant", "required")
	}
	if f.Type == nil {
		return p, fieldError("plant.type", "required (queue or tasks)")
	}
	p.Type = *f.Type
	if f.Initial != nil {
		p.Initial = *f.Initial
	}
	if f.Lag != nil {
		if *f.Lag < 0 || *f.Lag > 100_000 {
			return p, fieldError("plant.lag_ticks", "must be in 0..100000, got %d", *f.Lag)
		}
		p.Lag = max(*f.Lag, 1) // FORMAT: minimum 1
	}
	switch p.Type {
	case "queue":
		if f.Duration != nil {
			return p, fieldError("plant.task_duration_ticks", "is for tasks plants, not queue")
		}
		if f.Arrival != nil {
			p.Arrival = *f.Arrival
		}
		if f.ItemsPerRun != nil {
			p.ItemsPerRun = *f.ItemsPerRun
		}
		if f.Life != nil {
			p.Life = *f.Life
		}
		if f.MetricSign != nil {
			p.MetricSign = *f.MetricSign
		}
		if f.Offset != nil {
			p.Offset = *f.Offset
		}
		switch {
		case !finiteAll(f.Initial, f.Arrival, f.ItemsPerRun, f.MetricSign, f.Offset):
			return p, fieldError("plant", "numbers must be finite")
		case p.Initial < 0:
			return p, fieldError("plant.initial", "must be >= 0, got %v", p.Initial)
		case p.Arrival < 0:
			return p, fieldError("plant.arrival_per_tick", "must be >= 0, got %v", p.Arrival)
		case p.ItemsPerRun <= 0:
			return p, fieldError("plant.items_per_run", "must be > 0, got %v", p.ItemsPerRun)
		case p.Life < 1 || p.Life > 100_000:
			return p, fieldError("plant.run_lifetime_ticks", "must be in 1..100000, got %d", p.Life)
		case p.MetricSign == 0:
			return p, fieldError("plant.metric_sign", "must not be 0")
		}
	case "tasks":
		for name, v := range map[string]bool{
			"arrival_per_tick": f.Arrival != nil, "items_per_run": f.ItemsPerRun != nil,
			"run_lifetime_ticks": f.Life != nil, "metric_sign": f.MetricSign != nil, "metric_offset": f.Offset != nil,
		} {
			if v {
				return p, fieldError("plant."+name, "is for queue plants, not tasks")
			}
		}
		if f.Duration != nil {
			p.Duration = *f.Duration
		}
		switch {
		case !finiteAll(f.Initial):
			return p, fieldError("plant.initial", "must be finite")
		case p.Initial < 0 || p.Initial != math.Trunc(p.Initial) || p.Initial > 1e6:
			return p, fieldError("plant.initial", "must be a whole number of tasks in 0..1000000, got %v", p.Initial)
		case p.Duration < 1 || p.Duration > 100_000:
			return p, fieldError("plant.task_duration_ticks", "must be in 1..100000, got %d", p.Duration)
		}
	default:
		return p, fieldError("plant.type", "must be queue or tasks, got %q", p.Type)
	}
	return p, nil
}

func parseSupply(f *fileSupply) (Supply, error) {
	s := Supply{MaxPerTick: -1}
	if f == nil {
		return s, nil
	}
	if f.MaxPerTick != nil {
		if *f.MaxPerTick < 0 {
			return s, fieldError("supply.max_units_per_tick", "must be >= 0 or null, got %d", *f.MaxPerTick)
		}
		s.MaxPerTick = *f.MaxPerTick
	}
	for i, w := range f.Starved {
		if len(w) != 2 || w[0] < 0 || w[1] < w[0] {
			return s, fieldError(fmt.Sprintf("supply.starved[%d]", i), "must be [start, end) with 0 <= start <= end, got %v", w)
		}
		s.Starved = append(s.Starved, [2]int{w[0], w[1]})
	}
	return s, nil
}

func parseRelay(f *fileRelay) (RelaySpec, error) {
	r := RelaySpec{Lookback: 1000, Ramp: 1, Warmer: true}
	if f == nil {
		return r, nil
	}
	if f.Lookback != nil {
		r.Lookback = *f.Lookback
	}
	if f.Ramp != nil {
		r.Ramp = *f.Ramp
	}
	if f.Warmer != nil {
		r.Warmer = *f.Warmer
	}
	if f.Cooler != nil {
		r.Cooler = *f.Cooler
	}
	switch {
	case r.Lookback < 1 || r.Lookback > 100_000:
		return r, fieldError("relay.lookback", "must be in 1..100000, got %d", r.Lookback)
	case r.Ramp < 0:
		return r, fieldError("relay.ramp", "must be >= 0, got %d", r.Ramp)
	case !r.Warmer && !r.Cooler:
		return r, fieldError("relay.warmer", "a warmer or a cooler must exist (relay.warmer or relay.cooler true)")
	}
	return r, nil
}
