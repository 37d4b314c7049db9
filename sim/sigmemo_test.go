package sim

import (
	"bytes"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// TestSigMemoMatchesStdlib: the memo answers as crypto/ed25519 does, in
// either order of asking, for a valid signature and for a 320-byte
// "signature" made of it and the message's head, whose key once collided
// with the valid one's (review of the memo, 2026-12-06).
func TestSigMemoMatchesStdlib(t *testing.T) {
	k := entry.NewPrivateKey([32]byte{1})
	pub := k.Public()
	msg := bytes.Repeat([]byte("m"), 300)
	sig := k.Sign(msg)
	long, rest := append(bytes.Clone(sig), msg[:256]...), msg[256:]
	cases := []struct {
		name     string
		msg, sig []byte
	}{
		{"valid", msg, sig},
		{"long", rest, long},
		{"flipped", msg, append(bytes.Clone(sig[:63]), sig[63]^1)},
		{"short", msg, sig[:63]},
	}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}} {
		var s sigMemo
		for range 2 { // the second pass answers from memory
			for _, i := range order {
				c := cases[i]
				if got, want := s.Verify(pub, c.msg, c.sig), pub.Verify(c.msg, c.sig); got != want {
					t.Errorf("order %v, %s: memo %v, crypto/ed25519 %v", order, c.name, got, want)
				}
			}
		}
		if s.hits == 0 {
			t.Errorf("order %v: nothing answered from memory", order)
		}
	}
}
