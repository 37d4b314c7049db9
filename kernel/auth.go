package kernel

import (
	"encoding/binary"
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Request auth (PROTOCOL.md 2.3): a SyncTree may carry a signature proving
// that the sender holds a key, bound to this server's key, the tree, the
// sender's tips, a timestamp and a single-use nonce.

// requestAuthDomain is the reference's domain string for the signed bytes.
const requestAuthDomain = "eidetica/sync/tree-request/v1"

// RequestAuthBytes returns what a SyncRequestAuth signs: each field preceded
// by its length as a u64 big-endian: the domain, the server's key string,
// the tree ID string, the tip count (8 bytes), each tip ID string in
// Snapshot order (sorted by binary CID, deduplicated), the timestamp (8
// bytes) and the nonce. Tips are normalized here, as the server does before
// it verifies.
func RequestAuthBytes(server entry.PublicKey, tree entry.ID, tips []entry.ID, timestampMs uint64, nonce []byte) []byte {
	return requestBytes(requestAuthDomain, server, tree, tips, timestampMs, nonce)
}

// The v1 requests that carry auth sign the same layout under their own
// domains, so that no signature made for one kind of request verifies as
// another: a GetEntries auth names IDs to fetch, a push the IDs it carries.
const (
	getEntriesAuthDomain  = "eidsync/sync/get-entries/v1"
	pushEntriesAuthDomain = "eidsync/sync/push-entries/v1"
)

// authFields returns what msg's auth signs besides the server, time and nonce.
func authFields(msg Message) (domain string, tree entry.ID, ids []entry.ID) {
	switch msg := msg.(type) {
	case SyncTree:
		return requestAuthDomain, msg.TreeID, msg.OurTips
	case GetEntries:
		return getEntriesAuthDomain, msg.TreeID, msg.IDs
	case SendEntries:
		ids = make([]entry.ID, len(msg.Entries))
		for i, b := range msg.Entries {
			ids[i] = b.ID
		}
		return pushEntriesAuthDomain, msg.TreeID, ids
	}
	panic(fmt.Sprintf("kernel: assertion failed: %T carries no request auth", msg))
}

func requestBytes(domain string, server entry.PublicKey, tree entry.ID, tips []entry.ID, timestampMs uint64, nonce []byte) []byte {
	sorted := entry.SortIDs(append([]entry.ID(nil), tips...))
	// NB: sized once (a textual ID is at most 64 bytes, a key 52) and
	// filled in place: requests are signed and checked on every sync.
	out := make([]byte, 0, 8*(6+len(sorted))+len(domain)+52+64*(1+len(sorted))+8+len(nonce))
	// field appends a length-prefixed field that appendTo writes.
	field := func(appendTo func([]byte) []byte) {
		at := len(out)
		out = appendTo(append(out, 0, 0, 0, 0, 0, 0, 0, 0))
		binary.BigEndian.PutUint64(out[at:], uint64(len(out)-at-8))
	}
	raw := func(b []byte) func([]byte) []byte { return func(out []byte) []byte { return append(out, b...) } }
	u64 := func(v uint64) func([]byte) []byte {
		return func(out []byte) []byte { return binary.BigEndian.AppendUint64(out, v) }
	}
	field(func(out []byte) []byte { return append(out, domain...) })
	field(server.AppendText)
	field(tree.AppendText)
	field(u64(uint64(len(sorted))))
	for _, tip := range sorted {
		field(tip.AppendText)
	}
	field(u64(timestampMs))
	field(raw(nonce))
	return out
}

// SignRequest makes the auth of a SyncTree for server with key.
func SignRequest(key entry.PrivateKey, server entry.PublicKey, tree entry.ID, tips []entry.ID, timestampMs uint64, nonce []byte) RequestAuth {
	msg := RequestAuthBytes(server, tree, tips, timestampMs, nonce)
	return RequestAuth{Key: key.Public(), TimestampMs: timestampMs, Nonce: append([]byte(nil), nonce...), Signature: key.Sign(msg)}
}

// SignAuth makes the auth of any request that carries one (SyncTree,
// GetEntries, SendEntries sent as PushEntries) for server with key. The
// message's own fields are bound: set them before signing.
func SignAuth(key entry.PrivateKey, server entry.PublicKey, msg Message, timestampMs uint64, nonce []byte) *RequestAuth {
	domain, tree, ids := authFields(msg)
	sig := key.Sign(requestBytes(domain, server, tree, ids, timestampMs, nonce))
	return &RequestAuth{Key: key.Public(), TimestampMs: timestampMs, Nonce: append([]byte(nil), nonce...), Signature: sig}
}

// nonceBytes is the only nonce size accepted (the reference's clients send
// 32; its server does not check, PROTOCOL.md 12.4).
const nonceBytes = 32

// VerifyRequest checks a SyncTree's auth for this server: well formed, made
// by auth.Key over the request's own fields, and fresh within windowMs of
// nowMs. It does not spend the nonce; the caller does, once the request is
// accepted, so that a replay is refused.
func VerifyRequest(auth *RequestAuth, server entry.PublicKey, tree entry.ID, tips []entry.ID, nowMs int64, windowMs uint64) error {
	return verifyRequest(entry.PublicKey.Verify, auth, requestAuthDomain, server, tree, tips, nowMs, windowMs)
}

// verifyAuth checks the auth msg carries, for this machine, now.
func (m *Machine) verifyAuth(auth *RequestAuth, msg Message) error {
	domain, tree, ids := authFields(msg)
	verify := func(key entry.PublicKey, signed, sig []byte) bool {
		return m.verifyChecked(auth.checked, key, signed, sig)
	}
	return verifyRequest(verify, auth, domain, m.cfg.DeviceKey.Public(), tree, ids, m.nowMs, m.cfg.AuthWindowMs)
}

func verifyRequest(verify entry.Verifier, auth *RequestAuth, domain string, server entry.PublicKey, tree entry.ID, tips []entry.ID, nowMs int64, windowMs uint64) error {
	switch {
	case auth == nil:
		return fmt.Errorf("%w: the request is not signed", ErrMalformed)
	case auth.Key.IsZero() || len(auth.Nonce) != nonceBytes || len(auth.Signature) != 64:
		return fmt.Errorf("%w: request auth needs a key, a %d-byte nonce and a 64-byte signature", ErrMalformed, nonceBytes)
	}
	age := nowMs - int64(auth.TimestampMs)
	if nowMs < 0 || auth.TimestampMs > 1<<62 || age > int64(windowMs) || -age > int64(windowMs) {
		return fmt.Errorf("%w: request timestamp %d is not within %d ms of %d", ErrMalformed, auth.TimestampMs, windowMs, nowMs)
	}
	if !verify(auth.Key, requestBytes(domain, server, tree, tips, auth.TimestampMs, auth.Nonce), auth.Signature) {
		return fmt.Errorf("%w: request signature does not verify", ErrMalformed)
	}
	return nil
}
