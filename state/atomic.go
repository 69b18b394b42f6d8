package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tmpMarker is in the name of every temporary file a write makes (".NAME.tmp-RANDOM").
const tmpMarker = ".tmp-"

// writeAtomic replaces dir/name with data: a temporary file in dir, fsync, rename over the
// old file, fsync of dir. A crash leaves the old file or the new one, never a mix (at worst a
// stray temporary file, which readers ignore).
func writeAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+name+tmpMarker+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeTemps removes temporary files left in dir by interrupted writes of name. Only the
// fenced writer calls it, so no other write is in progress.
func removeTemps(dir, name string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "."+name+tmpMarker+"*"))
	var removed []string
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), "."+name+tmpMarker) && os.Remove(m) == nil {
			removed = append(removed, m)
		}
	}
	return removed
}
