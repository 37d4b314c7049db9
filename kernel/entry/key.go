package entry

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

const keyPrefix = "ed25519:"

// PublicKey is an Ed25519 public key. Its string form is "ed25519:" plus the
// padded standard base64 of its 32 bytes (44 characters), the reference's
// PublicKey and peer ID format. The zero value means "no key".
type PublicKey [ed25519.PublicKeySize]byte

// PrivateKey is an Ed25519 private key kept as its 32-byte seed. Its string
// form is "ed25519:" plus the padded standard base64 of the seed.
type PrivateKey struct{ key ed25519.PrivateKey }

// NewPrivateKey derives a private key from a 32-byte seed. The kernel draws no
// randomness: the caller supplies the seed (from crypto/rand in production).
func NewPrivateKey(seed [ed25519.SeedSize]byte) PrivateKey {
	return PrivateKey{key: ed25519.NewKeyFromSeed(seed[:])}
}

// ParsePrivateKey parses "ed25519:<base64 seed>".
func ParsePrivateKey(s string) (PrivateKey, error) {
	raw, err := parseKeyString(s, ed25519.SeedSize)
	if err != nil {
		return PrivateKey{}, err
	}
	return PrivateKey{key: ed25519.NewKeyFromSeed(raw)}, nil
}

// String returns "ed25519:<base64 seed>". NB: this is the secret.
func (k PrivateKey) String() string {
	if k.key == nil {
		return ""
	}
	return keyPrefix + base64.StdEncoding.EncodeToString(k.key.Seed())
}

// Public returns the public half, or the zero PublicKey for the zero
// PrivateKey.
func (k PrivateKey) Public() PublicKey {
	var p PublicKey
	if k.key != nil {
		copy(p[:], k.key[ed25519.SeedSize:])
	}
	return p
}

// Sign signs message. It panics on the zero PrivateKey, a programmer error.
func (k PrivateKey) Sign(message []byte) []byte {
	if k.key == nil {
		panic("entry: assertion failed: Sign with the zero PrivateKey")
	}
	// NB: curve25519-voi, not crypto/ed25519, whose Sign derives the public
	// key from the seed again on every call (a second base-point
	// multiplication, half its cost). Ed25519 signing is deterministic
	// (RFC 8032), so both give the same bytes; TestSignMatchesStdlib checks.
	return voi.Sign(voi.PrivateKey(k.key), message)
}

// ParsePublicKey parses "ed25519:<base64>". Only canonical, padded standard
// base64 of exactly 32 bytes is accepted (PROTOCOL.md 12.4), and the all-zero
// key is refused because the zero PublicKey means "no key".
func ParsePublicKey(s string) (PublicKey, error) {
	raw, err := parseKeyString(s, ed25519.PublicKeySize)
	if err != nil {
		return PublicKey{}, err
	}
	var p PublicKey
	copy(p[:], raw)
	if p.IsZero() {
		return PublicKey{}, fmt.Errorf("%w: all-zero key", ErrBadKey)
	}
	return p, nil
}

func parseKeyString(s string, size int) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: %q lacks the %q prefix", ErrBadKey, clip(s), keyPrefix)
	}
	if len(enc) != base64.StdEncoding.EncodedLen(size) {
		return nil, fmt.Errorf("%w: %q: want %d bytes", ErrBadKey, clip(s), size)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(raw) != size {
		return nil, fmt.Errorf("%w: %q: not canonical padded base64", ErrBadKey, clip(s))
	}
	return raw, nil
}

// IsZero reports whether k is the zero key ("no key").
func (k PublicKey) IsZero() bool { return k == PublicKey{} }

// String returns "ed25519:<base64>", or "" for the zero key.
func (k PublicKey) String() string {
	if k.IsZero() {
		return ""
	}
	return keyPrefix + base64.StdEncoding.EncodeToString(k[:])
}

// AppendText appends String's form to b, without String's allocations.
func (k PublicKey) AppendText(b []byte) []byte {
	if k.IsZero() {
		return b
	}
	return base64.StdEncoding.AppendEncode(append(b, keyPrefix...), k[:])
}

// Verify reports whether sig is a valid signature of message by k.
func (k PublicKey) Verify(message, sig []byte) bool {
	return !k.IsZero() && len(sig) == ed25519.SignatureSize && ed25519.Verify(k[:], message, sig)
}

// MarshalJSON encodes the key as its string form.
func (k PublicKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// UnmarshalJSON decodes the string form; other JSON is refused.
func (k *PublicKey) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: want a JSON string", ErrBadKey)
	}
	p, err := ParsePublicKey(s)
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// MarshalCBOR encodes the key as a CBOR text string of its string form.
func (k PublicKey) MarshalCBOR() ([]byte, error) { return encMode.Marshal(k.String()) }

// UnmarshalCBOR decodes a CBOR text string holding the string form.
func (k *PublicKey) UnmarshalCBOR(data []byte) error {
	var s string
	if err := decMode.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: want a CBOR text string", ErrBadKey)
	}
	p, err := ParsePublicKey(s)
	if err != nil {
		return err
	}
	*k = p
	return nil
}
