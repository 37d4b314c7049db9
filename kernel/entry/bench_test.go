package entry_test

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// benchEntryBytes is the canonical CBOR size of the benchmark entry, about
// the entry size of the floors measured in PERFORMANCE.md.
const benchEntryBytes = 460

// benchText is the store payload's source: opaque bytes, as the reference's
// stores hold them (JSON text).
const benchText = `{"title":"Meeting notes","body":"Agreed to ship the sync ` +
	`prototype on Friday; Alice reviews the wire format, Bob measures bootstrap ` +
	`over QUIC and HTTP, Carol writes the runbook.","tags":["sync","eidsync",` +
	`"planning"],"updated_ms":1764028800000,"author":"alice"}`

// benchFixture is a signed non-root entry of benchEntryBytes: one main
// parent, metadata pinning no settings tips, a "data" store whose payload
// fills the rest, signed under a Direct pubkey hint.
type benchFixture struct {
	e       *entry.Entry
	cbor    []byte
	json    []byte
	payload int // bytes of store data
}

var loadBenchFixture = sync.OnceValues(func() (benchFixture, error) {
	key := entry.NewPrivateKey(sha256.Sum256([]byte("eidsync bench key")))
	rootID, parentID := entry.IDOf([]byte("bench root")), entry.IDOf([]byte("bench parent"))
	build := func(payload int) (*entry.Entry, []byte, error) {
		e, err := entry.NewBuilder(rootID).Parents(parentID).Height(42).
			Metadata(entry.Metadata{}.Encode()).
			Store(entry.StoreNode{Name: "data", Data: []byte(benchText[:payload])}).
			SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}).Build()
		if err != nil {
			return nil, nil, err
		}
		if err := entry.Sign(e, key); err != nil {
			return nil, nil, err
		}
		data, err := entry.EncodeCBOR(e)
		return e, data, err
	}
	// A payload of 24 to 255 bytes has a two-byte CBOR head, so the
	// overhead measured at 24 holds for the final size.
	const probe = 24
	_, data, err := build(probe)
	if err != nil {
		return benchFixture{}, err
	}
	payload := benchEntryBytes - (len(data) - probe)
	if payload < probe || payload > len(benchText) {
		return benchFixture{}, fmt.Errorf("payload of %d bytes does not fit a %d-byte entry", payload, benchEntryBytes)
	}
	e, data, err := build(payload)
	if err != nil {
		return benchFixture{}, err
	}
	js, err := entry.EncodeJSON(e)
	if err != nil {
		return benchFixture{}, err
	}
	if err := entry.VerifySignature(e, key.Public()); err != nil {
		return benchFixture{}, err
	}
	return benchFixture{e: e, cbor: data, json: js, payload: payload}, nil
})

func benchSetup(b *testing.B) benchFixture {
	b.Helper()
	fx, err := loadBenchFixture()
	if err != nil {
		b.Fatal(err)
	}
	if len(fx.cbor) != benchEntryBytes {
		b.Fatalf("entry of %d bytes, want %d", len(fx.cbor), benchEntryBytes)
	}
	return fx
}

// entriesPerSecond is the rate of a finished b.Loop.
func entriesPerSecond(b *testing.B) float64 { return float64(b.N) / b.Elapsed().Seconds() }

// reportRate reports entries per second; call it after the loop.
func reportRate(b *testing.B) { b.ReportMetric(entriesPerSecond(b), "entries/s") }

// benchEncodeHash is what a writer does: encode the entry and hash it.
func benchEncodeHash(b *testing.B) {
	fx := benchSetup(b)
	b.SetBytes(int64(len(fx.cbor)))
	b.ReportAllocs()
	for b.Loop() {
		data, err := entry.EncodeCBOR(fx.e)
		if err != nil {
			b.Fatal(err)
		}
		_ = entry.IDOf(data)
	}
	reportRate(b)
}

// benchDecodeVerify is what a receiver does: decode strictly, then check
// the signature against the key the hint names.
func benchDecodeVerify(b *testing.B) {
	fx := benchSetup(b)
	b.SetBytes(int64(len(fx.cbor)))
	b.ReportAllocs()
	for b.Loop() {
		e, _, err := entry.DecodeCBOR(fx.cbor)
		if err != nil {
			b.Fatal(err)
		}
		if err := entry.VerifySignature(e, e.Sig.Key.Hint.PubKey); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// benchSHA256 hashes the same bytes with SHA-256: the floor PERFORMANCE.md
// compares against.
func benchSHA256(b *testing.B) {
	fx := benchSetup(b)
	b.SetBytes(int64(len(fx.cbor)))
	b.ReportAllocs()
	for b.Loop() {
		_ = sha256.Sum256(fx.cbor)
	}
	reportRate(b)
}

func BenchmarkEncodeHash(b *testing.B)   { benchEncodeHash(b) }
func BenchmarkDecodeVerify(b *testing.B) { benchDecodeVerify(b) }
func BenchmarkSHA256(b *testing.B)       { benchSHA256(b) }

// BenchmarkEncodeJSON reports bytes of v0 JSON, which is larger than the
// CBOR because byte strings are arrays of integers.
func BenchmarkEncodeJSON(b *testing.B) {
	fx := benchSetup(b)
	b.SetBytes(int64(len(fx.json)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := entry.EncodeJSON(fx.e); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkDecodeJSON includes what DecodeJSON always does after parsing:
// validate, re-encode to CBOR and hash for the ID.
func BenchmarkDecodeJSON(b *testing.B) {
	fx := benchSetup(b)
	b.SetBytes(int64(len(fx.json)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := entry.DecodeJSON(fx.json); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkEntryRatios measures encode+hash, decode+verify and SHA-256 one
// after another in the same run and reports each as a throughput ratio to
// SHA-256, which compares across machines better than the rates do.
//
// The three are sub-benchmarks because testing.Benchmark cannot run inside a
// benchmark: both hold the testing package's global benchmark lock, so it
// deadlocks. The ratios are metrics of the last one, sha256, which also logs
// them: a leaf's log is printed without -v, and b.Loop calls each leaf once.
func BenchmarkEntryRatios(b *testing.B) {
	fx := benchSetup(b)
	var encode, decode float64
	b.Run("encode_hash", func(b *testing.B) { benchEncodeHash(b); encode = entriesPerSecond(b) })
	b.Run("decode_verify", func(b *testing.B) { benchDecodeVerify(b); decode = entriesPerSecond(b) })
	b.Run("sha256", func(b *testing.B) {
		benchSHA256(b)
		if encode == 0 || decode == 0 {
			b.Log("no ratios: -bench did not select all three sub-benchmarks")
			return
		}
		floor := entriesPerSecond(b)
		b.ReportMetric(encode/floor, "encode_hash/sha256")
		b.ReportMetric(decode/floor, "decode_verify/sha256")
		b.Logf("entry %d B (payload %d B): encode+hash %s/s, decode+verify %s/s, sha256 %s/s; ratio %.2gx, %.2gx",
			len(fx.cbor), fx.payload, si(encode), si(decode), si(floor), encode/floor, decode/floor)
	})
}

// si prints a rate with a k, M or G suffix and two or three significant
// digits: 9.3k, 270k, 2.1M.
func si(v float64) string {
	unit := ""
	for _, u := range []string{"k", "M", "G"} {
		if v < 1000 {
			break
		}
		v, unit = v/1000, u
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	return fmt.Sprintf("%.0f%s", v, unit)
}
