package deploy

import (
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string
}

type dockerfile struct {
	ins  []instruction
	args map[string]string // ARG defaults before the first FROM
}

// parseDockerfile reads the instructions: comments dropped, "\" continuations joined.
func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	df := dockerfile{args: map[string]string{}}
	var cur strings.Builder
	for _, line := range strings.Split(string(readFile(t, path)), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		full := cur.String()
		cur.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "ARG" && len(df.stages()) == 0 {
			if k, v, ok := strings.Cut(in.Args, "="); ok {
				df.args[k] = v
			}
		}
		df.ins = append(df.ins, in)
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends inside a continued line", path)
	}
	return df
}

// stages returns the index of every FROM.
func (d dockerfile) stages() []int {
	var out []int
	for i, in := range d.ins {
		if in.Cmd == "FROM" {
			out = append(out, i)
		}
	}
	return out
}

// expand replaces ${NAME} by its ARG default.
func (d dockerfile) expand(s string) string {
	return os.Expand(s, func(k string) string { return d.args[k] })
}

var outFlagRE = regexp.MustCompile(`-o\s+(\S+)`)

// goBuild returns the RUN command that builds the binary and its -o path.
func (d dockerfile) goBuild() (cmd, out string) {
	for _, in := range d.ins {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			if m := outFlagRE.FindStringSubmatch(in.Args); m != nil {
				return in.Args, m[1]
			}
			return in.Args, ""
		}
	}
	return "", ""
}

func TestDockerfileBuildsAStaticBinaryIntoASmallImage(t *testing.T) {
	df := parseDockerfile(t, filepath.Join(root, "deploy", "Dockerfile"))
	st := df.stages()
	if len(st) != 2 {
		t.Fatalf("%d stages, want 2 (a Go build stage and the final image)", len(st))
	}
	first, final := df.expand(df.ins[st[0]].Args), df.expand(df.ins[st[1]].Args)
	if !strings.HasPrefix(first, "golang:") || !strings.HasSuffix(first, " AS build") {
		t.Errorf("first stage %q, want a golang image named build", first)
	}
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final stage from %q, want distroless/static or scratch", final)
	}

	build, out := df.goBuild()
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "./cmd/relay-mesos"} {
		if !strings.Contains(build, want) {
			t.Errorf("build command %q lacks %s", build, want)
		}
	}
	var copied, entry string
	envs := realEnvVars()
	for _, in := range df.ins[st[1]:] {
		switch in.Cmd {
		case "COPY":
			if strings.Contains(in.Args, "--from=build "+out+" ") {
				copied = strings.Fields(in.Args)[len(strings.Fields(in.Args))-1]
			}
		case "ENTRYPOINT":
			var argv []string
			if err := json.Unmarshal([]byte(in.Args), &argv); err != nil || len(argv) == 0 {
				t.Errorf("ENTRYPOINT %s is not the exec form (a shell may not exist in the image)", in.Args)
			} else {
				entry = argv[0]
			}
		case "ENV":
			for _, f := range strings.Fields(in.Args) {
				if k, _, ok := strings.Cut(f, "="); ok {
					if _, real := envs[k]; !real {
						t.Errorf("ENV %s is not a variable relay-mesos reads", k)
					}
				}
			}
		case "RUN":
			t.Errorf("the final stage runs %q: it may have no shell", in.Args)
		}
	}
	if copied == "" || entry != copied {
		t.Errorf("the binary built at %s is copied to %q but the entrypoint is %q", out, copied, entry)
	}

	bin, skip := buildBinary(t, binDir)
	if skip != "" {
		t.Skipf("the Dockerfile is well formed; its build command is not run: %s", skip)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP header: it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary keeps its symbol table: -ldflags -s did not apply")
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("static binary %s: %.1f MB", bin, float64(fi.Size())/(1<<20))
	}
}
