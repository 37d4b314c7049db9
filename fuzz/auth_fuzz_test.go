package fuzz_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// FuzzRequestAuth checks request auth (PROTOCOL.md 2.3) from both sides.
// The input draws a server key, a tree, tips, a timestamp, a nonce and the
// server's clock; the auth is signed honestly, then one field may be
// changed. Verification must pass exactly when nothing was changed and the
// clock is within the window, and a change to any signed field (server,
// tree, a tip, timestamp, nonce, signature) must fail it. A second part
// hands arbitrary auth fields to VerifyRequest, which must never panic and
// must refuse them (a forged signature cannot verify).
func FuzzRequestAuth(f *testing.F) {
	f.Add([]byte("seed"), uint8(2), uint64(1_700_000_000_000), int64(5_000), uint8(0), []byte("junk"))
	f.Add([]byte("x"), uint8(0), uint64(0), int64(-60_000), uint8(3), []byte{})
	f.Add([]byte("edge of the window"), uint8(7), uint64(1<<62), int64(60_001), uint8(6), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, seed []byte, tipCount uint8, ts uint64, skew int64, tamper uint8, junk []byte) {
		const window = 60_000
		h := sha256.Sum256(seed)
		client, server := entry.NewPrivateKey(h), entry.NewPrivateKey(sha256.Sum256(h[:]))
		tree := entry.IDOf(h[:])
		tips := make([]entry.ID, int(tipCount)%9)
		for i := range tips {
			tips[i] = entry.IDOf(append(h[:], byte(i)))
		}
		nonce := sha256.Sum256(append(h[:], 'n'))
		now := int64(ts) + skew
		auth := kernel.SignRequest(client, server.Public(), tree, tips, ts, nonce[:])
		verifyServer, verifyTree, verifyTips := server.Public(), tree, tips
		changed := true
		switch tamper % 8 {
		case 1:
			verifyServer = client.Public()
		case 2:
			verifyTree = entry.IDOf(junk)
		case 3:
			if len(tips) == 0 {
				changed = false
				break
			}
			verifyTips = append([]entry.ID{entry.IDOf(junk)}, tips[1:]...)
		case 4:
			auth.TimestampMs++
		case 5:
			auth.Nonce[len(junk)%len(auth.Nonce)] ^= 1
		case 6:
			auth.Signature[len(junk)%len(auth.Signature)] ^= 0x80
		default:
			changed = false
		}
		err := kernel.VerifyRequest(&auth, verifyServer, verifyTree, verifyTips, now, window)
		fresh := now >= 0 && auth.TimestampMs <= 1<<62 && abs(now-int64(auth.TimestampMs)) <= window
		if want := !changed && fresh; (err == nil) != want {
			t.Fatalf("verify = %v, want ok=%v (tamper %d, fresh %v)", err, want, tamper%8, fresh)
		}
		if err != nil && !errors.Is(err, kernel.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}

		// Arbitrary fields: never a panic, never accepted.
		forged := kernel.RequestAuth{Key: client.Public(), TimestampMs: uint64(now), Nonce: junk, Signature: junk}
		if len(junk) >= 8 {
			forged.TimestampMs = binary.BigEndian.Uint64(junk)
		}
		if kernel.VerifyRequest(&forged, server.Public(), tree, tips, now, window) == nil {
			t.Fatal("a forged auth verified")
		}
	})
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// FuzzHandshake feeds arbitrary bytes to the request decoder as a
// Handshake and, when they decode, to a machine. Decoding never panics and
// errors are typed; a challenge that is not exactly 32 bytes is refused
// with an Error, never signed; a 32-byte challenge gets an answer whose
// signature verifies with the machine's key only under the handshake
// domain (v1) or over exactly those 32 bytes (v0), never over anything
// else: the device key is no signing oracle (PROTOCOL.md 11.1).
func FuzzHandshake(f *testing.F) {
	key := `"` + wireSeedKey + `"`
	f.Add([]byte(`{"Handshake":{"device_id":` + key + `,"public_key":` + key + `,"display_name":null,"protocol_version":1,"challenge":[` +
		strings.Repeat("7,", 31) + `7],"listen_addresses":[]}}`))
	f.Add([]byte(`{"Handshake":{"device_id":` + key + `,"public_key":` + key + `,"display_name":"x","protocol_version":0,"challenge":[1,2,3],"listen_addresses":[]}}`))
	f.Add([]byte(`{"Handshake":{"device_id":` + key + `,"public_key":` + key + `,"display_name":null,"protocol_version":9,"challenge":[],"listen_addresses":[{"transport_type":"http","address":"a"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, _, err := kernel.DecodeRequest(data, kernel.DefaultWireLimits())
		if err != nil {
			if !errors.Is(err, kernel.ErrMalformed) && !errors.Is(err, kernel.ErrMessageTooLarge) && !errors.Is(err, kernel.ErrUnknownVariant) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		hs, ok := msg.(kernel.Handshake)
		if !ok {
			return
		}
		cfg := kernel.DefaultConfig()
		cfg.DeviceKey = entry.NewPrivateKey([32]byte{9})
		m, err := kernel.New(cfg, kernel.State{})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Step(kernel.Received{From: "fuzz", Req: 1, Msg: hs}); err != nil {
			return // refused whole: nothing answered, nothing signed
		}
		rd := m.Ready()
		if len(rd.Send) != 1 || rd.Send[0].Reply != 1 {
			t.Fatalf("want exactly one reply, got %+v", rd.Send)
		}
		switch resp := rd.Send[0].Msg.(type) {
		case kernel.ErrorResponse:
		case kernel.HandshakeResponse:
			if len(hs.Challenge) != 32 {
				t.Fatalf("a %d-byte challenge was signed", len(hs.Challenge))
			}
			pub := cfg.DeviceKey.Public()
			domain := pub.Verify(append([]byte("eidsync/handshake/v1"), hs.Challenge...), resp.ChallengeResponse)
			raw := pub.Verify(hs.Challenge, resp.ChallengeResponse)
			if hs.ProtocolVersion == kernel.ProtocolV0 && !(raw && !domain) || hs.ProtocolVersion != kernel.ProtocolV0 && !(domain && !raw) {
				t.Fatalf("v%d answer: verifies raw=%v domain=%v", hs.ProtocolVersion, raw, domain)
			}
			if bytes.Equal(resp.NewChallenge, hs.Challenge) || len(resp.AvailableTrees) != 0 {
				t.Fatal("the answer echoes the challenge or lists trees")
			}
		default:
			t.Fatalf("a handshake answered with %T", resp)
		}
	})
}
