package store_test

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// openTemp opens a store in a new temporary directory, closed at cleanup.
func openTemp(t testing.TB) *store.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "eidsync.db"))
}

// openAt opens the store at path without fsync, closed at cleanup.
func openAt(t testing.TB, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// tb is the part of testing.TB that rapid.T also has.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// blobOf encodes e into a Blob as the kernel makes them.
func blobOf(t tb, e *entry.Entry, err error) kernel.Blob {
	t.Helper()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	data, id, err := entry.Encode(e)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return kernel.Blob{ID: id, Data: data, Entry: e}
}

// newRoot returns the root entry of a new tree made from seed.
func newRoot(t tb, seed uint64) kernel.Blob {
	t.Helper()
	e, err := entry.NewRoot(seed).Build()
	return blobOf(t, e, err)
}

// newChild returns an entry of tree root with the given parents and a
// payload that makes it unique.
func newChild(t tb, root entry.ID, payload []byte, parents ...kernel.Blob) kernel.Blob {
	t.Helper()
	var ids []entry.ID
	var height uint64
	for _, p := range parents {
		ids = append(ids, p.ID)
		height = max(height, p.Entry.Tree.Height+1)
	}
	e, err := entry.NewBuilder(root).Parents(ids...).Height(height).
		Store(entry.StoreNode{Name: "data", Data: payload}).Build()
	return blobOf(t, e, err)
}

// payloadOf returns a small payload naming n.
func payloadOf(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte("p"), n) }

// chain returns a root (seed) followed by n-1 entries, each the child of
// the previous, with payloadBytes-byte payloads.
func chain(t tb, seed uint64, n, payloadBytes int) []kernel.Blob {
	t.Helper()
	out := []kernel.Blob{newRoot(t, seed)}
	for i := 1; i < n; i++ {
		payload := make([]byte, payloadBytes)
		binary.BigEndian.PutUint64(payload, uint64(i))
		out = append(out, newChild(t, out[0].ID, payload, out[i-1]))
	}
	return out
}

// indexedOf is what State should hold for blobs.
func indexedOf(blobs ...kernel.Blob) []kernel.IndexedEntry {
	var out []kernel.IndexedEntry
	for _, b := range blobs {
		out = append(out, kernel.IndexedEntry{ID: b.ID, Parents: b.Entry.Tree.Parents})
	}
	return out
}

// equalState compares states, treating nil and empty parent lists alike.
func equalState(a, b kernel.State) bool {
	return slices.EqualFunc(a.Trees, b.Trees, func(x, y kernel.TreeState) bool {
		return x.Root == y.Root && slices.EqualFunc(x.Entries, y.Entries, func(p, q kernel.IndexedEntry) bool {
			return p.ID == q.ID && slices.Equal(p.Parents, q.Parents)
		})
	})
}

func mustState(t testing.TB, s *store.Store) kernel.State {
	t.Helper()
	st, err := s.State()
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	return st
}

func mustApply(t testing.TB, s *store.Store, writes ...kernel.Write) {
	t.Helper()
	if err := s.Apply(writes); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func ids(blobs []kernel.Blob) []entry.ID {
	var out []entry.ID
	for _, b := range blobs {
		out = append(out, b.ID)
	}
	return out
}
