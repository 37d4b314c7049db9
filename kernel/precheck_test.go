package kernel

import (
	"bytes"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// TestPrecheckCoversExactlyWhatItChecked: a signature checked off the loop
// is taken only for the very key, bytes and signature that verified; the
// machine checks anything else itself, and a signature that does not
// verify, or is addressed to another node, is never marked.
func TestPrecheckCoversExactlyWhatItChecked(t *testing.T) {
	client, serverKey := entry.NewPrivateKey([32]byte{1}), entry.NewPrivateKey([32]byte{2})
	server, other := serverKey.Public(), entry.NewPrivateKey([32]byte{3}).Public()
	m := &Machine{}
	tree := entry.IDOf([]byte("tree"))
	msg := SyncTree{TreeID: tree, OurTips: []entry.ID{entry.IDOf([]byte("a"))}}
	const ts = 1_700_000_000_000
	msg.Auth = SignAuth(client, server, msg, ts, bytes.Repeat([]byte{7}, nonceBytes))

	if CheckRequestAuth(msg, other, nil); msg.Auth.checked != nil {
		t.Fatal("an auth addressed to another server was marked")
	}
	if CheckRequestAuth(msg, server, nil); msg.Auth.checked == nil {
		t.Fatal("a valid auth was not marked")
	}
	signed := requestBytes(requestAuthDomain, server, tree, msg.OurTips, ts, msg.Auth.Nonce)
	if !m.verifyChecked(msg.Auth.checked, client.Public(), signed, msg.Auth.Signature) {
		t.Fatal("the marked auth was refused")
	}
	otherTips := requestBytes(requestAuthDomain, server, tree, nil, ts, msg.Auth.Nonce)
	if m.verifyChecked(msg.Auth.checked, client.Public(), otherTips, msg.Auth.Signature) {
		t.Fatal("the mark was taken for other tips")
	}
	forged := *msg.Auth
	forged.Signature, forged.checked = make([]byte, 64), nil
	msg.Auth = &forged
	if CheckRequestAuth(msg, server, nil); forged.checked != nil {
		t.Fatal("a forged signature was marked")
	}

	hs := Handshake{ProtocolVersion: ProtocolV1, Challenge: bytes.Repeat([]byte{1}, challengeBytes)}
	resp := HandshakeResponse{PublicKey: server, ProtocolVersion: ProtocolV1,
		ChallengeResponse: serverKey.Sign(handshakeSigned(ProtocolV1, hs.Challenge))}
	got := CheckReply(hs, resp, nil).(HandshakeResponse)
	if got.checked == nil {
		t.Fatal("a valid handshake proof was not marked")
	}
	hs2 := Handshake{ProtocolVersion: ProtocolV1, Challenge: bytes.Repeat([]byte{2}, challengeBytes)}
	if CheckReply(hs2, resp, nil).(HandshakeResponse).checked != nil {
		t.Fatal("a proof for another challenge was marked")
	}
	if m.verifyChecked(got.checked, server, handshakeSigned(ProtocolV1, hs2.Challenge), resp.ChallengeResponse) {
		t.Fatal("the mark was taken for another challenge")
	}
}
