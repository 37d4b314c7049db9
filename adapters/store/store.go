package store

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Options tune Open. The zero value is what production uses.
type Options struct {
	// LockTimeout is how long Open waits for another process's lock on the
	// file before it fails with ErrLocked; zero or less means 500ms.
	LockTimeout time.Duration
	// NoSync skips fsync on commit. For tests only: a crash may then lose
	// writes that Apply reported durable.
	NoSync bool
}

// defaultLockTimeout is Options.LockTimeout's default: long enough to ride
// out a restart's overlap, short enough to tell the user promptly.
const defaultLockTimeout = 500 * time.Millisecond

// fileMode is the mode of a new database file: it holds node settings such
// as the device key, so only its owner may read it.
const fileMode = 0o600

// Store is a bbolt database holding entries, the trees' insertion order and
// node settings; see the package doc for the layout. It is safe for
// concurrent use. Slices it returns are the caller's; slices it is given
// are not retained after the call returns.
type Store struct {
	db     *bolt.DB
	path   string
	closed atomic.Bool
}

// Open opens the database file at path, creating it (but not its directory)
// if absent, and checks its schema version. It fails with an error naming
// path that wraps ErrLocked when another process holds the file, ErrCorrupt
// when the file is not a bbolt database, ErrSchema when it was written by a
// newer version, and the file system's error (fs.ErrNotExist,
// fs.ErrPermission, ...) when the file cannot be opened.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	db, err := openBolt(path, &bolt.Options{
		Timeout:      timeout,
		NoSync:       opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		return nil, openError(path, err)
	}
	s := &Store{db: db, path: path}
	fresh := false
	err = s.view(func(tx *bolt.Tx) error {
		fresh = tx.Bucket(bucketMeta) == nil
		return s.checkSchema(tx)
	})
	if err == nil && fresh {
		err = s.update(s.createSchema)
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt is bolt.Open, with a panic on a damaged file turned into an
// error.
func openBolt(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt panicked: %v", bolterrors.ErrInvalid, r)
		}
	}()
	return bolt.Open(path, fileMode, opts)
}

// openError explains why bolt.Open failed, naming path and what to do.
func openError(path string, err error) error {
	var why string
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fail(ErrLocked, nil, fmt.Sprintf("store: %s is locked by another process: "+
			"is an `eidsync serve` already using this data directory?", path))
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch):
		return fail(ErrCorrupt, err, fmt.Sprintf("store: %s is not a usable bbolt database "+
			"(%v): move it aside or give another path", path, err))
	case errors.Is(err, syscall.ENOTDIR):
		why = "a component of the path is not a directory"
	case errors.Is(err, syscall.EISDIR):
		why = "it is a directory: give the path of the database file inside it"
	case errors.Is(err, fs.ErrNotExist):
		why = "its directory does not exist"
	case errors.Is(err, syscall.EROFS):
		why = "the file system is read-only: remount it read-write or give a data directory on another one"
	case errors.Is(err, fs.ErrPermission):
		why = "permission denied: the file and its directory must be writable by this user"
	default:
		why = rootCause(err).Error()
	}
	return fail(nil, err, fmt.Sprintf("store: cannot open %s: %s", path, why))
}

// rootCause strips the *fs.PathError that repeats the path.
func rootCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkSchema checks the schema version of an existing database; a new
// one, without a meta bucket, passes.
func (s *Store) checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil
	}
	raw := meta.Get(keySchema)
	if raw == nil {
		return fail(ErrSchema, nil, fmt.Sprintf("store: %s has no schema version: not an eidsync store", s.path))
	}
	v, err := readU64(raw)
	switch {
	case err != nil || v == 0:
		return fail(ErrCorrupt, err, fmt.Sprintf("store: %s: bad schema version %x", s.path, raw))
	case v > schemaVersion:
		return fail(ErrSchema, nil, fmt.Sprintf("store: %s has schema version %d, this eidsync "+
			"reads version %d: upgrade eidsync", s.path, v, schemaVersion))
	}
	for _, name := range [][]byte{bucketEntries, bucketRoots, bucketTrees} {
		if tx.Bucket(name) == nil {
			return fail(ErrCorrupt, nil, fmt.Sprintf("store: %s: bucket %q is missing", s.path, name))
		}
	}
	return nil
}

// createSchema lays out an empty database. A bbolt file that already holds
// other buckets belongs to another program and is left alone.
func (s *Store) createSchema(tx *bolt.Tx) error {
	if k, _ := tx.Cursor().First(); k != nil {
		return fail(ErrSchema, nil, fmt.Sprintf("store: %s is a bbolt database of another program: "+
			"not an eidsync store", s.path))
	}
	for _, name := range [][]byte{bucketMeta, bucketEntries, bucketRoots, bucketTrees} {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("store: %s: create bucket %q: %w", s.path, name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, u64(schemaVersion))
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock. It waits for calls in progress;
// later calls fail with ErrClosed. Closing twice returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction; see guard.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.guard(func() error { return s.db.View(fn) })
}

// update runs fn in a write transaction, committed if fn returns nil and
// rolled back otherwise; see guard.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.guard(func() error { return s.db.Update(fn) })
}

// guard runs a bbolt call. bbolt panics when it meets a damaged page, and
// a damaged page number can make it read outside the mapped file; by then
// bbolt has rolled the transaction back, so either is returned as ErrCorrupt
// rather than taking the node down.
func (s *Store) guard(call func() error) (err error) {
	// NB: SetPanicOnFault is per goroutine and meant for memory-mapped
	// files: a fault becomes a panic that recover can catch.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fail(ErrCorrupt, nil, fmt.Sprintf("store: %s: bbolt failed on damaged data: %v", s.path, r))
		}
	}()
	err = call()
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
