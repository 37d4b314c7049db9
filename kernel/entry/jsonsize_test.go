package entry_test

import (
	"encoding/json"
	"os"
	"testing"

	"pgregory.net/rapid"

	"github.com/eidsync/eidsync/kernel/entry"
)

// TestJSONSizeGolden checks JSONSize against EncodeJSON on every golden vector.
func TestJSONSizeGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name string `json:"name"`
			JSON string `json:"json"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no golden vectors")
	}
	for _, v := range file.Vectors {
		e, _, err := entry.DecodeJSON([]byte(v.JSON))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		enc, err := entry.EncodeJSON(e)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if got := entry.JSONSize(e); got != len(enc) || got != len(v.JSON) {
			t.Errorf("%s: JSONSize %d, len(EncodeJSON) %d, golden %d", v.Name, got, len(enc), len(v.JSON))
		}
	}
}

// TestJSONSizeStrings covers every escaping rule of the string encoder.
func TestJSONSizeStrings(t *testing.T) {
	for _, s := range []string{
		"", "data", `"`, `\`, "\b\f\n\r\t", "\x00\x01\x1f", "\x7f", "<>&",
		"é", "日本", "\U0001F600", "\u2028\u2029", "\xff", "a\xc3", "\xed\xa0\x80",
	} {
		e := &entry.Entry{Stores: []entry.StoreNode{{Name: s}}, Sig: entry.SigInfo{Sig: s, Key: entry.SigKey{Hint: entry.KeyHint{Name: s}}}}
		checkJSONSize(t, e)
	}
}

func checkJSONSize(t interface{ Fatalf(string, ...any) }, e *entry.Entry) {
	enc, err := entry.EncodeJSON(e)
	if err != nil {
		t.Fatalf("EncodeJSON: %v", err)
	}
	if got := entry.JSONSize(e); got != len(enc) {
		t.Fatalf("JSONSize %d, len(EncodeJSON) %d: %s", got, len(enc), enc)
	}
}

// TestJSONSizeProperty checks JSONSize against EncodeJSON on arbitrary
// entries, valid or not: any strings, zero and odd-sized IDs, nil and empty
// lists, delegations.
func TestJSONSizeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkJSONSize(t, jsonSizeEntryGen.Draw(t, "entry"))
	})
}

// jsonSizeStringGen draws any string, often with bytes that need escaping.
var jsonSizeStringGen = rapid.OneOf(
	rapid.Just(""),
	rapid.String(),
	rapid.StringOf(rapid.SampledFrom([]rune{'a', '"', '\\', '\n', 0, 0x1f, 0x7f, '<', 'é', '\u2028', '\u2029', 0xfffd, 0x1F600})),
	rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw")) }),
)

// jsonSizeIDGen draws the zero ID or a CIDv1 with a digest of any length.
var jsonSizeIDGen = rapid.Custom(func(t *rapid.T) entry.ID {
	if rapid.IntRange(0, 5).Draw(t, "id_kind") == 0 {
		return entry.ID{}
	}
	digest := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "digest")
	id, err := entry.IDFromBytes(append([]byte{1, 0x71, 0x1e, byte(len(digest))}, digest...))
	if err != nil {
		t.Fatalf("IDFromBytes: %v", err)
	}
	return id
})

var jsonSizeIDsGen = rapid.OneOf(rapid.Just([]entry.ID(nil)), rapid.SliceOfN(jsonSizeIDGen, 0, 4))

var jsonSizeBytesGen = rapid.OneOf(rapid.Just(entry.Bytes(nil)), rapid.Just(entry.Bytes{}),
	rapid.Custom(func(t *rapid.T) entry.Bytes { return rapid.SliceOf(rapid.Byte()).Draw(t, "bytes") }))

var jsonSizeHeightGen = rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64Range(0, 1000), rapid.Uint64())

var jsonSizeStoreGen = rapid.Custom(func(t *rapid.T) entry.StoreNode {
	s := entry.StoreNode{
		Name:    jsonSizeStringGen.Draw(t, "name"),
		Parents: jsonSizeIDsGen.Draw(t, "parents"),
		Data:    jsonSizeBytesGen.Draw(t, "data"),
	}
	if rapid.Bool().Draw(t, "has_h") {
		h := jsonSizeHeightGen.Draw(t, "h")
		s.Height = &h
	}
	return s
})

var jsonSizeKeyGen = rapid.Custom(func(t *rapid.T) entry.SigKey {
	var k entry.SigKey
	if rapid.Bool().Draw(t, "has_pubkey") {
		k.Hint.PubKey = entry.PublicKey(rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "pubkey"))
	}
	k.Hint.Name = jsonSizeStringGen.Draw(t, "hint_name")
	k.Hint.Global = rapid.Bool().Draw(t, "global")
	k.Delegated = rapid.Bool().Draw(t, "delegated")
	if k.Delegated && rapid.Bool().Draw(t, "has_path") {
		k.Path = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) entry.DelegationStep {
			return entry.DelegationStep{Tree: jsonSizeIDGen.Draw(t, "step_tree"), Tips: jsonSizeIDsGen.Draw(t, "step_tips")}
		}), 0, 3).Draw(t, "path")
	}
	return k
})

var jsonSizeEntryGen = rapid.Custom(func(t *rapid.T) *entry.Entry {
	e := &entry.Entry{
		Version: rapid.Uint8().Draw(t, "v"),
		Tree: entry.TreeNode{
			Root:     jsonSizeIDGen.Draw(t, "root"),
			Parents:  jsonSizeIDsGen.Draw(t, "tree_parents"),
			Metadata: jsonSizeBytesGen.Draw(t, "metadata"),
			Height:   jsonSizeHeightGen.Draw(t, "tree_h"),
		},
		Sig: entry.SigInfo{Sig: jsonSizeStringGen.Draw(t, "sig"), Key: jsonSizeKeyGen.Draw(t, "key")},
	}
	if rapid.Bool().Draw(t, "has_stores") {
		e.Stores = rapid.SliceOfN(jsonSizeStoreGen, 0, 3).Draw(t, "stores")
	}
	return e
})
