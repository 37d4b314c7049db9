package entry_test

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eidsync/eidsync/kernel/entry"
)

// fataler is what the helpers below need from *testing.T and *rapid.T.
type fataler interface {
	Fatalf(format string, args ...any)
}

// idGen draws an entry ID as the hash of up to four random bytes. The seeds
// are short so that draws repeat now and then, which exercises deduplication.
var idGen = rapid.Custom(func(t *rapid.T) entry.ID {
	return entry.IDOf(rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "id_seed"))
})

// freshID returns an ID no idGen draw can produce: its seed is longer than
// any the generator draws.
func freshID(label string) entry.ID {
	return entry.IDOf([]byte("fresh ID outside the generator: " + label))
}

// optBytesGen draws absent, present-but-empty or non-empty bytes.
var optBytesGen = rapid.Custom(func(t *rapid.T) entry.Bytes {
	switch rapid.IntRange(0, 2).Draw(t, "bytes_kind") {
	case 0:
		return nil
	case 1:
		return entry.Bytes{}
	default:
		return rapid.SliceOfN(rapid.Byte(), 1, 32).Draw(t, "bytes")
	}
})

// storeHeightGen draws nil (inherit), a pointer to 0, or a pointer to n > 0.
var storeHeightGen = rapid.Custom(func(t *rapid.T) *uint64 {
	switch rapid.IntRange(0, 2).Draw(t, "store_h_kind") {
	case 0:
		return nil
	case 1:
		return new(uint64)
	default:
		h := rapid.Uint64Range(1, 1<<40).Draw(t, "store_h")
		return &h
	}
})

var treeHeightGen = rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64Range(1, 16), rapid.Uint64())

// nameGen draws a non-empty valid UTF-8 name that is not a reserved root marker.
var nameGen = rapid.OneOf(
	rapid.SampledFrom([]string{"data", "log", entry.StoreSettings, entry.StoreIndex, "a", "b"}),
	rapid.StringN(1, 12, 48),
).Filter(func(s string) bool { return s != entry.StoreRoot })

var storeGen = rapid.Custom(func(t *rapid.T) entry.StoreNode {
	return entry.StoreNode{
		Name:    nameGen.Draw(t, "store_name"),
		Parents: idsGen(4).Draw(t, "store_parents"),
		Data:    optBytesGen.Draw(t, "store_data"),
		Height:  storeHeightGen.Draw(t, "store_h"),
	}
})

var seedGen = rapid.Custom(func(t *rapid.T) [ed25519.SeedSize]byte {
	return [ed25519.SeedSize]byte(rapid.SliceOfN(rapid.Byte(), ed25519.SeedSize, ed25519.SeedSize).Draw(t, "seed"))
})

// idsGen draws up to max IDs; an empty list is sometimes nil, which every
// encoder must write as [] (serde has no null list).
func idsGen(max int) *rapid.Generator[[]entry.ID] {
	return rapid.Custom(func(t *rapid.T) []entry.ID {
		ids := rapid.SliceOfN(idGen, 0, max).Draw(t, "ids")
		if len(ids) == 0 && rapid.Bool().Draw(t, "nil_list") {
			return nil
		}
		return ids
	})
}

var stepGen = rapid.Custom(func(t *rapid.T) entry.DelegationStep {
	return entry.DelegationStep{Tree: idGen.Draw(t, "step_tree"), Tips: idsGen(3).Draw(t, "step_tips")}
})

// hintGen draws a non-empty key hint for pub: a pubkey, a name, the global
// flag, or a mix of them.
func hintGen(pub entry.PublicKey) *rapid.Generator[entry.KeyHint] {
	return rapid.Custom(func(t *rapid.T) entry.KeyHint {
		var h entry.KeyHint
		if rapid.Bool().Draw(t, "hint_pubkey") {
			h.PubKey = pub
		}
		if rapid.Bool().Draw(t, "hint_name") {
			h.Name = rapid.StringN(1, 12, 48).Draw(t, "hint_name_text")
		}
		h.Global = rapid.Bool().Draw(t, "hint_global")
		if h.IsZero() {
			h.PubKey = pub
		}
		return h
	})
}

