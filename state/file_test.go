package state

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func acquire(t testing.TB, dir string) *FileLock {
	t.Helper()
	l, err := AcquireFileLock(ctxT(t), dir, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Resign(context.Background()) })
	return l
}

func fence(l *FileLock) Fence { return Fence{NodePath: l.NodePath(), Token: l.Token()} }

func newFile(t testing.TB, dir string) *FileStore {
	t.Helper()
	s, err := NewFile(dir, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileSaveLoadRoundtrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := newFile(t, dir)
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v, mode %v, want 0700", err, st.Mode().Perm())
	}
	l := acquire(t, dir)
	ctx := ctxT(t)
	if _, err := s.Load(ctx); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("load before any save: %v, want ErrNoCheckpoint", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := s.Save(ctx, fence(l), Checkpoint{WrittenAt: at, Payload: []byte(`{"tick":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, fence(l), Checkpoint{WrittenAt: at, Payload: []byte(`{"tick":2}`)}); err != nil {
		t.Fatal(err)
	}
	// A restarted replica reads it back.
	c := mustLoad(t, newFile(t, dir), `{"tick":2}`)
	if c.Token != l.Token() || !c.WrittenAt.Equal(at) || c.Schema != Schema {
		t.Fatalf("loaded %+v", c)
	}
	st, err := os.Stat(filepath.Join(dir, "checkpoint.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("checkpoint.json: %v, mode %v, want 0600", err, st.Mode().Perm())
	}
	if err := s.SaveFrameworkID(ctx, fence(l), "fw-0001"); err != nil {
		t.Fatal(err)
	}
	if id, err := newFile(t, dir).LoadFrameworkID(ctx); err != nil || id != "fw-0001" {
		t.Fatalf("framework id: %q, %v", id, err)
	}
	if err := s.SaveFrameworkID(ctx, fence(l), "fw-0001"); err != nil {
		t.Fatalf("saving the same id again: %v", err)
	}
	if err := s.SaveFrameworkID(ctx, fence(l), "fw-0002"); !errors.Is(err, ErrFrameworkIDConflict) {
		t.Fatalf("saving a different id: %v, want ErrFrameworkIDConflict", err)
	}
	if id, _ := s.LoadFrameworkID(ctx); id != "fw-0001" {
		t.Fatalf("framework id after a conflict: %q", id)
	}
}

func TestFileCrashMidWriteLeavesTheOldCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := newFile(t, dir)
	l := acquire(t, dir)
	if err := s.Save(ctxT(t), fence(l), cp(`{"tick":1}`)); err != nil {
		t.Fatal(err)
	}
	// A crash during the next write: its temporary file holds half the new checkpoint and
	// was never renamed.
	next := mustEncode(t, l.Token(), `{"tick":2}`)
	tmp := filepath.Join(dir, ".checkpoint.json.tmp-123456")
	if err := os.WriteFile(tmp, next[:len(next)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	restarted := newFile(t, dir)
	mustLoad(t, restarted, `{"tick":1}`)
	if err := restarted.Save(ctxT(t), fence(l), cp(`{"tick":3}`)); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, newFile(t, dir), `{"tick":3}`)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the partial write is still there: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), tmpMarker) {
			t.Fatalf("temporary file %s left after a save", e.Name())
		}
	}
}

func TestFileLockExcludesAndCountsAcquisitions(t *testing.T) {
	dir := t.TempDir()
	first := acquire(t, dir)

	// While first holds it, a bounded attempt gives up.
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if l, err := AcquireFileLock(short, dir, logger(t)); !errors.Is(err, context.DeadlineExceeded) {
		if l != nil {
			l.Resign(context.Background())
		}
		t.Fatalf("second lock while held: %v, want a deadline error", err)
	}

	got := make(chan *FileLock, 1)
	go func() {
		l, err := AcquireFileLock(context.Background(), dir, logger(t))
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	select {
	case <-got:
		t.Fatal("a second lock was acquired while the first is held")
	case <-time.After(600 * time.Millisecond):
	}
	if first.Context().Err() != nil {
		t.Fatal("the holder's context ended while it held the lock")
	}
	resigned := time.Now()
	if err := first.Resign(context.Background()); err != nil {
		t.Fatal(err)
	}
	if first.Context().Err() == nil {
		t.Fatal("Resign did not cancel the context")
	}
	var second *FileLock
	select {
	case second = <-got:
	case <-time.After(3 * time.Second):
		t.Fatal("the waiting lock was not acquired within 3s of the resignation")
	}
	if second == nil {
		t.FailNow()
	}
	defer second.Resign(context.Background())
	t.Logf("handoff took %v", time.Since(resigned).Round(time.Millisecond))
	if second.Token() != first.Token()+1 {
		t.Fatalf("tokens %d then %d, want consecutive", first.Token(), second.Token())
	}
	if second.NodePath() != filepath.Join(dir, "lock") {
		t.Fatalf("node path %s", second.NodePath())
	}
	if err := first.Resign(context.Background()); err != nil {
		t.Fatalf("second Resign: %v", err)
	}
}

func TestFileStoreFencing(t *testing.T) {
	dir := t.TempDir()
	s := newFile(t, dir)
	ctx := ctxT(t)
	first := acquire(t, dir)
	if err := s.Save(ctx, fence(first), cp(`"first"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, Fence{NodePath: filepath.Join(t.TempDir(), "lock"), Token: first.Token()}, cp(`"x"`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("fence on another lock: %v, want ErrFenced", err)
	}
	// The holder resigns: nobody holds the lock, so its own token no longer writes.
	old := fence(first)
	if err := first.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, old, cp(`"resigned"`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("save after resigning: %v, want ErrFenced", err)
	}
	second := acquire(t, dir)
	for name, st := range map[string]*FileStore{"same store": s, "fresh store": newFile(t, dir)} {
		if err := st.Save(ctx, old, cp(`"stale"`)); !errors.Is(err, ErrFenced) {
			t.Fatalf("%s: the old holder's save: %v, want ErrFenced", name, err)
		}
		if err := st.SaveFrameworkID(ctx, old, "fw-old"); !errors.Is(err, ErrFenced) {
			t.Fatalf("%s: the old holder's framework id save: %v, want ErrFenced", name, err)
		}
	}
	if err := s.Save(ctx, fence(second), cp(`"second"`)); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, newFile(t, dir), `"second"`)

	// Two stores on one fence: a store that did not see the other's write is fenced.
	a, b := newFile(t, dir), newFile(t, dir)
	mustLoad(t, a, `"second"`)
	mustLoad(t, b, `"second"`)
	if err := b.Save(ctx, fence(second), cp(`"b"`)); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, fence(second), cp(`"a"`)); !errors.Is(err, ErrFenced) {
		t.Fatalf("save over another writer's change: %v, want ErrFenced", err)
	}
	mustLoad(t, newFile(t, dir), `"b"`)
}

func TestFileUnreadableCheckpointIsNeverOverwritten(t *testing.T) {
	future := bytes.Replace(mustEncode(t, 1, `{"x":1}`), []byte(`"schema":1`), []byte(`"schema":3`), 1)
	for _, tc := range []struct {
		name   string
		stored []byte
		want   error
	}{
		{"garbage", []byte("\x00\x01garbage"), ErrCorrupt},
		{"truncated", mustEncode(t, 1, `{"x":1}`)[:40], ErrCorrupt},
		{"future schema", future, ErrFutureSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "checkpoint.json")
			if err := os.WriteFile(file, tc.stored, 0o600); err != nil {
				t.Fatal(err)
			}
			l := acquire(t, dir)
			loaded := newFile(t, dir)
			_, err := loaded.Load(ctxT(t))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), file) {
				t.Fatalf("load: %v, want %v naming %s", err, tc.want, file)
			}
			for name, s := range map[string]*FileStore{"after load": loaded, "without load": newFile(t, dir)} {
				if err := s.Save(ctxT(t), fence(l), cp(`{"blank":true}`)); !errors.Is(err, tc.want) {
					t.Fatalf("%s: save over an unreadable checkpoint: %v, want %v", name, err, tc.want)
				}
			}
			if got, _ := os.ReadFile(file); !bytes.Equal(got, tc.stored) {
				t.Fatal("the unreadable checkpoint was changed")
			}
		})
	}
}

func TestFileSizeBoundAndCorruptToken(t *testing.T) {
	dir := t.TempDir()
	s := newFile(t, dir)
	l := acquire(t, dir)
	big := `"` + strings.Repeat("x", MaxPayload-1) + `"`
	if err := s.Save(ctxT(t), fence(l), cp(big)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("save of %d bytes: %v, want ErrTooLarge", len(big), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused save wrote the file")
	}
	if err := l.Resign(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("banana"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l2, err := AcquireFileLock(ctxT(t), dir, logger(t)); err == nil || !strings.Contains(err.Error(), "token") {
		if l2 != nil {
			l2.Resign(context.Background())
		}
		t.Fatalf("acquire with a corrupt token file: %v, want an error naming it", err)
	}
	// The failed acquisition did not keep the lock.
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("41\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l3, err := AcquireFileLock(short, dir, logger(t))
	if err != nil {
		t.Fatalf("acquire after fixing the token file: %v", err)
	}
	defer l3.Resign(context.Background())
	if l3.Token() != 42 {
		t.Fatalf("token %d, want 42", l3.Token())
	}
}
