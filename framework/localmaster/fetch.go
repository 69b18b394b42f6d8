package localmaster

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// fetchURI puts one CommandInfo.URI into the sandbox as the Mesos fetcher does: local paths
// and file:// are copied, http(s) downloaded; executable sets mode 0755; archives
// (.tar.gz, .tgz, .tar, .zip) are extracted when extract is set (the default).
func fetchURI(ctx context.Context, dir string, u mesos.CommandInfo_URI) error {
	raw := u.Value
	var name string
	var src io.ReadCloser
	switch {
	case strings.HasPrefix(raw, "http://"), strings.HasPrefix(raw, "https://"):
		pu, err := url.Parse(raw)
		if err != nil {
			return err
		}
		name = path.Base(pu.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return err
		}
		cl := &http.Client{Timeout: 10 * time.Minute}
		res, err := cl.Do(req)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			_ = res.Body.Close()
			return fmt.Errorf("HTTP %s", res.Status)
		}
		src = res.Body
	default:
		p := raw
		if strings.HasPrefix(raw, "file://") {
			pu, err := url.Parse(raw)
			if err != nil {
				return err
			}
			p = pu.Path
		}
		if !filepath.IsAbs(p) {
			return errors.New("only absolute local paths, file://, http:// and https:// URIs are supported")
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		name = filepath.Base(p)
		src = f
	}
	defer func() { _ = src.Close() }()
	if u.OutputFile != nil && *u.OutputFile != "" {
		name = *u.OutputFile
	}
	if name == "" || name == "." || name == "/" {
		name = "download"
	}
	dst := filepath.Join(dir, filepath.Clean("/" + name)[1:])
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if u.GetExecutable() {
		mode = 0o755
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if u.GetExecutable() || !u.GetExtract() {
		return nil
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return extractTar(dst, dir, true)
	case strings.HasSuffix(lower, ".tar"):
		return extractTar(dst, dir, false)
	case strings.HasSuffix(lower, ".zip"):
		return extractZip(dst, dir)
	}
	return nil
}

// safeJoin refuses archive entries that would land outside the sandbox.
func safeJoin(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if p != dir && !strings.HasPrefix(p, dir+string(os.PathSeparator)) {
		return "", fmt.Errorf("archive entry %q escapes the sandbox", name)
	}
	return p, nil
}

func extractTar(file, dir string, gz bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
		defer func() { _ = zr.Close() }()
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
		p, err := safeJoin(dir, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(p, tr, os.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		}
	}
}

func extractZip(file, dir string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
	}
	defer func() { _ = zr.Close() }()
	for _, zf := range zr.File {
		p, err := safeJoin(dir, zf.Name)
		if err != nil {
			return err
		}
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		err = writeFile(p, rc, zf.Mode()&0o777)
		_ = rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if mode == 0 {
		mode = 0o644
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
