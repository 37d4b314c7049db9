package sigverify

import (
	"sync"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Verifier is an entry.Verifier with a cache of expanded keys shared by
// goroutines (an entry.KeyCache behind a lock; a key is expanded outside
// it). The zero value is ready; it is safe for concurrent use.
type Verifier struct {
	mu   sync.RWMutex
	keys entry.KeyCache
}

// Verify reports whether sig is a valid signature of message by pub, as
// crypto/ed25519.Verify does.
func (v *Verifier) Verify(pub entry.PublicKey, message, sig []byte) bool {
	if pub.IsZero() || len(sig) != 64 {
		return false
	}
	return v.expanded(pub).Verify(message, sig)
}

// Func returns v.Verify as an entry.Verifier.
func (v *Verifier) Func() entry.Verifier { return v.Verify }

// expanded returns pub's expanded form, expanding it outside the lock.
func (v *Verifier) expanded(pub entry.PublicKey) entry.ExpandedKey {
	v.mu.RLock()
	x, ok := v.keys.Lookup(pub)
	v.mu.RUnlock()
	if ok {
		return x
	}
	x = pub.Expand()
	v.mu.Lock()
	v.keys.Add(x)
	v.mu.Unlock()
	return x
}
