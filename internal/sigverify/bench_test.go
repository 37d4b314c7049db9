package sigverify_test

import (
	"crypto/ed25519"
	"math/rand/v2"
	"testing"

	"github.com/eidsync/eidsync/internal/sigverify"
	"github.com/eidsync/eidsync/kernel/entry"
)

// BenchmarkVerify compares crypto/ed25519 with sigverify on 400-byte
// messages of one signer, as a bootstrap's entries are; alternate the two
// in one run (-count) and compare their ratio, not absolute times.
func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.NewChaCha8([32]byte{3}))
	msgs := make([][]byte, 256)
	sigs := make([][]byte, len(msgs))
	for i := range msgs {
		msgs[i] = make([]byte, 400)
		msgs[i][0], msgs[i][1] = byte(i), byte(i>>8)
		sigs[i] = ed25519.Sign(priv, msgs[i])
	}
	var v sigverify.Verifier
	key := entry.PublicKey(pub)
	for _, c := range []struct {
		name string
		fn   func(i int) bool
	}{
		{"stdlib", func(i int) bool { return key.Verify(msgs[i], sigs[i]) }},
		{"sigverify", func(i int) bool { return v.Verify(key, msgs[i], sigs[i]) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if !c.fn(i % len(msgs)) {
					b.Fatal("refused")
				}
				i++
			}
		})
	}
}
