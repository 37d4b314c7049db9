package entry

import "errors"

// Errors returned when bytes cannot be decoded into an entry. Each wraps
// ErrMalformed, so a caller can test for the group or for the exact cause.
var (
	// ErrMalformed is the group error for any input that is not a valid entry.
	ErrMalformed = errors.New("entry: malformed")

	// ErrNonCanonical reports CBOR that decodes but is not the canonical
	// encoding: unsorted map keys, non-minimal integers or explicit defaults.
	ErrNonCanonical = malformed("non-canonical CBOR")
	// ErrIndefiniteLength reports an indefinite-length CBOR item, which
	// DAG-CBOR forbids.
	ErrIndefiniteLength = malformed("indefinite-length CBOR item")
	// ErrUnsupportedCBOR reports CBOR outside the entry schema: floats,
	// simple values other than true, false and null, tags other than 42.
	ErrUnsupportedCBOR = malformed("unsupported CBOR item")
	// ErrTruncated reports input that ends inside an item.
	ErrTruncated = malformed("truncated input")
	// ErrTrailingBytes reports bytes after the end of the entry.
	ErrTrailingBytes = malformed("trailing bytes after entry")
	// ErrMissingField reports a required field that is absent.
	ErrMissingField = malformed("missing required field")
	// ErrBadBytes reports a v0 JSON byte string that is not an array of
	// integers 0 to 255 (PROTOCOL.md 12.1: a string is never accepted).
	ErrBadBytes = malformed("byte string must be a JSON array of integers 0-255")
)

// Errors for entries that parse but break a rule of PROTOCOL.md 1.1 or a limit.
var (
	// ErrUnsupportedVersion reports an entry whose _v is not 0.
	ErrUnsupportedVersion = malformed("unsupported Entry version")
	// ErrEmptyStoreName reports a store with an empty name.
	ErrEmptyStoreName = malformed("empty store name")
	// ErrDuplicateStore reports two stores with the same name in one entry.
	ErrDuplicateStore = malformed("duplicate store name")
	// ErrEmptyParentID reports an empty ID in a main or store parent list.
	ErrEmptyParentID = malformed("empty parent ID")
	// ErrMissingParents reports a non-root entry without main parents.
	ErrMissingParents = malformed("non-root entry has no parents")
	// ErrRootWithParents reports an entry carrying the _root store and parents.
	ErrRootWithParents = malformed("entry with _root store has parents")
	// ErrTooLarge reports a field, list or encoding over its Limits value.
	ErrTooLarge = malformed("over size limit")
)

// Errors about IDs, keys and signatures.
var (
	// ErrBadID reports a string or byte form that is not a CIDv1.
	ErrBadID = malformed("invalid ID")
	// ErrBadKey reports a public or private key string that is not canonical
	// "ed25519:" plus padded standard base64 of exactly 32 bytes.
	ErrBadKey = malformed("invalid ed25519 key")
	// ErrMalformedSig reports a SigInfo the reference calls malformed: a hint
	// without a signature, a signature without a hint, a delegation without a
	// signature, or a signature that is not base64 of 64 bytes.
	ErrMalformedSig = malformed("malformed signature info")
	// ErrBadSignature reports a well-formed signature that does not verify.
	ErrBadSignature = errors.New("entry: signature does not verify")
)

// malformedError is a specific cause that also matches ErrMalformed.
type malformedError struct{ msg string }

func malformed(msg string) error { return &malformedError{msg: "entry: " + msg} }

func (e *malformedError) Error() string { return e.msg }

func (e *malformedError) Is(target error) bool { return target == ErrMalformed }