// entrySpec is what a Builder is given, so that a property can give the same
// entry twice in different orders.
type entrySpec struct {
	root     bool
	entropy  uint64
	treeRoot entry.ID // non-root only
	parents  []entry.ID
	height   uint64
	setMeta  bool // for a root: replace the entropy metadata
	metadata entry.Bytes
	stores   []entry.StoreNode
	sigKey   entry.SigKey
	signer   *entry.PrivateKey // nil: unsigned
}

// specGen draws a valid entry spec; signed forces a signer.
func specGen(signed bool) *rapid.Generator[entrySpec] {
	return rapid.Custom(func(t *rapid.T) entrySpec {
		var s entrySpec
		s.root = rapid.Bool().Draw(t, "root")
		if s.root {
			s.entropy = rapid.Uint64().Draw(t, "entropy")
			s.setMeta = rapid.Bool().Draw(t, "set_metadata")
		} else {
			s.treeRoot = idGen.Draw(t, "tree_root")
			s.parents = rapid.SliceOfN(idGen, 1, 5).Draw(t, "parents")
			s.height = treeHeightGen.Draw(t, "height")
			s.setMeta = true
		}
		if s.setMeta {
			s.metadata = optBytesGen.Draw(t, "metadata")
		}
		s.stores = rapid.SliceOfNDistinct(storeGen, 0, 4, func(n entry.StoreNode) string { return n.Name }).Draw(t, "stores")
		delegated := rapid.Bool().Draw(t, "delegated")
		if !signed && !delegated && rapid.Bool().Draw(t, "unsigned") {
			return s
		}
		key := entry.NewPrivateKey(seedGen.Draw(t, "key_seed"))
		s.signer = &key
		s.sigKey = entry.SigKey{Hint: hintGen(key.Public()).Draw(t, "hint")}
		if delegated {
			s.sigKey.Delegated = true
			s.sigKey.Path = rapid.SliceOfN(stepGen, 0, 3).Draw(t, "path")
			if len(s.sigKey.Path) == 0 && rapid.Bool().Draw(t, "nil_path") {
				s.sigKey.Path = nil
			}
		}
		return s
	})
}

func (s entrySpec) builder() *entry.Builder {
	var b *entry.Builder
	if s.root {
		b = entry.NewRoot(s.entropy)
	} else {
		b = entry.NewBuilder(s.treeRoot).Parents(s.parents...).Height(s.height)
	}
	if s.setMeta {
		b.Metadata(s.metadata)
	}
	for _, st := range s.stores {
		b.Store(st)
	}
	if s.signer != nil {
		b.SigKey(s.sigKey)
	}
	return b
}

// build builds and, for a signed spec, signs.
func (s entrySpec) build(t fataler) *entry.Entry {
	e, err := s.builder().Build()
	if err != nil {
		t.Fatalf("Build of a valid spec: %v", err)
	}
	if s.signer != nil {
		if err := entry.Sign(e, *s.signer); err != nil {
			t.Fatalf("Sign: %v", err)
		}
	}
	return e
}

func mustEncode(t fataler, e *entry.Entry) ([]byte, entry.ID) {
	data, id, err := entry.Encode(e)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return data, id
}

func mustID(t fataler, e *entry.Entry) entry.ID {
	_, id := mustEncode(t, e)
	return id
}

func TestPropertyCBORRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := specGen(false).Draw(t, "spec")
		e := s.build(t)
		data, id := mustEncode(t, e)
		got, gotID, err := entry.DecodeCBOR(data)
		if err != nil {
			t.Fatalf("DecodeCBOR of a built entry: %v", err)
		}
		if gotID != id {
			t.Fatalf("DecodeCBOR ID %s, want %s", gotID, id)
		}
		again, againID := mustEncode(t, got)
		if !bytes.Equal(again, data) || againID != id {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, data)
		}
		js1, err := entry.EncodeJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		js2, err := entry.EncodeJSON(got)
		if err != nil || !bytes.Equal(js1, js2) {
			t.Fatalf("JSON of the decoded entry differs (%v):\n got %s\nwant %s", err, js2, js1)
		}
		if s.signer != nil {
			if err := entry.VerifySignature(got, s.signer.Public()); err != nil {
				t.Fatalf("decoded signed entry does not verify: %v", err)
			}
		}
	})
}

func TestPropertyJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := specGen(false).Draw(t, "spec")
		e := s.build(t)
		data, id := mustEncode(t, e)
		js, err := entry.EncodeJSON(e)
		if err != nil {
			t.Fatalf("EncodeJSON: %v", err)
		}
		got, gotID, err := entry.DecodeJSON(js)
		if err != nil {
			t.Fatalf("DecodeJSON of %s: %v", js, err)
		}
		if gotID != id {
			t.Fatalf("DecodeJSON ID %s, want %s", gotID, id)
		}
		if again, err := entry.EncodeJSON(got); err != nil || !bytes.Equal(again, js) {
			t.Fatalf("JSON re-encoding differs (%v):\n got %s\nwant %s", err, again, js)
		}
		if again, _ := mustEncode(t, got); !bytes.Equal(again, data) {
			t.Fatalf("CBOR of the JSON-decoded entry differs:\n got %x\nwant %x", again, data)
		}
	})
}

// withDuplicates returns ids in a random order with some of them repeated.
func withDuplicates(t *rapid.T, ids []entry.ID, label string) []entry.ID {
	out := slices.Clone(ids)
	if len(ids) > 0 {
		out = append(out, rapid.SliceOfN(rapid.SampledFrom(ids), 0, 3).Draw(t, label+"_dups")...)
	}
	return rapid.Permutation(out).Draw(t, label+"_order")
}

func TestPropertyIDIndependentOfInputOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := specGen(false).Draw(t, "spec")
		shuffled := s
		shuffled.parents = withDuplicates(t, s.parents, "parents")
		shuffled.stores = rapid.Permutation(s.stores).Draw(t, "stores_order")
		for i := range shuffled.stores {
			shuffled.stores[i].Parents = withDuplicates(t, shuffled.stores[i].Parents, fmt.Sprintf("store%d_parents", i))
		}
		e1, e2 := s.build(t), shuffled.build(t)
		d1, id1 := mustEncode(t, e1)
		d2, id2 := mustEncode(t, e2)
		if id1 != id2 || !bytes.Equal(d1, d2) {
			t.Fatalf("IDs differ with input order: %s vs %s\n%x\n%x", id1, id2, d1, d2)
		}
		if !slices.IsSortedFunc(e1.Tree.Parents, entry.ID.Compare) || len(entry.SortIDs(slices.Clone(e1.Tree.Parents))) != len(e1.Tree.Parents) {
			t.Fatalf("built parents not sorted and unique: %v", e1.Tree.Parents)
		}
		if !slices.IsSortedFunc(e1.Stores, func(a, b entry.StoreNode) int { return cmp.Compare(a.Name, b.Name) }) {
			t.Fatal("built stores not sorted by name")
		}
	})
}

func TestPropertyBitFlipChangesIDOrIsRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := specGen(false).Draw(t, "spec").build(t)
		data, id := mustEncode(t, e)
		bit := rapid.IntRange(0, 8*len(data)-1).Draw(t, "bit")
		flipped := slices.Clone(data)
		flipped[bit/8] ^= 1 << (bit % 8)
		got, gotID, err := entry.DecodeCBOR(flipped)
		if err != nil {
			if !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("rejection does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if gotID == id {
			t.Fatalf("bit %d flipped and the ID is unchanged", bit)
		}
		again, againID := mustEncode(t, got)
		if againID != gotID || !bytes.Equal(again, flipped) {
			t.Fatalf("accepted flipped input does not re-encode to itself:\n got %x\nwant %x", again, flipped)
		}
	})
}

// mutation is a one-field semantic change of an entry.
type mutation struct {
	name  string
	apply func(t *rapid.T, e *entry.Entry)
}

