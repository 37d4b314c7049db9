package entry

import (
	"bytes"
	"encoding/base64"
	"testing"

	"pgregory.net/rapid"
)

// TestAppendEntryMatchesReflect: appendEntry writes what the reflective
// encoder writes, for any entry, valid or not (the generators of
// jsonsize_test.go, which are in package entry_test, are mirrored here).
func TestAppendEntryMatchesReflect(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := anyEntryGen.Draw(t, "entry")
		want, err := encMode.Marshal(e)
		if err != nil {
			t.Skip("the reflective encoder refuses it")
		}
		if got := appendEntry(nil, e, true); !bytes.Equal(got, want) {
			t.Fatalf("appendEntry\n%x\nreflect\n%x", got, want)
		}
		unsigned := *e
		unsigned.Sig.Sig = ""
		want, _ = encMode.Marshal(&unsigned)
		if got := appendEntry(nil, e, false); !bytes.Equal(got, want) {
			t.Fatalf("appendEntry without sig\n%x\nreflect\n%x", got, want)
		}
	})
}

var anyStringGen = rapid.OneOf(rapid.Just(""), rapid.String(),
	rapid.StringN(20, 300, 400),
	rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw")) }))

var anyIDGen = rapid.Custom(func(t *rapid.T) ID {
	if rapid.IntRange(0, 5).Draw(t, "id_kind") == 0 {
		return ID{}
	}
	digest := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "digest")
	return ID{cid: string(append([]byte{1, 0x71, 0x1e, byte(len(digest))}, digest...))}
})

var anyIDsGen = rapid.OneOf(rapid.Just([]ID(nil)), rapid.Just([]ID{}), rapid.SliceOfN(anyIDGen, 0, 30))

var anyBytesGen = rapid.OneOf(rapid.Just(Bytes(nil)), rapid.Just(Bytes{}),
	rapid.Custom(func(t *rapid.T) Bytes { return rapid.SliceOfN(rapid.Byte(), 0, 70000).Draw(t, "bytes") }))

var anyUintGen = rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64Range(0, 30), rapid.Uint64Range(0, 1<<17),
	rapid.Uint64Range(1<<31, 1<<33), rapid.Uint64())

var anyEntryGen = rapid.Custom(func(t *rapid.T) *Entry {
	e := &Entry{
		Version: rapid.Uint8().Draw(t, "v"),
		Tree: TreeNode{
			Root:     anyIDGen.Draw(t, "root"),
			Parents:  anyIDsGen.Draw(t, "tree_parents"),
			Metadata: anyBytesGen.Draw(t, "metadata"),
			Height:   anyUintGen.Draw(t, "tree_h"),
		},
		Sig: SigInfo{Sig: anyStringGen.Draw(t, "sig")},
	}
	k := &e.Sig.Key
	if rapid.Bool().Draw(t, "has_pubkey") {
		k.Hint.PubKey = PublicKey(rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "pubkey"))
	}
	k.Hint.Name = anyStringGen.Draw(t, "hint_name")
	k.Hint.Global = rapid.Bool().Draw(t, "global")
	k.Delegated = rapid.Bool().Draw(t, "delegated")
	if k.Delegated && rapid.Bool().Draw(t, "has_path") {
		k.Path = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) DelegationStep {
			return DelegationStep{Tree: anyIDGen.Draw(t, "step_tree"), Tips: anyIDsGen.Draw(t, "step_tips")}
		}), 0, 30).Draw(t, "path")
	}
	if rapid.Bool().Draw(t, "has_stores") {
		e.Stores = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) StoreNode {
			s := StoreNode{Name: anyStringGen.Draw(t, "name"), Parents: anyIDsGen.Draw(t, "parents"), Data: anyBytesGen.Draw(t, "data")}
			if rapid.Bool().Draw(t, "has_h") {
				h := anyUintGen.Draw(t, "h")
				s.Height = &h
			}
			return s
		}), 0, 30).Draw(t, "stores")
	}
	return e
})

// TestAppendEntryHeadSizes: every head width, at its edges, in each place a
// length or integer goes.
func TestAppendEntryHeadSizes(t *testing.T) {
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536} {
		s := string(bytes.Repeat([]byte{'x'}, n))
		h := uint64(n) << 20
		e := &Entry{Version: uint8(n), Tree: TreeNode{Height: uint64(n), Metadata: Bytes(s), Parents: make([]ID, n%300)},
			Stores: []StoreNode{{Name: s, Data: Bytes(s), Height: &h, Parents: []ID{{cid: s}}}},
			Sig:    SigInfo{Sig: s, Key: SigKey{Delegated: true, Hint: KeyHint{Name: s, Global: true}, Path: []DelegationStep{{Tips: make([]ID, n%30)}}}}}
		want, err := encMode.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEntry(nil, e, true); !bytes.Equal(got, want) {
			t.Fatalf("n=%d: appendEntry differs from the reflective encoder", n)
		}
	}
}

// TestDecodeSigCanonical: decodeSig accepts exactly the texts that are the
// padded standard base64 of 64 bytes, as decoding and re-encoding did.
func TestDecodeSigCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		raw := rapid.SliceOfN(rapid.Byte(), 60, 68).Draw(t, "raw")
		text := base64.StdEncoding.EncodeToString(raw)
		switch rapid.IntRange(0, 3).Draw(t, "edit") {
		case 1:
			i := rapid.IntRange(0, len(text)).Draw(t, "at")
			text = text[:i] + rapid.SampledFrom([]string{"\n", "\r", "=", "A", "/", " "}).Draw(t, "ins") + text[i:]
		case 2:
			i := rapid.IntRange(0, len(text)-1).Draw(t, "at")
			text = text[:i] + string(rapid.SampledFrom([]byte("AB+/=\n\rxyz09")).Draw(t, "chr")) + text[i+1:]
		case 3:
			text = rapid.String().Draw(t, "any")
		}
		dec, err := base64.StdEncoding.Strict().DecodeString(text)
		want := err == nil && len(dec) == 64 && base64.StdEncoding.EncodeToString(dec) == text
		var sig [64]byte
		got := decodeSig(&sig, text) == nil
		if got != want || (got && !bytes.Equal(sig[:], dec)) {
			t.Fatalf("decodeSig(%q) = %v, want %v", text, got, want)
		}
	})
}

// TestIsIDOf: IsIDOf agrees with comparing IDOf, for the right ID, another
// entry's, and IDs of other shapes.
func TestIsIDOf(t *testing.T) {
	data := []byte("an entry")
	other, _ := IDFromBytes([]byte{1, 0x71, 0x12, 2, 0xaa, 0xbb})
	for _, id := range []ID{IDOf(data), IDOf([]byte("another")), {}, other} {
		if got, want := id.IsIDOf(data), IDOf(data) == id; got != want {
			t.Errorf("IsIDOf(%s) = %v, want %v", id, got, want)
		}
	}
}
