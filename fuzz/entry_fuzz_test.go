package fuzz_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// vectorsPath is the entry golden file, relative to this package's directory.
const vectorsPath = "../kernel/entry/testdata/vectors.json"

// vector holds the fields of a golden vector that seed the targets.
type vector struct {
	Name    string `json:"name"`
	JSON    string `json:"json"`     // exact v0 JSON text
	CBORHex string `json:"cbor_hex"` // canonical DAG-CBOR
	ID      string `json:"id"`
}

func goldenVectors(f *testing.F) []vector {
	f.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(vectorsPath))
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		f.Fatalf("%s: %v", vectorsPath, err)
	}
	if len(file.Vectors) == 0 {
		f.Fatalf("%s holds no vectors", vectorsPath)
	}
	return file.Vectors
}

// FuzzEntryCBOR: DecodeCBOR never panics, refuses with ErrMalformed, and
// accepts only the canonical encoding of an entry, whose JSON agrees.
func FuzzEntryCBOR(f *testing.F) {
	for _, v := range goldenVectors(f) {
		data, err := hex.DecodeString(v.CBORHex)
		if err != nil {
			f.Fatalf("%s: cbor_hex: %v", v.Name, err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, id, err := entry.DecodeCBOR(data)
		if err != nil {
			if !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("DecodeCBOR error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		again, err := entry.EncodeCBOR(e)
		if err != nil {
			t.Fatalf("EncodeCBOR of a decoded entry: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("decoded input is not canonical:\n  in %x\n out %x", data, again)
		}
		if want := entry.IDOf(data); id != want {
			t.Fatalf("DecodeCBOR ID %s, IDOf(input) %s", id, want)
		}
		if _, id2, err := entry.DecodeCBOR(again); err != nil || id2 != id {
			t.Fatalf("re-encoding does not decode to the same ID: %s vs %s, %v", id2, id, err)
		}
		checkIDString(t, id)
		checkJSONRoundTrip(t, e, id)
		checkVerifyDoesNotPanic(t, e)
	})
}

// FuzzEntryJSON: DecodeJSON never panics, refuses with ErrMalformed, and
// what it accepts has a canonical JSON (a fixed point) and a CBOR encoding
// that decode to the same ID.
func FuzzEntryJSON(f *testing.F) {
	for _, v := range goldenVectors(f) {
		f.Add([]byte(v.JSON))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, id, err := entry.DecodeJSON(data)
		if err != nil {
			if !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("DecodeJSON error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		enc, encID, err := entry.Encode(e)
		if err != nil || encID != id {
			t.Fatalf("Encode of a decoded entry: ID %s, DecodeJSON said %s, %v", encID, id, err)
		}
		js := checkJSONRoundTrip(t, e, id)
		fromCBOR, cborID, err := entry.DecodeCBOR(enc)
		if err != nil || cborID != id {
			t.Fatalf("CBOR of a JSON-decoded entry: ID %s, want %s, %v\ncbor %x", cborID, id, err, enc)
		}
		if js2, err := entry.EncodeJSON(fromCBOR); err != nil || !bytes.Equal(js2, js) {
			t.Fatalf("JSON via CBOR differs: %v\n got %s\nwant %s", err, js2, js)
		}
		checkIDString(t, id)
		checkVerifyDoesNotPanic(t, e)
	})
}

// checkJSONRoundTrip checks that e's v0 JSON decodes to id and that it is a
// fixed point: the decoded entry encodes to the same bytes. It returns the JSON.
func checkJSONRoundTrip(t *testing.T, e *entry.Entry, id entry.ID) []byte {
	t.Helper()
	js, err := entry.EncodeJSON(e)
	if err != nil {
		t.Fatalf("EncodeJSON of a decoded entry: %v", err)
	}
	back, backID, err := entry.DecodeJSON(js)
	if err != nil {
		t.Fatalf("DecodeJSON of EncodeJSON output: %v\njson %s", err, clip(js))
	}
	if backID != id {
		t.Fatalf("JSON round trip changes the ID: %s, want %s\njson %s", backID, id, clip(js))
	}
	js2, err := entry.EncodeJSON(back)
	if err != nil {
		t.Fatalf("EncodeJSON after a JSON round trip: %v", err)
	}
	if !bytes.Equal(js2, js) {
		t.Fatalf("canonical JSON is not a fixed point:\n first %s\nsecond %s", clip(js), clip(js2))
	}
	return js
}

// checkIDString checks that an entry ID survives its string form.
func checkIDString(t *testing.T, id entry.ID) {
	t.Helper()
	parsed, err := entry.ParseID(id.String())
	if err != nil || parsed != id {
		t.Fatalf("ParseID(%q) = %s, %v", id.String(), parsed, err)
	}
}

// checkVerifyDoesNotPanic runs VerifySignature against the hint's own key:
// whatever it says, it must not panic and must fail with a known error.
func checkVerifyDoesNotPanic(t *testing.T, e *entry.Entry) {
	t.Helper()
	err := entry.VerifySignature(e, e.Sig.Key.Hint.PubKey)
	if err != nil && !errors.Is(err, entry.ErrMalformed) && !errors.Is(err, entry.ErrBadSignature) {
		t.Fatalf("VerifySignature: unexpected error %v", err)
	}
}

func clip(b []byte) string {
	const clipMax = 2000
	if len(b) > clipMax {
		return string(b[:clipMax]) + "..."
	}
	return string(b)
}

// TestEntryJSONOfLargestEntry is a regression test for a limit the fuzzers
// cannot reach (their inputs stay far below a megabyte): an entry of exactly
// EntryBytesMax whose store name is control characters, each six characters
// in JSON ("\u0001"), and whose data is bytes of three digits. DecodeCBOR
// accepts it, so DecodeJSON must accept its v0 JSON too; the JSON size bound
// of four characters per CBOR byte refused it.
func TestEntryJSONOfLargestEntry(t *testing.T) {
	lim := entry.DefaultLimits()
	root, err := entry.NewRoot(1).Build()
	if err != nil {
		t.Fatal(err)
	}
	rootID, err := entry.ComputeID(root)
	if err != nil {
		t.Fatal(err)
	}
	build := func(dataBytes int) *entry.Entry {
		t.Helper()
		e, err := entry.NewBuilder(rootID).Parents(rootID).
			Store(entry.StoreNode{Name: strings.Repeat("\x01", lim.NameBytesMax), Data: bytes.Repeat([]byte{255}, dataBytes)}).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// The data's CBOR head has the same size from 64 KiB up, so the
	// overhead measured at 64 KiB holds at the limit.
	const probe = 1 << 16
	small, err := entry.EncodeCBOR(build(probe))
	if err != nil {
		t.Fatal(err)
	}
	e := build(lim.EntryBytesMax - (len(small) - probe))
	data, id, err := entry.Encode(e)
	if err != nil || len(data) != lim.EntryBytesMax {
		t.Fatalf("entry of %d bytes, want %d: %v", len(data), lim.EntryBytesMax, err)
	}
	decoded, decodedID, err := entry.DecodeCBOR(data)
	if err != nil || decodedID != id {
		t.Fatalf("DecodeCBOR: %v", err)
	}
	checkJSONRoundTrip(t, decoded, id)
}