// mutations lists the one-field changes that apply to e. Unless withSig is
// set, only changes to what the signature covers are listed, and none that
// makes a hint empty.
func mutations(e *entry.Entry, withSig bool) []mutation {
	ms := []mutation{
		{"tree height+1", func(_ *rapid.T, e *entry.Entry) { e.Tree.Height++ }},
		{"store added", func(_ *rapid.T, e *entry.Entry) {
			e.Stores = append(e.Stores, entry.StoreNode{Name: "\U0001F600 added", Parents: []entry.ID{}})
		}},
		{"metadata byte appended", func(_ *rapid.T, e *entry.Entry) { e.Tree.Metadata = append(e.Tree.Metadata, 7) }},
		{"root changed", func(_ *rapid.T, e *entry.Entry) { e.Tree.Root = freshID("root") }},
		{"direct and delegation swapped", func(_ *rapid.T, e *entry.Entry) {
			e.Sig.Key.Delegated = !e.Sig.Key.Delegated
			if !e.Sig.Key.Delegated {
				e.Sig.Key.Path = nil
			}
		}},
	}
	if e.Tree.Metadata == nil {
		ms = append(ms, mutation{"metadata nil to empty", func(_ *rapid.T, e *entry.Entry) { e.Tree.Metadata = entry.Bytes{} }})
	} else {
		ms = append(ms, mutation{"metadata removed", func(_ *rapid.T, e *entry.Entry) { e.Tree.Metadata = nil }})
	}
	if len(e.Tree.Metadata) > 0 {
		ms = append(ms, mutation{"metadata bit", func(t *rapid.T, e *entry.Entry) {
			i := rapid.IntRange(0, len(e.Tree.Metadata)-1).Draw(t, "meta_index")
			e.Tree.Metadata[i] ^= 1 << rapid.IntRange(0, 7).Draw(t, "meta_bit")
		}})
	}
	if len(e.Tree.Parents) > 0 {
		ms = append(ms,
			mutation{"parent replaced", func(t *rapid.T, e *entry.Entry) {
				e.Tree.Parents[rapid.IntRange(0, len(e.Tree.Parents)-1).Draw(t, "parent_index")] = freshID("parent")
			}},
			mutation{"parent added", func(_ *rapid.T, e *entry.Entry) { e.Tree.Parents = append(e.Tree.Parents, freshID("parent")) }},
		)
	}
	if len(e.Tree.Parents) > 1 {
		ms = append(ms, mutation{"parent dropped", func(t *rapid.T, e *entry.Entry) {
			e.Tree.Parents = slices.Delete(e.Tree.Parents, 0, 1)
		}})
	}
	if len(e.Stores) > 0 {
		pick := func(t *rapid.T, e *entry.Entry) *entry.StoreNode {
			return &e.Stores[rapid.IntRange(0, len(e.Stores)-1).Draw(t, "store_index")]
		}
		ms = append(ms,
			mutation{"store name changed", func(t *rapid.T, e *entry.Entry) { s := pick(t, e); s.Name += "\x00" }},
			mutation{"store parent added", func(t *rapid.T, e *entry.Entry) {
				s := pick(t, e)
				s.Parents = append(s.Parents, freshID("store parent"))
			}},
			mutation{"store data byte appended", func(t *rapid.T, e *entry.Entry) { s := pick(t, e); s.Data = append(s.Data, 0) }},
			mutation{"store height nil/0/n changed", func(t *rapid.T, e *entry.Entry) {
				s := pick(t, e)
				switch {
				case s.Height == nil:
					s.Height = new(uint64)
				case rapid.Bool().Draw(t, "store_h_to_nil"):
					s.Height = nil
				default:
					h := *s.Height + 1
					s.Height = &h
				}
			}},
			mutation{"store data nil/empty swapped", func(t *rapid.T, e *entry.Entry) {
				s := pick(t, e)
				if s.Data == nil {
					s.Data = entry.Bytes{}
				} else {
					s.Data = nil
				}
			}},
			mutation{"store data byte changed", func(t *rapid.T, e *entry.Entry) {
				s := pick(t, e)
				if len(s.Data) == 0 {
					s.Data = entry.Bytes{1}
					return
				}
				i := rapid.IntRange(0, len(s.Data)-1).Draw(t, "data_index")
				s.Data[i] ^= 1 << rapid.IntRange(0, 7).Draw(t, "data_bit")
			}},
		)
		if s := e.Stores[0]; len(s.Parents) > 0 {
			ms = append(ms, mutation{"store parent replaced", func(t *rapid.T, e *entry.Entry) {
				s := &e.Stores[0]
				s.Parents[rapid.IntRange(0, len(s.Parents)-1).Draw(t, "store_parent_index")] = freshID("store parent")
			}})
		}
	}
	h := e.Sig.Key.Hint
	ms = append(ms,
		mutation{"hint name changed", func(_ *rapid.T, e *entry.Entry) { e.Sig.Key.Hint.Name += "'" }},
		mutation{"hint pubkey changed", func(_ *rapid.T, e *entry.Entry) {
			e.Sig.Key.Hint.PubKey = entry.NewPrivateKey([32]byte{0: 0xee, 31: byte(len(e.Sig.Key.Hint.Name))}).Public()
			if e.Sig.Key.Hint.PubKey == h.PubKey {
				e.Sig.Key.Hint.PubKey = entry.NewPrivateKey([32]byte{0: 0xef}).Public()
			}
		}},
	)
	if withSig || !h.PubKey.IsZero() || h.Name != "" {
		ms = append(ms, mutation{"hint global toggled", func(_ *rapid.T, e *entry.Entry) { e.Sig.Key.Hint.Global = !e.Sig.Key.Hint.Global }})
	}
	if e.Sig.Key.Delegated {
		ms = append(ms, mutation{"delegation step added", func(_ *rapid.T, e *entry.Entry) {
			e.Sig.Key.Path = append(e.Sig.Key.Path, entry.DelegationStep{Tree: freshID("step"), Tips: []entry.ID{}})
		}})
		if len(e.Sig.Key.Path) > 0 {
			ms = append(ms, mutation{"delegation tip added", func(_ *rapid.T, e *entry.Entry) {
				e.Sig.Key.Path[0].Tips = append(e.Sig.Key.Path[0].Tips, freshID("tip"))
			}})
		}
	}
	if withSig && e.Sig.Sig != "" {
		ms = append(ms, mutation{"signature byte changed", func(t *rapid.T, e *entry.Entry) {
			sig, err := base64.StdEncoding.DecodeString(e.Sig.Sig)
			if err != nil {
				t.Fatalf("signature text: %v", err)
			}
			sig[rapid.IntRange(0, len(sig)-1).Draw(t, "sig_index")] ^= 1
			e.Sig.Sig = base64.StdEncoding.EncodeToString(sig)
		}})
	}
	return ms
}

