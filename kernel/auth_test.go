package kernel

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// TestRequestAuthBytesLayout pins the signed bytes against a hand-built
// layout of PROTOCOL.md 2.3, including the NB that the count and the
// timestamp are length-prefixed 8-byte fields.
func TestRequestAuthBytesLayout(t *testing.T) {
	server := entry.NewPrivateKey([32]byte{9}).Public()
	a, b := entry.IDOf([]byte("a")), entry.IDOf([]byte("b"))
	tree := entry.IDOf([]byte("tree"))
	nonce := bytes.Repeat([]byte{7}, 32)
	got := RequestAuthBytes(server, tree, []entry.ID{b, a, b}, 1_700_000_000_000, nonce)
	first, second := a, b
	if b.Compare(a) < 0 {
		first, second = b, a
	}
	var want bytes.Buffer
	put := func(s []byte) {
		want.Write([]byte{0, 0, 0, 0, 0, 0, 0, byte(len(s))})
		want.Write(s)
	}
	put([]byte("eidetica/sync/tree-request/v1"))
	put([]byte(server.String()))
	put([]byte(tree.String()))
	want.Write([]byte{0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2})
	put([]byte(first.String()))
	put([]byte(second.String()))
	ts, _ := hex.DecodeString("00000000000000080000018bcfe56800")
	want.Write(ts)
	put(nonce)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("layout differs:\n got %x\nwant %x", got, want.Bytes())
	}
}

func TestVerifyRequest(t *testing.T) {
	key := entry.NewPrivateKey([32]byte{1})
	server := entry.NewPrivateKey([32]byte{2}).Public()
	other := entry.NewPrivateKey([32]byte{3}).Public()
	tree, tip := entry.IDOf([]byte("t")), entry.IDOf([]byte("x"))
	nonce := bytes.Repeat([]byte{1}, 32)
	const now = int64(1_700_000_000_000)
	good := SignRequest(key, server, tree, []entry.ID{tip}, uint64(now), nonce)
	if err := VerifyRequest(&good, server, tree, []entry.ID{tip}, now+59_000, 60_000); err != nil {
		t.Fatalf("good request: %v", err)
	}
	tampered := good
	tampered.Signature = append([]byte(nil), good.Signature...)
	tampered.Signature[0] ^= 1
	short := good
	short.Nonce = nonce[:8]
	tests := []struct {
		name   string
		auth   *RequestAuth
		server entry.PublicKey
		tips   []entry.ID
		now    int64
	}{
		{"unsigned", nil, server, []entry.ID{tip}, now},
		{"other server", &good, other, []entry.ID{tip}, now},
		{"other tips", &good, server, nil, now},
		{"stale", &good, server, []entry.ID{tip}, now + 61_000},
		{"from the future", &good, server, []entry.ID{tip}, now - 61_000},
		{"tampered signature", &tampered, server, []entry.ID{tip}, now},
		{"short nonce", &short, server, []entry.ID{tip}, now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyRequest(tc.auth, tc.server, tree, tc.tips, tc.now, 60_000); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
