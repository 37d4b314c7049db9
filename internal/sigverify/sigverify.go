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
