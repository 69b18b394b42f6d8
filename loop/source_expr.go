package loop

// expr: sources: arithmetic over named sources, compiled with github.com/expr-lang/expr.
// Before compiling, Python's floor division "a // b" is rewritten (expr reads "//" as a
// comment), and every "/", "//" and "%" becomes a call that refuses a zero divisor.

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm"
)

// SourceMaxWindow bounds n in mean(name, n) and stdev(name, n).
const SourceMaxWindow = 10000

// srcTimeVars are the built-in variables of expressions, computed from the tick's time.
var srcTimeVars = []string{"now_unix", "hour", "minute", "second", "weekday", "day", "month"}

// srcFuncs are the functions we add (div, floordiv and mod are what /, // and % become).
var srcFuncs = []string{"clamp", "mean", "stdev", "div", "floordiv", "mod"}

var srcNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// srcCheckName says why name cannot name a --source entry, or nil.
func srcCheckName(name string) error {
	if !srcNameRE.MatchString(name) {
		return fmt.Errorf("name %q must be letters, digits and _ and not start with a digit", name)
	}
	reserved := slices.Contains(srcTimeVars, name) || slices.Contains(srcFuncs, name) ||
		slices.Contains([]string{"metric", "target", "and", "or", "not", "in", "matches", "contains",
			"startsWith", "endsWith", "let", "if", "else", "nil", "true", "false"}, name)
	if _, ok := builtin.Index[name]; ok || reserved {
		return fmt.Errorf("name %q is reserved (a built-in of expr: specs)", name)
	}
	return nil
}

// srcExpr is a compiled expression.
type srcExpr struct {
	text string
	prog *vm.Program
	deps []string       // named sources read, in order of first appearance
	wins map[string]int // named source -> longest mean/stdev window asked for
}

// srcWindowFunc returns up to the last n good reads of a named source, oldest first.
type srcWindowFunc func(name string, n int) []float64

// srcCompileExpr compiles text; names are the --source entries (each a float variable,
// any other name fails to compile).
func srcCompileExpr(text string, names []string, window srcWindowFunc) (*srcExpr, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("expr: the expression is empty")
	}
	rewritten, floorAt := srcRewriteFloorDiv(text)
	env := map[string]any{}
	for _, v := range srcTimeVars {
		env[v] = 0.0
	}
	for _, n := range names {
		env[n] = 0.0
	}
	known := func(n string) bool { return slices.Contains(names, n) }
	v := &srcExprVisitor{floorAt: floorAt, known: known, wins: map[string]int{}}
	prog, err := expr.Compile(rewritten,
		expr.Env(env), expr.Patch(v), expr.DisableBuiltin("now"),
		expr.Function("div", srcArith(func(a, b float64) float64 { return a / b }, "division"), new(func(float64, float64) float64)),
		expr.Function("floordiv", srcArith(srcFloorDiv, "floor division"), new(func(float64, float64) float64)),
		expr.Function("mod", srcArith(srcMod, "modulo"), new(func(float64, float64) float64)),
		expr.Function("clamp", srcClamp, new(func(float64, float64, float64) float64)),
		expr.Function("mean", srcStat(window, false), new(func(string, int) float64)),
		expr.Function("stdev", srcStat(window, true), new(func(string, int) float64)),
	)
	if v.err != nil {
		return nil, fmt.Errorf("expr: %w", v.err)
	}
	if err != nil {
		return nil, fmt.Errorf("expr: %s", srcOneLine(err.Error()))
	}
	if t := prog.Node().Type(); t != nil {
		switch t.Kind() {
		case reflect.Float64, reflect.Float32, reflect.Int, reflect.Int64, reflect.Int32, reflect.Bool, reflect.Interface:
		default:
			return nil, fmt.Errorf("expr: the expression gives a %v, want a number", t)
		}
	}
	return &srcExpr{text: text, prog: prog, deps: v.deps, wins: v.wins}, nil
}

// Eval runs the expression on env (time variables and the value of every dep).
func (e *srcExpr) Eval(env map[string]any) (float64, error) {
	out, err := expr.Run(e.prog, env)
	if err != nil { // division by zero, too few reads for stdev, a type error at run time
		msg := strings.TrimPrefix(srcOneLine(err.Error()), ErrSourceInvalid.Error()+": ")
		return 0, fmt.Errorf("%w: %s", ErrSourceInvalid, msg)
	}
	var v float64
	switch x := out.(type) {
	case float64:
		v = x
	case int:
		v = float64(x)
	case int64:
		v = float64(x)
	case bool:
		if x {
			v = 1
		}
	default:
		return 0, fmt.Errorf("%w: the expression gave a %T, want a number", ErrSourceInvalid, out)
	}
	return srcCheckFinite(v, "the result")
}

// srcTimeEnv sets the built-in time variables for now in loc.
func srcTimeEnv(env map[string]any, now time.Time, loc *time.Location) {
	t := now.In(loc)
	env["now_unix"] = float64(now.UnixNano()) / 1e9
	env["hour"] = float64(t.Hour())
	env["minute"] = float64(t.Minute())
	env["second"] = float64(t.Second())
	env["weekday"] = float64(t.Weekday())
	env["day"] = float64(t.Day())
	env["month"] = float64(t.Month())
}

// srcExprVisitor patches the tree: operators to checked calls, mean/stdev's first argument
// to the source's name; and it records the named sources read.
type srcExprVisitor struct {
	floorAt map[int]bool
	known   func(string) bool
	deps    []string
	wins    map[string]int
	err     error
}