func TestPropertySemanticChangeChangesID(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := specGen(false).Draw(t, "spec").build(t)
		data, id := mustEncode(t, e)
		for _, m := range mutations(e, true) {
			changed := e.Clone()
			m.apply(t, changed)
			if got := mustID(t, changed); got == id {
				t.Fatalf("%s: ID unchanged", m.name)
			}
			if again, _ := mustEncode(t, e); !bytes.Equal(again, data) {
				t.Fatalf("%s on a Clone changed the original entry", m.name)
			}
		}
	})
}

func TestPropertyTamperedSignatureFails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := specGen(true).Draw(t, "spec")
		e := s.build(t)
		pub := s.signer.Public()
		if err := entry.CheckSigShape(e); err != nil {
			t.Fatalf("CheckSigShape of a signed entry: %v", err)
		}
		if err := entry.VerifySignature(e, pub); err != nil {
			t.Fatalf("untampered entry does not verify: %v", err)
		}

		for _, m := range mutations(e, false) {
			tampered := e.Clone()
			m.apply(t, tampered)
			if err := entry.VerifySignature(tampered, pub); !errors.Is(err, entry.ErrBadSignature) {
				t.Fatalf("%s after signing: VerifySignature = %v, want ErrBadSignature", m.name, err)
			}
		}

		otherSeed := seedGen.Draw(t, "other_seed")
		other := entry.NewPrivateKey(otherSeed)
		if other.Public() == pub {
			other = entry.NewPrivateKey([32]byte(bytes.Repeat([]byte{0x5a}, 32)))
		}
		if err := entry.VerifySignature(e, other.Public()); !errors.Is(err, entry.ErrBadSignature) {
			t.Fatalf("verified under another key: %v", err)
		}
		bySomeoneElse := e.Clone()
		if err := entry.Sign(bySomeoneElse, other); err != nil {
			t.Fatal(err)
		}
		if err := entry.VerifySignature(bySomeoneElse, pub); !errors.Is(err, entry.ErrBadSignature) {
			t.Fatalf("signature by another key verified: %v", err)
		}
		if err := entry.VerifySignature(e, pub); err != nil {
			t.Fatalf("tampering a Clone broke the original: %v", err)
		}
	})
}

