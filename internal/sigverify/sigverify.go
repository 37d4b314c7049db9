// Package sigverify checks entry signatures faster than crypto/ed25519 and
// accepts exactly the same ones.
//
// It uses curve25519-voi's Ed25519 with VerifyOptionsStdLib (cofactorless
// equation, canonical R and S, non-canonical and small-order A and small-order
// R allowed, as crypto/ed25519 does) and keeps each signer's public key in
// expanded form (decompressed, with its multiplication table), which a
// bootstrap reuses for every entry of the same writer. A signature it
// rejects is checked again with crypto/ed25519, so a disagreement can only
// cost time, never refuse a valid entry.
//
// Batch verification (voi's BatchVerifier) is not used: it checks the
// cofactored equation, which accepts signatures crafted with small-order
// components that crypto/ed25519, and so every other node, refuses (voi
// documents VerifyOptionsStdLib as incompatible with batches). Such an entry
// would be stored here and refused everywhere else.
package sigverify

import (
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/eidsync/eidsync/kernel/entry"
)

// KeysMax bounds the expanded keys kept (about 3 KiB each: two tables of
// eight multiples of -A); past it the cache starts over.
const KeysMax = 256

var stdlibOptions = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Verifier is an entry.Verifier with a cache of expanded keys. The zero
// value is ready; it is safe for concurrent use.
type Verifier struct {
	mu   sync.RWMutex
	keys map[entry.PublicKey]*voi.ExpandedPublicKey
}

// Verify reports whether sig is a valid signature of message by pub, as
// crypto/ed25519.Verify does.
func (v *Verifier) Verify(pub entry.PublicKey, message, sig []byte) bool {
	if pub.IsZero() || len(sig) != voi.SignatureSize {
		return false
	}
	if xp := v.expanded(pub); xp != nil && voi.VerifyExpandedWithOptions(xp, message, sig, stdlibOptions) {
		return true
	}
	return pub.Verify(message, sig)
}

// Func returns v.Verify as an entry.Verifier.
func (v *Verifier) Func() entry.Verifier { return v.Verify }

// expanded returns pub's expanded form, or nil if voi cannot decode it (the
// standard library then decides).
func (v *Verifier) expanded(pub entry.PublicKey) *voi.ExpandedPublicKey {
	v.mu.RLock()
	xp, ok := v.keys[pub]
	v.mu.RUnlock()
	if ok {
		return xp
	}
	xp, err := voi.NewExpandedPublicKey(voi.PublicKey(pub[:]))
	if err != nil {
		xp = nil
	}
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= KeysMax {
		v.keys = make(map[entry.PublicKey]*voi.ExpandedPublicKey)
	}
	v.keys[pub] = xp
	v.mu.Unlock()
	return xp
}
