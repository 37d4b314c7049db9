package sigverify_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/eidsync/eidsync/internal/sigverify"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Encodings that separate Ed25519 implementations ("Taming the many
// EdDSAs", Chalkias et al. 2020): the eight small-order points, some with
// the sign bit set on x = 0, and non-canonical encodings (y >= p).
var edgePoints = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4, sign bit
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"0100000000000000000000000000000000000000000000000000000000000080", // identity, sign bit
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1 (identity)
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"feffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // order 2, sign bit
	"0200000000000000000000000000000000000000000000000000000000000000", // not on the curve
}

// scalars for S: zero, one, L-1, L, L+1, 2^253, all ones.
var edgeScalars = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
	"edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
	"eed3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
	"0000000000000000000000000000000000000000000000000000000000000020",
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func same(t *testing.T, v *sigverify.Verifier, pub, msg, sig []byte, what string) {
	t.Helper()
	// The all-zero key is entry.PublicKey's "no key": PublicKey.Verify
	// refuses it, whatever crypto/ed25519 says.
	want := entry.PublicKey(pub).Verify(msg, sig)
	if got := v.Verify(entry.PublicKey(pub), msg, sig); got != want {
		t.Fatalf("%s: sigverify %v, crypto/ed25519 %v (pub %x sig %x msg %q)", what, got, want, pub, sig, msg)
	}
}

// TestSameAsStdlibOnEdgeCases: every combination of edge-case key, R and S
// gets the same answer as crypto/ed25519 (through entry.PublicKey.Verify), as do signatures made by a real
// key over those encodings and the real key with edge-case R.
func TestSameAsStdlibOnEdgeCases(t *testing.T) {
	var v sigverify.Verifier
	msg := []byte("edge")
	pub, priv, _ := ed25519.GenerateKey(rand.NewChaCha8([32]byte{1}))
	good := ed25519.Sign(priv, msg)
	keys := [][]byte{pub}
	for _, p := range edgePoints {
		keys = append(keys, unhex(t, p))
	}
	rs := [][]byte{good[:32]}
	for _, p := range edgePoints {
		rs = append(rs, unhex(t, p))
	}
	ss := [][]byte{good[32:]}
	for _, s := range edgeScalars {
		ss = append(ss, unhex(t, s))
	}
	accepted := 0
	for _, a := range keys {
		for _, r := range rs {
			for _, s := range ss {
				sig := append(append([]byte{}, r...), s...)
				same(t, &v, a, msg, sig, "edge")
				if entry.PublicKey(a).Verify(msg, sig) {
					accepted++
				}
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no combination verified: the table tests nothing")
	}
	// A small-order key with R = [S]B passes the cofactorless equation.
	for _, a := range keys[1:] {
		for _, s := range ss {
			sig := append(append([]byte{}, good[:32]...), s...)
			same(t, &v, a, msg, sig, "small-order key")
		}
	}
}

// TestSameAsStdlibRandom: valid signatures of several keys verify, and every
// single-bit change of key, signature or message gets the standard library's
// answer.
func TestSameAsStdlibRandom(t *testing.T) {
	var v sigverify.Verifier
	rng := rand.New(rand.NewPCG(7, 7))
	for k := range 8 {
		pub, priv, _ := ed25519.GenerateKey(rand.NewChaCha8([32]byte{byte(k + 2)}))
		for i := range 8 {
			msg := []byte(fmt.Sprintf("message %d of key %d", i, k))
			sig := ed25519.Sign(priv, msg)
			if !v.Verify(entry.PublicKey(pub), msg, sig) {
				t.Fatalf("valid signature refused")
			}
			for range 24 {
				p, s, m := append([]byte{}, pub...), append([]byte{}, sig...), append([]byte{}, msg...)
				switch bit := rng.IntN(8 * (len(p) + len(s) + len(m))); {
				case bit < 8*len(p):
					p[bit/8] ^= 1 << (bit % 8)
				case bit < 8*(len(p)+len(s)):
					bit -= 8 * len(p)
					s[bit/8] ^= 1 << (bit % 8)
				default:
					bit -= 8 * (len(p) + len(s))
					m[bit/8] ^= 1 << (bit % 8)
				}
				same(t, &v, p, m, s, "flipped bit")
			}
		}
	}
	if v.Verify(entry.PublicKey{}, nil, make([]byte, 64)) || v.Verify(entry.PublicKey{1}, nil, make([]byte, 63)) {
		t.Fatal("zero key or short signature accepted")
	}
}

// TestConcurrent: one Verifier shared by goroutines, past KeysMax keys.
func TestConcurrent(t *testing.T) {
	var v sigverify.Verifier
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range entry.KeysMax/2 + 10 {
				pub, priv, _ := ed25519.GenerateKey(rand.NewChaCha8([32]byte{byte(g), byte(i), byte(i >> 8)}))
				msg := []byte{byte(i)}
				sig := ed25519.Sign(priv, msg)
				if !v.Verify(entry.PublicKey(pub), msg, sig) {
					t.Error("valid signature refused")
					return
				}
				sig[5] ^= 1
				if v.Verify(entry.PublicKey(pub), msg, sig) {
					t.Error("bad signature accepted")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzSameAsStdlib(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.NewChaCha8([32]byte{9}))
	f.Add([]byte(pub), []byte("m"), ed25519.Sign(priv, []byte("m")))
	var v sigverify.Verifier
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return
		}
		same(t, &v, pub, msg, sig, "fuzz")
	})
}
