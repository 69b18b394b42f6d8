package loop

// file:PATH sources: the last non-empty line of the file is the number.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type srcFile struct{ path string }

func srcNewFile(path string, opt SourceOptions) (Source, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return nil, errors.New("file: the path is empty")
	}
	if !filepath.IsAbs(path) && opt.Dir != "" {
		path = filepath.Join(opt.Dir, path)
	}
	return &srcFile{path: path}, nil
}

// Read reads at most the last 64 KiB of the file. A missing or unreadable file is class
// "other"; ctx is checked before reading (a local read is not cancellable).
func (f *srcFile) Read(ctx context.Context, _ time.Time) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSourceTimeout, err)
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return 0, fmt.Errorf("file: %w", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > srcStdoutKeep {
		if _, err := fh.Seek(-srcStdoutKeep, io.SeekEnd); err != nil {
			return 0, fmt.Errorf("file: %w", err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(fh, srcStdoutKeep))
	if err != nil {
		return 0, fmt.Errorf("file: %w", err)
	}
	return srcNumber(b, "file "+filepath.Base(f.path))
}