func (v *srcExprVisitor) dep(name string) {
	if !slices.Contains(v.deps, name) {
		v.deps = append(v.deps, name)
	}
}

func (v *srcExprVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if v.known(n.Value) {
			v.dep(n.Value)
		}
	case *ast.BinaryNode:
		fn := ""
		switch {
		case n.Operator == "/" && v.floorAt[n.Location().From]:
			fn = "floordiv"
		case n.Operator == "/":
			fn = "div"
		case n.Operator == "%":
			fn = "mod"
		}
		if fn != "" {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: []ast.Node{n.Left, n.Right}})
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || (id.Value != "mean" && id.Value != "stdev") || v.err != nil {
			return
		}
		if len(n.Arguments) != 2 {
			v.err = fmt.Errorf("%s takes (source, n), got %d arguments", id.Value, len(n.Arguments))
			return
		}
		var name string
		switch a := n.Arguments[0].(type) {
		case *ast.IdentifierNode:
			name = a.Value
		case *ast.StringNode:
			name = a.Value
		}
		if name == "" || !v.known(name) {
			v.err = fmt.Errorf("%s: the first argument must name a --source entry", id.Value)
			return
		}
		size, ok := n.Arguments[1].(*ast.IntegerNode)
		if !ok || size.Value < 1 || size.Value > SourceMaxWindow {
			v.err = fmt.Errorf("%s(%s, n): n must be a whole number from 1 to %d", id.Value, name, SourceMaxWindow)
			return
		}
		v.dep(name)
		v.wins[name] = max(v.wins[name], size.Value)
		n.Arguments[0] = &ast.StringNode{Value: name}
	}
}

// srcRewriteFloorDiv replaces each "//" outside string literals and /* */ comments by "/ "
// and returns the rune offsets of those slashes (offsets are unchanged by the rewrite).
func srcRewriteFloorDiv(text string) (string, map[int]bool) {
	at := map[int]bool{}
	var b strings.Builder
	runes := []rune(text)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case r == '"' || r == '\'' || r == '`':
			j := i + 1
			for j < len(runes) && runes[j] != r {
				if runes[j] == '\\' && r != '`' {
					j++
				}
				j++
			}
			j = min(j, len(runes)-1)
			b.WriteString(string(runes[i : j+1]))
			i = j
		case r == '/' && i+1 < len(runes) && runes[i+1] == '*':
			end := strings.Index(string(runes[i+2:]), "*/")
			j := len(runes) - 1
			if end >= 0 {
				j = i + 2 + utf8.RuneCountInString(string(runes[i+2:])[:end]) + 1
			}
			b.WriteString(string(runes[i : j+1]))
			i = j
		case r == '/' && i+1 < len(runes) && runes[i+1] == '/':
			at[i] = true
			b.WriteString("/ ")
			i++
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), at
}

// srcArith adapts a float operation that must not divide by zero.
func srcArith(op func(a, b float64) float64, what string) func(...any) (any, error) {
	return func(p ...any) (any, error) {
		a, b := srcToFloat(p[0]), srcToFloat(p[1])
		if b == 0 {
			return nil, fmt.Errorf("%w: %s by zero", ErrSourceInvalid, what)
		}
		return op(a, b), nil
	}
}

// srcFloorDiv is Python's float floor division: floor(a/b) computed from fmod, so that
// 1 // 0.1 is 9 as in Python, and -7 // 2 is -4.
func srcFloorDiv(a, b float64) float64 {
	mod := math.Mod(a, b)
	div := (a - mod) / b
	if mod != 0 && (b < 0) != (mod < 0) {
		div--
	}
	if div == 0 {
		return math.Copysign(0, a/b)
	}
	fl := math.Floor(div)
	if div-fl > 0.5 {
		fl++
	}
	return fl
}

// srcMod is Python's float modulo: the result has the sign of b.
func srcMod(a, b float64) float64 {
	mod := math.Mod(a, b)
	if mod != 0 && (b < 0) != (mod < 0) {
		mod += b
	}
	return mod
}

func srcClamp(p ...any) (any, error) {
	x, lo, hi := srcToFloat(p[0]), srcToFloat(p[1]), srcToFloat(p[2])
	if lo > hi {
		return nil, fmt.Errorf("%w: clamp: low %v is above high %v", ErrSourceInvalid, lo, hi)
	}
	return math.Min(math.Max(x, lo), hi), nil
}

// srcStat returns mean (or the sample standard deviation) of up to the last n good reads.
func srcStat(window srcWindowFunc, stdev bool) func(...any) (any, error) {
	return func(p ...any) (any, error) {
		name, n := p[0].(string), int(srcToFloat(p[1]))
		xs := window(name, n)
		fn, need := "mean", 1
		if stdev {
			fn, need = "stdev", 2
		}
		if len(xs) < need {
			return nil, fmt.Errorf("%w: %s(%s, %d) needs %d good reads, has %d", ErrSourceInvalid, fn, name, n, need, len(xs))
		}
		var sum float64
		for _, x := range xs {
			sum += x
		}
		mean := sum / float64(len(xs))
		if !stdev {
			return mean, nil
		}
		var ss float64
		for _, x := range xs {
			ss += (x - mean) * (x - mean)
		}
		return math.Sqrt(ss / float64(len(xs)-1)), nil
	}
}

func srcToFloat(x any) float64 {
	switch v := x.(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case float32:
		return float64(v)
	case bool:
		if v {
			return 1
		}
	}
	return math.NaN()
}

// srcOneLine keeps the first line of a (multi-line) expr error.
func srcOneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
