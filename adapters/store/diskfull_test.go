package store_test

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/internal/tinyfs"
	"github.com/eidsync/eidsync/kernel"
)

// TestDiskFull fills a 1 MiB file system batch by batch: the batch that
// does not fit fails with one line that names the file and says what to do,
// matching ErrWriteFailed and ENOSPC; every batch acknowledged before is
// there after a reopen, and the store takes writes again once there is room.
// A read-only file system is refused at open with the same kind of line.
func TestDiskFull(t *testing.T) {
	dir := tinyfs.Mount(t, "1m")
	path := filepath.Join(dir, "eidsync.db")
	c := chain(t, 5, 2000, 1000)
	s := openAt(t, path)
	acked := 0
	var err error
	for acked < len(c) {
		next := min(acked+20, len(c))
		if err = s.Apply([]kernel.Write{{Seq: kernel.Seq(acked + 1), Tree: c[0].ID, Blobs: c[acked:next]}}); err != nil {
			break
		}
		acked = next
	}
	if err == nil {
		t.Fatalf("%d entries of 1 KB fit in 1 MiB", len(c))
	}
	msg := err.Error()
	if !errors.Is(err, store.ErrWriteFailed) || !errors.Is(err, syscall.ENOSPC) ||
		strings.Contains(msg, "\n") || !strings.Contains(msg, path) || !strings.Contains(msg, "free space") {
		t.Fatalf("after %d entries: want one line naming the file and what to do, got %q", acked, msg)
	}
	t.Logf("after %d entries: %s", acked, msg)
	if acked == 0 {
		t.Fatal("nothing fitted: the test proves nothing")
	}
	// The store stays usable: reads work, a retry fails the same way.
	if got := mustState(t, s); len(got.Trees) != 1 || len(got.Trees[0].Entries) != acked {
		t.Fatalf("state after the failure: %+v, want %d entries", got.Trees, acked)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	tinyfs.Remount(t, dir, "ro")
	_, err = store.Open(path, store.Options{})
	if err == nil || !errors.Is(err, syscall.EROFS) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "read-only: remount it read-write") {
		t.Fatalf("open on a read-only file system: %v", err)
	}

	tinyfs.Remount(t, dir, "rw,size=16m")
	s = openAt(t, path)
	defer s.Close()
	if got := mustState(t, s); len(got.Trees[0].Entries) != acked {
		t.Fatalf("after reopen: %d entries, want the %d acknowledged", len(got.Trees[0].Entries), acked)
	}
	blobs, err := s.Read(kernel.Read{Tree: c[0].ID, IDs: ids(c[:acked])})
	if err != nil || len(blobs) != acked {
		t.Fatalf("read back %d of %d: %v", len(blobs), acked, err)
	}
	mustApply(t, s, kernel.Write{Seq: 1 << 20, Tree: c[0].ID, Blobs: c[acked:]})
	if got := mustState(t, s); len(got.Trees[0].Entries) != len(c) {
		t.Fatalf("after freeing space: %d entries, want %d", len(got.Trees[0].Entries), len(c))
	}
}
