package entry

import (
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Ed25519 through curve25519-voi, for speed only. crypto/ed25519 stays the
// definition of a valid signature: voi verifies with VerifyOptionsStdLib
// (the cofactorless equation, canonical R and S, small-order and
// non-canonical A allowed, as the standard library does), and a signature
// voi rejects is checked again with crypto/ed25519, so a disagreement could
// only cost time, never refuse a valid signature. Batch verification is not
// used: it checks the cofactored equation, which accepts signatures that
// every other node refuses.

var stdlibOptions = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// ExpandedKey is a public key decompressed, with its multiplication
// tables: verifying with it skips the decompression and table set-up that
// every plain Verify redoes, which pays off for a signer whose signatures
// are checked many times (a bootstrap's writer, a peer's request auth).
type ExpandedKey struct {
	pub PublicKey
	x   *voi.ExpandedPublicKey // nil: voi cannot decode pub, crypto/ed25519 decides
}

// Expand returns k's expanded form.
func (k PublicKey) Expand() ExpandedKey {
	x, err := voi.NewExpandedPublicKey(voi.PublicKey(k[:]))
	if err != nil {
		x = nil
	}
	return ExpandedKey{pub: k, x: x}
}

// Verify reports whether sig is a valid signature of message by the key,
// exactly as PublicKey.Verify (crypto/ed25519) does.
func (x ExpandedKey) Verify(message, sig []byte) bool {
	if x.pub.IsZero() || len(sig) != voi.SignatureSize {
		return false
	}
	if x.x != nil && voi.VerifyExpandedWithOptions(x.x, message, sig, stdlibOptions) {
		return true
	}
	return x.pub.Verify(message, sig)
}

// KeysMax bounds the expanded keys a KeyCache keeps (about 3 KiB each);
// past it the cache starts over, which costs speed, never an answer.
const KeysMax = 256

// KeyCache verifies signatures with the expanded keys of recent signers.
// What it holds changes only how fast it answers, never what, so a pure
// state machine may keep one. The zero value is ready; it is not safe for
// concurrent use.
type KeyCache struct{ keys map[PublicKey]ExpandedKey }

// Expanded returns pub's expanded key, expanding it on first use.
func (c *KeyCache) Expanded(pub PublicKey) ExpandedKey {
	if x, ok := c.Lookup(pub); ok {
		return x
	}
	x := pub.Expand()
	c.Add(x)
	return x
}

// Lookup returns pub's expanded key if the cache holds it. It changes
// nothing, so concurrent Lookups are safe while no Add runs.
func (c *KeyCache) Lookup(pub PublicKey) (ExpandedKey, bool) {
	x, ok := c.keys[pub]
	return x, ok
}

// Add keeps x, starting the cache over once it holds KeysMax keys.
func (c *KeyCache) Add(x ExpandedKey) {
	if c.keys == nil || len(c.keys) >= KeysMax {
		c.keys = make(map[PublicKey]ExpandedKey)
	}
	c.keys[x.pub] = x
}

// Verify is a Verifier: it reports whether sig is a valid signature of
// message by pub, as PublicKey.Verify does.
func (c *KeyCache) Verify(pub PublicKey, message, sig []byte) bool {
	if pub.IsZero() || len(sig) != voi.SignatureSize {
		return false
	}
	return c.Expanded(pub).Verify(message, sig)
}
