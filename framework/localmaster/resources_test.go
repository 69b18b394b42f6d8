package localmaster

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

func TestParseResources(t *testing.T) {
	cases := []struct {
		name, spec, want string
		bad              bool
	}{
		{"semicolons", "cpus:4;mem:4096;disk:10000", "cpus:4;disk:10000;mem:4096", false},
		{"equals and commas", "cpus=4,mem=4096", "cpus:4;mem:4096", false},
		{"ports ranges", "cpus:1;ports:[31000-31010,31005-31020,32000-32000]", "cpus:1;ports:[31000-31020,32000-32000]", false},
		{"role suffix", "cpus(*):0.5", "cpus:0.5", false},
		{"starved", "cpus:0;mem:0", "cpus:0;mem:0", false},
		{"negative", "cpus:-1", "", true},
		{"no value", "cpus", "", true},
		{"bad range", "ports:[5-1]", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := parseResources(c.spec)
			if (err != nil) != c.bad {
				t.Fatalf("err %v, bad=%v", err, c.bad)
			}
			if !c.bad && rs.String() != c.want {
				t.Fatalf("got %s, want %s", rs, c.want)
			}
		})
	}
	// 4 cpus minus 2 offered minus 1.5 used leaves 0.5; ports minus a sub-range splits it.
	a, _ := parseResources("cpus:4;ports:[100-200]")
	b, _ := parseResources("cpus:3.5;ports:[150-160]")
	if got := a.sub(b).String(); got != "cpus:0.5;ports:[100-149,161-200]" {
		t.Fatalf("sub: %s", got)
	}
	if !a.contains(b) || b.contains(a) {
		t.Fatal("contains")
	}
}

func TestFetchURIs(t *testing.T) {
	src := t.TempDir()
	script := filepath.Join(src, "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An archive with one file, served over HTTP on 127.0.0.1.
	arch := filepath.Join(src, "bundle.tar.gz")
	f, _ := os.Create(arch)
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	body := []byte("payload")
	_ = tw.WriteHeader(&tar.Header{Name: "inner/data.txt", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(body)
	_ = tw.Close()
	_ = zw.Close()
	_ = f.Close()
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()

	dir := t.TempDir()
	uris := []mesos.CommandInfo_URI{
		{Value: script, Executable: ptr(true)},
		{Value: srv.URL + "/bundle.tar.gz"},
		{Value: "file://" + script, OutputFile: ptr("copy.sh"), Extract: ptr(false)},
	}
	for _, u := range uris {
		if err := fetchURI(context.Background(), dir, u); err != nil {
			t.Fatalf("fetch %s: %v", u.Value, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode()&0o100 == 0 {
		t.Fatalf("run.sh not executable: %v %v", fi, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "inner", "data.txt")); err != nil || string(b) != "payload" {
		t.Fatalf("extracted %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "copy.sh")); err != nil {
		t.Fatal(err)
	}
	if err := fetchURI(context.Background(), dir, mesos.CommandInfo_URI{Value: srv.URL + "/missing"}); err == nil {
		t.Fatal("fetch of a missing URL succeeded")
	}
	if err := fetchURI(context.Background(), dir, mesos.CommandInfo_URI{Value: "relative/path"}); err == nil {
		t.Fatal("relative path accepted")
	}
}
