package store_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eidsync/eidsync/adapters/store"
	bolt "go.etcd.io/bbolt"
)

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eidsync.db")
	first := openAt(t, path)
	start := time.Now()
	second, err := store.Open(path, store.Options{LockTimeout: 50 * time.Millisecond, NoSync: true})
	if err == nil {
		_ = second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	want := "store: " + path + " is locked by another process: is an `eidsync serve` already using this data directory?"
	if !errors.Is(err, store.ErrLocked) || err.Error() != want {
		t.Fatalf("err = %q, want ErrLocked with %q", err, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second Open took %v", d)
	}
	// Once the first closes, the file opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openAt(t, path)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("regular-file", []byte("x"))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + i>>8)
	}
	tests := []struct {
		name string
		path string
		is   error  // errors.Is must hold
		says string // the message must contain it
	}{
		{"parent is a regular file", filepath.Join(file, "eidsync.db"), nil, "not a directory"},
		{"missing directory", filepath.Join(dir, "missing", "eidsync.db"), fs.ErrNotExist, "does not exist"},
		{"path is a directory", dir, nil, "is a directory"},
		{"short file that is not bbolt", write("short.db", []byte("hello, world")), store.ErrCorrupt, "not a usable bbolt database"},
		{"long file that is not bbolt", write("garbage.db", garbage), store.ErrCorrupt, "not a usable bbolt database"},
		{"bbolt file of another program", otherBolt(t, dir), store.ErrSchema, "not an eidsync store"},
		{"newer schema", withSchema(t, dir, 2), store.ErrSchema, "schema version 2"},
		{"bad schema value", withSchemaBytes(t, dir, []byte("one")), store.ErrCorrupt, "bad schema version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(tt.path, store.Options{NoSync: true})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "store: ") || !strings.Contains(msg, tt.path) || !strings.Contains(msg, tt.says) {
				t.Errorf("err = %q, want the path and %q", msg, tt.says)
			}
			if strings.Count(msg, tt.path) > 1 {
				t.Errorf("err = %q names the path twice", msg)
			}
		})
	}
}

func TestOpenReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores permissions")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	path := filepath.Join(dir, "eidsync.db")
	_, err := store.Open(path, store.Options{})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want fs.ErrPermission naming %s", err, path)
	}
}

// otherBolt makes a bbolt file with a bucket of another program.
func otherBolt(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "other.db")
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("users"))
		return err
	})
	return path
}

// withSchema makes a store whose schema version is v.
func withSchema(t *testing.T, dir string, v uint64) string {
	t.Helper()
	return withSchemaBytes(t, dir, []byte{0, 0, 0, 0, 0, 0, 0, byte(v)})
}

func withSchemaBytes(t *testing.T, dir string, raw []byte) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("schema-%x.db", raw))
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("schema"), raw) })
	return path
}

// rawUpdate changes the bbolt file at path behind the store's back.
func rawUpdate(t testing.TB, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}
