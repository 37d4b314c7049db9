package store

import "errors"

// Errors returned by the store. Each error it returns has a message written
// for the person who reads it, naming the path, entry or tree concerned, and
// matches one of these with errors.Is when one applies.
var (
	// ErrLocked reports a database file held by another process (or
	// another Store in this one) for longer than Options.LockTimeout.
	ErrLocked = errors.New("store: locked by another process")
	// ErrCorrupt reports data on disk that is not what the store wrote: a
	// file that is not a bbolt database, an entry whose bytes do not decode
	// or do not hash to its ID, a malformed index record.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrSchema reports a bbolt database this version cannot use: one
	// written by a newer version of the store, or not an eidsync store.
	ErrSchema = errors.New("store: unsupported schema")
	// ErrClosed reports a call on a Store after Close.
	ErrClosed = errors.New("store: closed")
	// ErrWriteFailed reports a batch the file system would not take (full,
	// over quota, read-only, or an I/O error): bbolt rolled the transaction
	// back, so nothing of the batch was stored and everything committed
	// before is intact.
	ErrWriteFailed = errors.New("store: write failed")
	// ErrRefused reports a batch of writes that Apply refused whole because
	// a blob breaks the store's preconditions (see the package doc); nothing
	// of the batch was stored.
	ErrRefused = errors.New("store: write refused")
)

// failure is an error whose text is written for the reader and which still
// matches a sentinel and its cause with errors.Is and errors.As.
type failure struct {
	msg  string
	errs []error
}

func (f *failure) Error() string   { return f.msg }
func (f *failure) Unwrap() []error { return f.errs }

// fail returns an error with text msg matching sentinel and cause; either
// may be nil.
func fail(sentinel, cause error, msg string) error {
	f := &failure{msg: msg}
	for _, e := range []error{sentinel, cause} {
		if e != nil {
			f.errs = append(f.errs, e)
		}
	}
	return f
}
