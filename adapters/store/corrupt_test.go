package store_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	bolt "go.etcd.io/bbolt"
)

// storedFixture writes the fixture to a new file and closes it.
func storedFixture(t *testing.T) (string, fixture) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "eidsync.db")
	f := newFixture(t)
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, f.writes()...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, f
}

func TestReadCorruptEntry(t *testing.T) {
	tests := []struct {
		name string
		body func(f fixture) []byte
		says string
	}{
		{"garbage", func(fixture) []byte { return []byte("\xff\x00garbage") }, "corrupt on disk: entry:"},
		{"another entry's bytes", func(f fixture) []byte { return f.a3.Data }, "its bytes hash to " + "bafyr4i"},
		{"empty", func(fixture) []byte { return []byte{} }, "corrupt on disk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, f := storedFixture(t)
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("entries")).Put(f.a2.ID.Bytes(), tt.body(f))
			})
			s := openAt(t, path)
			_, err := s.Read(kernel.Read{IDs: []entry.ID{f.a1.ID, f.a2.ID}})
			checkCorrupt(t, "Read", err, f.a2.ID.String(), tt.says)
			err = s.Entries(f.a.ID, 0, func(uint64, kernel.Blob) error { return nil })
			checkCorrupt(t, "Entries", err, f.a2.ID.String(), tt.says)
			// The index is intact: a restart still works, and other entries read.
			if st := mustState(t, s); !equalState(st, f.state()) {
				t.Fatalf("state %v", st)
			}
			if got, err := s.Read(kernel.Read{IDs: []entry.ID{f.a1.ID}}); err != nil || len(got) != 1 {
				t.Fatalf("read of an intact entry: %v", err)
			}
		})
	}
}

func checkCorrupt(t *testing.T, op string, err error, says ...string) {
	t.Helper()
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("%s: err = %v, want ErrCorrupt", op, err)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("%s: err = %q, want it to name %q", op, err, s)
		}
	}
}

func TestCorruptIndex(t *testing.T) {
	u64 := func(v uint64) []byte { return []byte{0, 0, 0, 0, 0, 0, 0, byte(v)} }
	tests := []struct {
		name   string
		damage func(tree *bolt.Bucket, tx *bolt.Tx) error
	}{
		{"record garbage", func(tree *bolt.Bucket, _ *bolt.Tx) error {
			return tree.Bucket([]byte("order")).Put(u64(2), []byte{0x24, 1, 2})
		}},
		{"record with a bad parent", func(tree *bolt.Bucket, _ *bolt.Tx) error {
			order := tree.Bucket([]byte("order"))
			rec := append([]byte(nil), order.Get(u64(2))...)
			return order.Put(u64(2), append(rec, 0x7f, 1))
		}},
		{"record missing", func(tree *bolt.Bucket, _ *bolt.Tx) error {
			return tree.Bucket([]byte("order")).Delete(u64(2))
		}},
		{"count missing", func(tree *bolt.Bucket, _ *bolt.Tx) error { return tree.Delete([]byte("count")) }},
		{"count too high", func(tree *bolt.Bucket, _ *bolt.Tx) error { return tree.Put([]byte("count"), u64(9)) }},
		{"order bucket missing", func(tree *bolt.Bucket, _ *bolt.Tx) error {
			return tree.DeleteBucket([]byte("order"))
		}},
		{"tree bucket missing", func(_ *bolt.Bucket, tx *bolt.Tx) error {
			return tx.Bucket([]byte("trees")).DeleteBucket(tx.Bucket([]byte("roots")).Get(u64(1)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, f := storedFixture(t)
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return tt.damage(tx.Bucket([]byte("trees")).Bucket(f.a.ID.Bytes()), tx)
			})
			s := openAt(t, path)
			_, err := s.State()
			checkCorrupt(t, "State", err, f.a.ID.String())
			c := newChild(t, f.a.ID, payloadOf(99), f.a4)
			if err := s.Apply([]kernel.Write{{Tree: f.a.ID, Blobs: []kernel.Blob{c}}}); err == nil {
				// Appending after a missing record or a low count is not detected
				// by Apply; State still reports the damage.
				_, err = s.State()
				checkCorrupt(t, "State after Apply", err, f.a.ID.String())
			}
		})
	}
}

// A file damaged at random places must make the store fail with errors,
// never panic or crash. Each trial damages a fresh copy.
func TestDamagedFileNeverPanics(t *testing.T) {
	path, _ := storedFixture(t)
	s := openAt(t, path)
	big := chain(t, 6, 100, 200) // small entries: many leaf and branch pages to damage
	mustApply(t, s, kernel.Write{Tree: big[0].ID, Blobs: big})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	trials, failures, caught := 150, 0, 0
	if testing.Short() {
		trials = 30
	}
	for range trials {
		data := append([]byte(nil), good...)
		for range 1 + rng.IntN(4) {
			at := 2*4096 + rng.IntN(len(data)-2*4096-64) // keep the meta pages
			for i := range 1 + rng.IntN(64) {
				data[at+i] = byte(rng.Uint32())
			}
		}
		p := filepath.Join(t.TempDir(), "damaged.db")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := exercise(t, p, big); err != nil {
			failures++
			if strings.Contains(err.Error(), "bbolt failed on damaged data") {
				caught++
			}
		}
	}
	t.Logf("%d of %d damaged files reported an error, %d of them a panic inside bbolt", failures, trials, caught)
}

// exercise runs every read and a write on the store at path, returning the
// first error.
func exercise(t *testing.T, path string, c []kernel.Blob) error {
	t.Helper()
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }()
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	_, err = s.State()
	keep(err)
	_, err = s.Read(kernel.Read{IDs: ids(c)})
	keep(err)
	keep(s.Entries(c[0].ID, 0, func(uint64, kernel.Blob) error { return nil }))
	keep(s.Apply([]kernel.Write{{Tree: c[0].ID, Blobs: c}}))
	_, err = s.Meta("k")
	keep(err)
	return first
}
