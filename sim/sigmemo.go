package sim

import (
	"crypto/ed25519"

	"github.com/eidsync/eidsync/kernel/entry"
)

// sigMemo is the simulated transports' signature verifier, shared by every
// node of a run. An Ed25519 check is a pure function of (key, message,
// signature), so the first node to check a triple computes the answer (with
// an entry.KeyCache: crypto/ed25519's verdicts, exactly) and every later
// check of the same bytes, on any node, reads it back. The kernel is not
// involved: it still gets the precheck marks (kernel.VerifySignaturesWith,
// CheckRequestAuth, CheckReply) that a real transport would give it.
//
// Why shared: an entry reaches every node of a run, often several times
// (duplicates, replays, re-sent bootstraps), and a large seed spent about a
// fifth of its CPU verifying the same entry signatures again on each node.
// The key is the exact bytes, never a digest of them, so that no collision
// can pass a signature that crypto/ed25519 would refuse. The integrity
// checker does not use it: it checks stored entries with crypto/ed25519
// itself, independently of what the transports' checks said.
type sigMemo struct {
	keys    entry.KeyCache
	answers map[string]bool
	buf     []byte
	hits    int // answers read back from memory (a test asks)
}

// sigMemoMax bounds the remembered answers; past it the memo starts over,
// which costs time, never a different answer.
const sigMemoMax = 1 << 15

// Verify is an entry.Verifier.
func (s *sigMemo) Verify(pub entry.PublicKey, message, sig []byte) bool {
	// NB: the length check comes first and makes the key unambiguous: key
	// and signature have fixed sizes, so the message is the rest. A length
	// byte in the key instead wrapped at 256, and a 320-byte "signature"
	// (a HandshakeResponse's challenge response is passed on unchecked)
	// then shared its key with a valid signature of a longer message.
	if len(sig) != ed25519.SignatureSize {
		return false // crypto/ed25519's answer
	}
	s.buf = append(append(append(s.buf[:0], pub[:]...), sig...), message...)
	if ok, seen := s.answers[string(s.buf)]; seen {
		s.hits++
		return ok
	}
	ok := s.keys.Verify(pub, message, sig)
	if s.answers == nil || len(s.answers) >= sigMemoMax {
		s.answers = make(map[string]bool)
	}
	s.answers[string(s.buf)] = ok
	return ok
}
