package kernel

import (
	"bytes"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Signature checks off the machine's loop. A node steps every event on one
// goroutine, and an Ed25519 check costs more than the rest of a typical
// Step; yet a check needs only the message (and, for a reply, the request
// it answers). So a transport or driver may run them on its own goroutines
// before the event is stepped, as VerifySignatures does for entries. The
// machine skips a check it finds done for exactly the bytes and key it
// would check, and does any other itself: a check done elsewhere can save
// time, never let a signature through. Freshness, nonces and permissions
// stay the machine's.

// signatureCheck records one signature that verified: by key, of msg.
type signatureCheck struct {
	key      entry.PublicKey
	msg, sig []byte
}

// verifyChecked reports whether sig is key's signature of msg, taking c's
// word for it when c recorded exactly that.
func (m *Machine) verifyChecked(c *signatureCheck, key entry.PublicKey, msg, sig []byte) bool {
	if c != nil && c.key == key && bytes.Equal(c.msg, msg) && bytes.Equal(c.sig, sig) {
		return true
	}
	return m.keys.Verify(key, msg, sig)
}

// check records verify's answer for key's signature sig of msg, or nil.
func check(verify entry.Verifier, key entry.PublicKey, msg, sig []byte) *signatureCheck {
	if verify == nil {
		verify = entry.PublicKey.Verify
	}
	if !verify(key, msg, sig) {
		return nil
	}
	return &signatureCheck{key: key, msg: msg, sig: bytes.Clone(sig)}
}

// CheckRequestAuth checks the signature of the request auth msg carries,
// as addressed to server (the receiving node's key), with verify (nil:
// crypto/ed25519), and marks it when it verifies. verify must accept
// exactly what crypto/ed25519 accepts. The caller owns msg: its auth is
// marked in place.
func CheckRequestAuth(msg Message, server entry.PublicKey, verify entry.Verifier) {
	auth := requestAuthOf(msg)
	if auth == nil || auth.Key.IsZero() || len(auth.Nonce) != nonceBytes || len(auth.Signature) != 64 {
		return // the machine refuses it, or has nothing to check
	}
	domain, tree, ids := authFields(msg)
	auth.checked = check(verify, auth.Key, requestBytes(domain, server, tree, ids, auth.TimestampMs, auth.Nonce), auth.Signature)
}

// CheckReply checks the signature in reply that proves who answered req
// (a HandshakeResponse's challenge response) with verify (nil:
// crypto/ed25519) and returns reply marked when it verifies, else as is.
// verify must accept exactly what crypto/ed25519 accepts.
func CheckReply(req, reply Message, verify entry.Verifier) Message {
	hs, ok := req.(Handshake)
	resp, isResp := reply.(HandshakeResponse)
	if !ok || !isResp || resp.ProtocolVersion != hs.ProtocolVersion {
		return reply
	}
	resp.checked = check(verify, resp.PublicKey, handshakeSigned(hs.ProtocolVersion, hs.Challenge), resp.ChallengeResponse)
	return resp
}
