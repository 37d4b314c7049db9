package kernel

import "errors"

// Errors returned by Step and by the wire codec. Step returns them for input
// it refuses; the machine's state is then exactly as before the call.
var (
	// ErrMalformed reports a message or event that does not parse or breaks
	// the protocol's shape rules.
	ErrMalformed = errors.New("kernel: malformed message")
	// ErrMessageTooLarge reports a message over MessageBytesMax or one of the
	// per-message count limits (entries, IDs, tips, metadata bytes).
	ErrMessageTooLarge = errors.New("kernel: message too large")
	// ErrUnknownVariant reports a wire enum variant this node does not know.
	ErrUnknownVariant = errors.New("kernel: unknown message variant")
	// ErrNotV0 reports an attempt to encode a version-1 message or field for a
	// version-0 peer; the kernel never emits one, so this is a caller bug.
	ErrNotV0 = errors.New("kernel: message needs protocol version 1")
	// ErrUnknownPeer reports an event naming a peer the machine does not know.
	ErrUnknownPeer = errors.New("kernel: unknown peer")
	// ErrUnknownTree reports a request about a tree the machine does not hold.
	ErrUnknownTree = errors.New("kernel: tree not found")
	// ErrUnknownSeq reports a completion or reply for no outstanding effect.
	ErrUnknownSeq = errors.New("kernel: unknown effect sequence number")
	// ErrLimit reports work refused because a Config limit is reached.
	ErrLimit = errors.New("kernel: limit reached")
	// ErrInvalidEntry reports a local commit that cannot be stored: bad
	// signature, unknown tree, missing parents.
	ErrInvalidEntry = errors.New("kernel: invalid entry")
	// ErrConfig reports a Config that fails Validate.
	ErrConfig = errors.New("kernel: invalid config")
)