// anyIDGen draws entry IDs, the empty ID, and CIDs of other codecs, hash
// codes and digest lengths (all with one-byte varints).
var anyIDGen = rapid.OneOf(
	idGen,
	rapid.Just(entry.ID{}),
	rapid.Custom(func(t *rapid.T) entry.ID {
		codec := rapid.SampledFrom([]byte{0x55, 0x70, 0x71}).Draw(t, "codec")
		hash := rapid.SampledFrom([]byte{0x12, 0x1e}).Draw(t, "hash")
		digest := rapid.SliceOfN(rapid.SampledFrom([]byte{0, 1, 0x7f, 0x80, 0xff}), 0, 40).Draw(t, "digest")
		raw := append([]byte{1, codec, hash, byte(len(digest))}, digest...)
		id, err := entry.IDFromBytes(raw)
		if err != nil {
			t.Fatalf("IDFromBytes(%x): %v", raw, err)
		}
		return id
	}),
)

func signum(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestPropertyCompareAndSortIDs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SliceOfN(anyIDGen, 0, 24).Draw(t, "ids")
		for _, a := range ids {
			if a.Compare(a) != 0 {
				t.Fatalf("%s.Compare(itself) != 0", a)
			}
			for _, b := range ids {
				c := signum(a.Compare(b))
				if want := signum(bytes.Compare(a.Bytes(), b.Bytes())); c != want {
					t.Fatalf("Compare(%x, %x) = %d, bytes.Compare = %d", a.Bytes(), b.Bytes(), c, want)
				}
				if c != -signum(b.Compare(a)) {
					t.Fatalf("Compare not antisymmetric for %x, %x", a.Bytes(), b.Bytes())
				}
				if (c == 0) != (a == b) {
					t.Fatalf("Compare(%x, %x) = 0 disagrees with ==", a.Bytes(), b.Bytes())
				}
			}
		}

		sorted := entry.SortIDs(slices.Clone(ids))
		for i := 1; i < len(sorted); i++ {
			if sorted[i-1].Compare(sorted[i]) >= 0 {
				t.Fatalf("SortIDs result not strictly ascending at %d: %x, %x", i, sorted[i-1].Bytes(), sorted[i].Bytes())
			}
		}
		distinct := map[entry.ID]bool{}
		for _, id := range ids {
			distinct[id] = true
		}
		if len(sorted) != len(distinct) {
			t.Fatalf("SortIDs kept %d of %d distinct IDs", len(sorted), len(distinct))
		}
		for _, id := range sorted {
			if !distinct[id] {
				t.Fatalf("SortIDs produced %x, which was not given", id.Bytes())
			}
		}
		byBytes := slices.Clone(ids)
		slices.SortFunc(byBytes, func(a, b entry.ID) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
		byBytes = slices.Compact(byBytes)
		if !slices.Equal(sorted, byBytes) {
			t.Fatal("SortIDs differs from sorting by binary CID")
		}
	})
}

// TestSignMatchesStdlib: PrivateKey.Sign (curve25519-voi) gives the bytes
// crypto/ed25519.Sign gives, and KeyCache accepts them, for any key and
// message; a flipped bit is refused by both.
func TestSignMatchesStdlib(t *testing.T) {
	var cache entry.KeyCache
	rapid.Check(t, func(t *rapid.T) {
		seed := [32]byte(rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "seed"))
		msg := rapid.SliceOfN(rapid.Byte(), 0, 600).Draw(t, "msg")
		key := entry.NewPrivateKey(seed)
		got := key.Sign(msg)
		want := ed25519.Sign(ed25519.NewKeyFromSeed(seed[:]), msg)
		if !bytes.Equal(got, want) {
			t.Fatalf("voi signature %x, crypto/ed25519 %x", got, want)
		}
		pub := key.Public()
		if !cache.Verify(pub, msg, got) {
			t.Fatal("KeyCache refused a valid signature")
		}
		bad := bytes.Clone(got)
		bit := rapid.IntRange(0, 8*len(bad)-1).Draw(t, "bit")
		bad[bit/8] ^= 1 << (bit % 8)
		if cache.Verify(pub, msg, bad) != ed25519.Verify(pub[:], msg, bad) {
			t.Fatalf("KeyCache and crypto/ed25519 disagree on %x", bad)
		}
	})
}
