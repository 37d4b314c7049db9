package entry_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// A minimal CBOR writer, so that every hand-crafted input below says byte for
// byte what it is. Heads are minimal unless a case writes one by hand.

func cHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	default:
		return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
	}
}

func cUint(n uint64) []byte      { return cHead(0, n) }
func cText(s string) []byte      { return append(cHead(3, uint64(len(s))), s...) }
func cBytes(b []byte) []byte     { return append(cHead(2, uint64(len(b))), b...) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func cArray(items ...[]byte) []byte {
	return cat(append([][]byte{cHead(4, uint64(len(items)))}, items...)...)
}

// kv is one map entry; cMap writes them in the order given.
type kv struct {
	k string
	v []byte
}

func cMapBody(ps []kv) []byte {
	var out []byte
	for _, p := range ps {
		out = append(append(out, cText(p.k)...), p.v...)
	}
	return out
}

func cMap(ps ...kv) []byte { return append(cHead(5, uint64(len(ps))), cMapBody(ps)...) }

func cLink(id entry.ID) []byte {
	return append([]byte{0xd8, 42}, cBytes(append([]byte{0x00}, id.Bytes()...))...)
}

var cNull = []byte{0xf6}

// set returns ps with key's value replaced, or panics if key is absent, so a
// case can never silently test the unmodified input.
func set(ps []kv, key string, v []byte) []kv {
	out := append([]kv(nil), ps...)
	for i := range out {
		if out[i].k == key {
			out[i].v = v
			return out
		}
	}
	panic("no key " + key)
}

func without(ps []kv, key string) []kv {
	out := make([]kv, 0, len(ps))
	for _, p := range ps {
		if p.k != key {
			out = append(out, p)
		}
	}
	if len(out) == len(ps) {
		panic("no key " + key)
	}
	return out
}

func swapped(ps []kv, i, j int) []kv {
	out := append([]kv(nil), ps...)
	out[i], out[j] = out[j], out[i]
	return out
}

var edgeRoot = entry.IDOf([]byte("edge root"))

// edgeBase is the valid entry every CBOR edge case starts from.
func edgeBase(t testing.TB) *entry.Entry {
	t.Helper()
	e, err := entry.NewBuilder(edgeRoot).Parents(edgeRoot).Height(1).
		Store(entry.StoreNode{Name: "data", Data: []byte("x")}).Build()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// cborParts is edgeBase written by hand, map by map, keys in canonical order.
type cborParts struct {
	sig, key, hint, tree, store []kv
}

func baseParts() cborParts {
	return cborParts{
		sig:   []kv{{"key", nil}}, // filled from key and hint by encode
		key:   []kv{{"Direct", nil}},
		hint:  []kv{},
		tree:  []kv{{"h", cUint(1)}, {"root", cLink(edgeRoot)}, {"parents", cArray(cLink(edgeRoot))}},
		store: []kv{{"data", cBytes([]byte("x"))}, {"name", cText("data")}, {"parents", cArray()}},
	}
}

func (p cborParts) keyItem() []byte {
	key := p.key
	if len(key) == 1 && key[0].k == "Direct" && key[0].v == nil {
		key = []kv{{"Direct", cMap(kv{"hint", cMap(p.hint...)})}}
	}
	return cMap(key...)
}

func (p cborParts) top() []kv {
	sig := p.sig
	if len(sig) > 0 && sig[0].k == "key" && sig[0].v == nil {
		sig = set(sig, "key", p.keyItem())
	}
	return []kv{{"sig", cMap(sig...)}, {"tree", cMap(p.tree...)}, {"subtrees", cArray(cMap(p.store...))}}
}

func (p cborParts) encode() []byte { return cMap(p.top()...) }

func TestEdgeCBORHandWrittenBaseIsCanonical(t *testing.T) {
	want, err := entry.EncodeCBOR(edgeBase(t))
	if err != nil {
		t.Fatal(err)
	}
	got := baseParts().encode()
	if !bytes.Equal(got, want) {
		t.Fatalf("hand-written base differs from the Builder's:\n got %x\nwant %x", got, want)
	}
	if _, _, err := entry.DecodeCBOR(got); err != nil {
		t.Fatalf("DecodeCBOR of the base: %v", err)
	}
}

func TestEdgeDecodeCBOR(t *testing.T) {
	link := cLink(edgeRoot)
	other := entry.IDOf([]byte("edge other"))
	tests := []struct {
		name string
		data func(p cborParts) []byte
		want error
	}{
		// Non-canonical encodings of an otherwise valid entry.
		{"top-level keys unsorted", func(p cborParts) []byte { return cMap(swapped(p.top(), 0, 1)...) }, entry.ErrNonCanonical},
		{"tree keys unsorted", func(p cborParts) []byte { p.tree = swapped(p.tree, 0, 1); return p.encode() }, entry.ErrNonCanonical},
		{"store keys bytewise instead of length-first", func(p cborParts) []byte {
			p.store = []kv{{"data", cBytes([]byte("x"))}, {"h", cUint(2)}, {"name", cText("data")}, {"parents", cArray()}}
			return p.encode()
		}, entry.ErrNonCanonical},
		{"h=1 as 0x18 0x01", func(p cborParts) []byte { p.tree = set(p.tree, "h", []byte{0x18, 0x01}); return p.encode() }, entry.ErrNonCanonical},
		{"h=1 as 0x19 0x0001", func(p cborParts) []byte { p.tree = set(p.tree, "h", []byte{0x19, 0, 1}); return p.encode() }, entry.ErrNonCanonical},
		{"h=255 as 0x1a", func(p cborParts) []byte { p.tree = set(p.tree, "h", []byte{0x1a, 0, 0, 0, 0xff}); return p.encode() }, entry.ErrNonCanonical},
		{"text length non-minimal", func(p cborParts) []byte {
			p.store = set(p.store, "name", append([]byte{0x78, 4}, "data"...))
			return p.encode()
		}, entry.ErrNonCanonical},
		{"array length non-minimal", func(p cborParts) []byte {
			p.tree = set(p.tree, "parents", append([]byte{0x98, 1}, link...))
			return p.encode()
		}, entry.ErrNonCanonical},
		{"map length non-minimal", func(p cborParts) []byte { return append([]byte{0xb8, 3}, cMapBody(p.top())...) }, entry.ErrNonCanonical},
		// Canonical form is checked before the schema: the specific cause
		// comes first even when the entry is also invalid otherwise.
		{"non-minimal integer in an entry missing tree.parents", func(p cborParts) []byte {
			p.tree = []kv{{"h", []byte{0x18, 0x01}}, {"root", link}}
			return p.encode()
		}, entry.ErrNonCanonical},
		{"unsorted keys in an entry missing tree.parents", func(p cborParts) []byte {
			p.tree = []kv{{"root", link}, {"h", cUint(1)}}
			return p.encode()
		}, entry.ErrNonCanonical},
		{"explicit tree h:0", func(p cborParts) []byte { p.tree = set(p.tree, "h", cUint(0)); return p.encode() }, entry.ErrNonCanonical},
		{"explicit _v:0", func(p cborParts) []byte { return cMap(append([]kv{{"_v", cUint(0)}}, p.top()...)...) }, entry.ErrNonCanonical},
		{"explicit is_global:false", func(p cborParts) []byte { p.hint = []kv{{"is_global", []byte{0xf4}}}; return p.encode() }, entry.ErrNonCanonical},
		{"explicit data:null", func(p cborParts) []byte { p.store = set(p.store, "data", cNull); return p.encode() }, entry.ErrNonCanonical},
		{"explicit metadata:null", func(p cborParts) []byte { p.tree = append(p.tree, kv{"metadata", cNull}); return p.encode() }, entry.ErrNonCanonical},
		{"duplicate map key", func(p cborParts) []byte {
			p.tree = append([]kv{{"h", cUint(1)}}, p.tree...)
			return p.encode()
		}, entry.ErrNonCanonical},
		{"duplicate map key with another value", func(p cborParts) []byte {
			p.store = append(p.store[:2:2], kv{"name", cText("zzzz")}, p.store[2])
			return p.encode()
		}, entry.ErrNonCanonical},

		// Indefinite lengths.
		{"indefinite-length array", func(p cborParts) []byte {
			top := set(p.top(), "subtrees", cat([]byte{0x9f}, cMap(p.store...), []byte{0xff}))
			return cMap(top...)
		}, entry.ErrIndefiniteLength},
		{"indefinite-length map", func(p cborParts) []byte {
			top := set(p.top(), "tree", cat([]byte{0xbf}, cMapBody(p.tree), []byte{0xff}))
			return cMap(top...)
		}, entry.ErrIndefiniteLength},
		{"indefinite-length byte string", func(p cborParts) []byte {
			p.store = set(p.store, "data", []byte{0x5f, 0x41, 'x', 0xff})
			return p.encode()
		}, entry.ErrIndefiniteLength},
		{"indefinite-length text string", func(p cborParts) []byte {
			p.store = set(p.store, "name", cat([]byte{0x7f}, cText("data"), []byte{0xff}))
			return p.encode()
		}, entry.ErrIndefiniteLength},

		// CBOR outside the schema.
		{"float16 height", func(p cborParts) []byte { p.tree = set(p.tree, "h", []byte{0xf9, 0x3c, 0x00}); return p.encode() }, entry.ErrUnsupportedCBOR},
		{"float64 height", func(p cborParts) []byte {
			p.tree = set(p.tree, "h", []byte{0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0})
			return p.encode()
		}, entry.ErrUnsupportedCBOR},
		{"undefined", func(p cborParts) []byte { p.store = set(p.store, "data", []byte{0xf7}); return p.encode() }, entry.ErrUnsupportedCBOR},
		{"simple value 16", func(p cborParts) []byte { p.store = set(p.store, "data", []byte{0xf0}); return p.encode() }, entry.ErrUnsupportedCBOR},
		{"tag 43 instead of 42", func(p cborParts) []byte {
			p.tree = set(p.tree, "parents", cArray(append([]byte{0xd8, 43}, link[2:]...)))
			return p.encode()
		}, entry.ErrUnsupportedCBOR},
		{"tag 0 around a name", func(p cborParts) []byte {
			p.store = set(p.store, "name", append([]byte{0xc0}, cText("data")...))
			return p.encode()
		}, entry.ErrUnsupportedCBOR},
		{"tag 42 around an untagged link", func(p cborParts) []byte {
			p.tree = set(p.tree, "parents", cArray(append([]byte{0xd8, 42}, link...)))
			return p.encode()
		}, entry.ErrBadID},
		{"tag 42 link in place of data", func(p cborParts) []byte {
			p.store = set(p.store, "data", append([]byte{0xd8, 42}, cBytes([]byte("x"))...))
			return p.encode()
		}, entry.ErrMalformed},
		{"null tree.root", func(p cborParts) []byte { p.tree = set(p.tree, "root", cNull); return p.encode() }, entry.ErrBadID},
		{"upper-case field name", func(p cborParts) []byte {
			p.tree = set(p.tree, "h", nil)
			p.tree[0].k = "H"
			p.tree[0].v = cUint(1)
			return p.encode()
		}, entry.ErrMalformed},
		{"integer map key", func(p cborParts) []byte {
			return cat(cHead(5, 4), cUint(0), cUint(0), cMapBody(p.top()))
		}, entry.ErrUnsupportedCBOR},
		{"tag 42 link without the 0x00 prefix", func(p cborParts) []byte {
			p.tree = set(p.tree, "parents", cArray(append([]byte{0xd8, 42}, cBytes(other.Bytes())...)))
			return p.encode()
		}, entry.ErrBadID},
		{"tag 42 link to a CIDv0-like multihash", func(p cborParts) []byte {
			p.tree = set(p.tree, "parents", cArray(append([]byte{0xd8, 42}, cBytes(append([]byte{0, 0x12, 0x20}, make([]byte, 32)...))...)))
			return p.encode()
		}, entry.ErrBadID},
		{"invalid UTF-8 store name", func(p cborParts) []byte { p.store = set(p.store, "name", cText("\xff\xfe")); return p.encode() }, entry.ErrMalformed},
		{"unknown top-level field", func(p cborParts) []byte { return cMap(append([]kv{{"zz", cUint(1)}}, p.top()...)...) }, entry.ErrMalformed},
		{"unknown tree field", func(p cborParts) []byte { p.tree = append(p.tree, kv{"extra123", cUint(1)}); return p.encode() }, entry.ErrMalformed},
		{"top-level array", func(p cborParts) []byte { return cArray(p.encode()) }, entry.ErrMalformed},
		{"reserved additional info", func(p cborParts) []byte { p.tree = set(p.tree, "h", []byte{0x1c}); return p.encode() }, entry.ErrMalformed},
		{"nesting deeper than the schema", func(cborParts) []byte {
			return append(bytes.Repeat([]byte{0x81}, 40), 0x80)
		}, entry.ErrTooLarge},

		// Framing.
		{"empty input", func(cborParts) []byte { return nil }, entry.ErrTruncated},
		{"trailing zero byte", func(p cborParts) []byte { return append(p.encode(), 0) }, entry.ErrTrailingBytes},
		{"two entries", func(p cborParts) []byte { return append(p.encode(), p.encode()...) }, entry.ErrTrailingBytes},
		{"array claims 2^64-1 items", func(cborParts) []byte { return []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }, entry.ErrTruncated},
		{"byte string claims 2^32 bytes", func(p cborParts) []byte {
			p.store = set(p.store, "data", []byte{0x5b, 0, 0, 0, 1, 0, 0, 0, 0})
			return p.encode()
		}, entry.ErrTruncated},

		// Schema and section 1.1 rules.
		{"_v:1", func(p cborParts) []byte { return cMap(append([]kv{{"_v", cUint(1)}}, p.top()...)...) }, entry.ErrUnsupportedVersion},
		{"_v:255", func(p cborParts) []byte { return cMap(append([]kv{{"_v", cUint(255)}}, p.top()...)...) }, entry.ErrUnsupportedVersion},
		{"empty store name", func(p cborParts) []byte { p.store = set(p.store, "name", cText("")); return p.encode() }, entry.ErrEmptyStoreName},
		{"non-root without parents", func(p cborParts) []byte { p.tree = set(p.tree, "parents", cArray()); return p.encode() }, entry.ErrMissingParents},
		{"no root, no parents, no _root store", func(p cborParts) []byte {
			p.tree = []kv{{"parents", cArray()}}
			return p.encode()
		}, entry.ErrMissingParents},
		{"_root store with parents", func(p cborParts) []byte {
			p.tree = without(p.tree, "root")
			p.store = []kv{{"data", cBytes(nil)}, {"name", cText(entry.StoreRoot)}, {"parents", cArray()}}
			return p.encode()
		}, entry.ErrRootWithParents},
		{"null parent ID", func(p cborParts) []byte { p.tree = set(p.tree, "parents", cArray(cNull)); return p.encode() }, entry.ErrEmptyParentID},
		{"null store parent ID", func(p cborParts) []byte { p.store = set(p.store, "parents", cArray(link, cNull)); return p.encode() }, entry.ErrEmptyParentID},
		{"missing tree", func(p cborParts) []byte { return cMap(without(p.top(), "tree")...) }, entry.ErrMissingField},
		{"missing subtrees", func(p cborParts) []byte { return cMap(without(p.top(), "subtrees")...) }, entry.ErrMissingField},
		{"missing sig", func(p cborParts) []byte { return cMap(without(p.top(), "sig")...) }, entry.ErrMissingField},
		{"missing tree.parents", func(p cborParts) []byte { p.tree = without(p.tree, "parents"); return p.encode() }, entry.ErrMissingField},
		{"missing subtrees[].name", func(p cborParts) []byte { p.store = without(p.store, "name"); return p.encode() }, entry.ErrMissingField},
		{"missing subtrees[].parents", func(p cborParts) []byte { p.store = without(p.store, "parents"); return p.encode() }, entry.ErrMissingField},
		{"missing sig.key", func(p cborParts) []byte {
			p.sig = []kv{{"sig", cText(strings.Repeat("A", 86) + "==")}}
			return p.encode()
		}, entry.ErrMissingField},
		{"Direct without hint", func(p cborParts) []byte { p.key = []kv{{"Direct", cMap()}}; return p.encode() }, entry.ErrMissingField},
		{"Delegation without path", func(p cborParts) []byte {
			p.key = []kv{{"Delegation", cMap(kv{"hint", cMap()})}}
			return p.encode()
		}, entry.ErrMissingField},
		{"both Direct and Delegation", func(p cborParts) []byte {
			p.key = []kv{{"Direct", cMap(kv{"hint", cMap()})}, {"Delegation", cMap(kv{"hint", cMap()}, kv{"path", cArray()})}}
			return p.encode()
		}, entry.ErrMalformedSig},
		{"SigKey with no variant", func(p cborParts) []byte { p.key = []kv{}; return p.encode() }, entry.ErrMalformedSig},
		{"unknown SigKey variant", func(p cborParts) []byte { p.key = []kv{{"Other", cMap(kv{"hint", cMap()})}}; return p.encode() }, entry.ErrMalformed},
		{"empty sig text", func(p cborParts) []byte { p.sig = append(p.sig, kv{"sig", cText("")}); return p.encode() }, entry.ErrMalformedSig},
		{"empty hint name", func(p cborParts) []byte { p.hint = []kv{{"name", cText("")}}; return p.encode() }, entry.ErrMalformedSig},
		{"hint pubkey not canonical", func(p cborParts) []byte {
			p.hint = []kv{{"pubkey", cText("ed25519:" + strings.Repeat("A", 43))}}
			return p.encode()
		}, entry.ErrBadKey},
		{"sig text longer than a signature", func(p cborParts) []byte {
			p.hint = []kv{{"name", cText("k")}}
			p.sig = append(p.sig, kv{"sig", cText(strings.Repeat("A", 89))})
			return p.encode()
		}, entry.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(baseParts())
			e, _, err := entry.DecodeCBOR(data)
			if !errors.Is(err, tt.want) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("DecodeCBOR(%x) = %v, want %v (and ErrMalformed)", data, err, tt.want)
			}
			if e != nil {
				t.Fatal("an entry was returned with an error")
			}
		})
	}
}

// validEncodings are entries of every shape, for the truncation test.
func validEncodings(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(name string, e *entry.Entry) {
		data, err := entry.EncodeCBOR(e)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = data
	}
	add("base", edgeBase(t))
	root, err := entry.NewRoot(7).Build()
	if err != nil {
		t.Fatal(err)
	}
	add("root", root)
	key := entry.NewPrivateKey([32]byte{1})
	h := uint64(0)
	e, err := entry.NewBuilder(edgeRoot).Parents(edgeRoot, entry.IDOf([]byte("p"))).Height(1 << 40).
		Metadata(entry.Bytes{}).
		Store(entry.StoreNode{Name: "s", Height: &h, Parents: []entry.ID{edgeRoot}}).
		SigKey(entry.SigKey{Delegated: true, Path: []entry.DelegationStep{{Tree: edgeRoot, Tips: []entry.ID{edgeRoot}}},
			Hint: entry.KeyHint{PubKey: key.Public(), Name: "n", Global: true}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := entry.Sign(e, key); err != nil {
		t.Fatal(err)
	}
	add("signed delegation", e)
	return out
}

func TestEdgeDecodeCBORTruncated(t *testing.T) {
	for name, data := range validEncodings(t) {
		t.Run(name, func(t *testing.T) {
			if _, _, err := entry.DecodeCBOR(data); err != nil {
				t.Fatalf("full input: %v", err)
			}
			for n := range len(data) {
				e, _, err := entry.DecodeCBOR(data[:n])
				if !errors.Is(err, entry.ErrTruncated) || !errors.Is(err, entry.ErrMalformed) || e != nil {
					t.Fatalf("prefix of %d/%d bytes: err %v, want ErrTruncated", n, len(data), err)
				}
			}
		})
	}
}

func TestEdgeBuilder(t *testing.T) {
	p := entry.IDOf([]byte("parent"))
	tests := []struct {
		name string
		b    func() *entry.Builder
		want error
	}{
		{"empty store name", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(p).Store(entry.StoreNode{Name: ""})
		}, entry.ErrEmptyStoreName},
		{"non-root without parents", func() *entry.Builder { return entry.NewBuilder(edgeRoot) }, entry.ErrMissingParents},
		{"non-root with empty parent list", func() *entry.Builder { return entry.NewBuilder(edgeRoot).Parents() }, entry.ErrMissingParents},
		{"no root field and no _root store", func() *entry.Builder { return entry.NewBuilder(entry.ID{}) }, entry.ErrMissingParents},
		{"_root store with a root field", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Store(entry.StoreNode{Name: entry.StoreRoot, Data: entry.Bytes{}})
		}, entry.ErrMissingParents},
		{"root with parents", func() *entry.Builder { return entry.NewRoot(1).Parents(p) }, entry.ErrRootWithParents},
		{"_root store added by hand with parents", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(p).Store(entry.StoreNode{Name: entry.StoreRoot, Data: entry.Bytes{}})
		}, entry.ErrRootWithParents},
		{"empty parent ID", func() *entry.Builder { return entry.NewBuilder(edgeRoot).Parents(entry.ID{}) }, entry.ErrEmptyParentID},
		{"empty parent ID among others", func() *entry.Builder { return entry.NewBuilder(edgeRoot).Parents(p, entry.ID{}, edgeRoot) }, entry.ErrEmptyParentID},
		{"empty store parent ID", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(p).Store(entry.StoreNode{Name: "s", Parents: []entry.ID{p, {}}})
		}, entry.ErrEmptyParentID},
		{"duplicate store names", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(p).
				Store(entry.StoreNode{Name: "s", Data: entry.Bytes("1")}).
				Store(entry.StoreNode{Name: "t"}).
				Store(entry.StoreNode{Name: "s", Data: entry.Bytes("2")})
		}, entry.ErrDuplicateStore},
		{"second _root store on a root", func() *entry.Builder {
			return entry.NewRoot(1).Store(entry.StoreNode{Name: entry.StoreRoot, Data: entry.Bytes{}})
		}, entry.ErrDuplicateStore},
		{"Direct key with a delegation path", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(p).SigKey(entry.SigKey{Path: []entry.DelegationStep{{Tree: p}}, Hint: entry.KeyHint{Name: "k"}})
		}, entry.ErrMalformedSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.b().Build()
			if !errors.Is(err, tt.want) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("Build = %v, want %v", err, tt.want)
			}
			if e != nil {
				t.Fatal("an entry was returned with an error")
			}
		})
	}
}

func TestEdgeBuilderParentsDeduplicatedBeforeLimit(t *testing.T) {
	a, b := entry.IDOf([]byte("a")), entry.IDOf([]byte("b"))
	lim := entry.DefaultLimits()
	lim.ParentsMax = 2
	e, err := entry.NewBuilder(edgeRoot).WithLimits(lim).Parents(a, b, a, b, a).Build()
	if err != nil {
		t.Fatalf("five parents of which two distinct, limit 2: %v", err)
	}
	if len(e.Tree.Parents) != 2 {
		t.Fatalf("parents %v, want 2", e.Tree.Parents)
	}
}

func TestEdgeLimits(t *testing.T) {
	ids := func(n int) []entry.ID {
		out := make([]entry.ID, n)
		for i := range out {
			out[i] = entry.IDOf([]byte{byte(i), 'L'})
		}
		return out
	}
	base := func() *entry.Builder {
		return entry.NewBuilder(edgeRoot).Parents(edgeRoot).Store(entry.StoreNode{Name: "data", Data: entry.Bytes("payload")})
	}
	key := entry.NewPrivateKey([32]byte{9})
	tests := []struct {
		name  string
		b     func() *entry.Builder
		limit func(l *entry.Limits, n int) // sets the limit under test to n
		at    int                          // the smallest limit the entry fits
	}{
		{"main parents", func() *entry.Builder { return base().Parents(ids(5)...) },
			func(l *entry.Limits, n int) { l.ParentsMax = n }, 5},
		{"store parents", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(edgeRoot).Store(entry.StoreNode{Name: "s", Parents: ids(4)})
		}, func(l *entry.Limits, n int) { l.ParentsMax = n }, 4},
		{"stores", func() *entry.Builder {
			return base().Store(entry.StoreNode{Name: "a"}).Store(entry.StoreNode{Name: "b"})
		}, func(l *entry.Limits, n int) { l.StoresMax = n }, 3},
		{"store name", func() *entry.Builder { return base().Store(entry.StoreNode{Name: strings.Repeat("n", 200)}) },
			func(l *entry.Limits, n int) { l.NameBytesMax = n }, 200},
		{"multi-byte store name counts bytes", func() *entry.Builder {
			return entry.NewBuilder(edgeRoot).Parents(edgeRoot).Store(entry.StoreNode{Name: "ééé"})
		}, func(l *entry.Limits, n int) { l.NameBytesMax = n }, 6},
		{"key hint name", func() *entry.Builder {
			return base().SigKey(entry.SigKey{Hint: entry.KeyHint{Name: strings.Repeat("k", 40)}})
		}, func(l *entry.Limits, n int) { l.NameBytesMax = n }, 40},
		{"delegation steps", func() *entry.Builder {
			steps := []entry.DelegationStep{{Tree: edgeRoot, Tips: []entry.ID{}}, {Tree: edgeRoot, Tips: []entry.ID{}}, {Tree: edgeRoot, Tips: []entry.ID{}}}
			return base().SigKey(entry.SigKey{Delegated: true, Path: steps, Hint: entry.KeyHint{PubKey: key.Public()}})
		}, func(l *entry.Limits, n int) { l.DelegationStepsMax = n }, 3},
		{"delegation step tips", func() *entry.Builder {
			steps := []entry.DelegationStep{{Tree: edgeRoot, Tips: ids(6)}}
			return base().SigKey(entry.SigKey{Delegated: true, Path: steps, Hint: entry.KeyHint{PubKey: key.Public()}})
		}, func(l *entry.Limits, n int) { l.ParentsMax = n }, 6},
		{"entry bytes", func() *entry.Builder {
			return base().Store(entry.StoreNode{Name: "big", Data: bytes.Repeat([]byte{0xab}, 5000)})
		}, func(l *entry.Limits, n int) { l.EntryBytesMax = n }, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.b().Build()
			if err != nil {
				t.Fatalf("Build with DefaultLimits: %v", err)
			}
			if e.Sig.Key.Delegated || !e.Sig.Key.Hint.IsZero() {
				if err := entry.Sign(e, key); err != nil {
					t.Fatal(err)
				}
			}
			data, err := entry.EncodeCBOR(e)
			if err != nil {
				t.Fatal(err)
			}
			js, err := entry.EncodeJSON(e)
			if err != nil {
				t.Fatal(err)
			}
			at := tt.at
			if at < 0 { // the entry-size limit: the unsigned size for Build, the signed one for decoders
				unsigned, err := tt.b().Build()
				if err != nil {
					t.Fatal(err)
				}
				u, _ := entry.EncodeCBOR(unsigned)
				at = len(u)
			}
			fits, over := entry.DefaultLimits(), entry.DefaultLimits()
			tt.limit(&fits, at)
			tt.limit(&over, at-1)
			if _, err := tt.b().WithLimits(fits).Build(); err != nil {
				t.Fatalf("Build at the limit: %v", err)
			}
			if _, err := tt.b().WithLimits(over).Build(); !errors.Is(err, entry.ErrTooLarge) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("Build over the limit = %v, want ErrTooLarge", err)
			}
			if tt.at < 0 {
				tt.limit(&fits, len(data))
				tt.limit(&over, len(data)-1)
			}
			if _, _, err := fits.DecodeCBOR(data); err != nil {
				t.Fatalf("DecodeCBOR at the limit: %v", err)
			}
			if _, _, err := fits.DecodeJSON(js); err != nil {
				t.Fatalf("DecodeJSON at the limit: %v", err)
			}
			if _, _, err := over.DecodeCBOR(data); !errors.Is(err, entry.ErrTooLarge) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("DecodeCBOR over the limit = %v, want ErrTooLarge", err)
			}
			if _, _, err := over.DecodeJSON(js); !errors.Is(err, entry.ErrTooLarge) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("DecodeJSON over the limit = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestEdgeDecodeJSONHugeInput(t *testing.T) {
	lim := entry.DefaultLimits()
	lim.EntryBytesMax = 100
	_, _, err := lim.DecodeJSON(bytes.Repeat([]byte(" "), 1<<20))
	if !errors.Is(err, entry.ErrTooLarge) {
		t.Fatalf("DecodeJSON of 1 MiB with EntryBytesMax 100 = %v, want ErrTooLarge", err)
	}
}

// jsonBase is the entry every JSON edge case starts from: signed, tree
// height 0 (so "h" is absent), metadata, a store without data and one with.
func jsonBase(t testing.TB) (*entry.Entry, []byte, entry.ID) {
	t.Helper()
	key := entry.NewPrivateKey([32]byte{3})
	e, err := entry.NewBuilder(edgeRoot).Parents(edgeRoot).Metadata(entry.Bytes("m")).
		Store(entry.StoreNode{Name: "a"}).
		Store(entry.StoreNode{Name: "b", Parents: []entry.ID{edgeRoot}, Data: entry.Bytes("x")}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := entry.Sign(e, key); err != nil {
		t.Fatal(err)
	}
	js, err := entry.EncodeJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	id, err := entry.ComputeID(e)
	if err != nil {
		t.Fatal(err)
	}
	return e, js, id
}

type jsonObj = map[string]any

func obj(v any) jsonObj { return v.(jsonObj) }

func tree(m jsonObj) jsonObj         { return obj(m["tree"]) }
func store(m jsonObj, i int) jsonObj { return obj(m["subtrees"].([]any)[i]) }
func sigKey(m jsonObj) jsonObj       { return obj(obj(m["sig"])["key"]) }
func hint(m jsonObj) jsonObj         { return obj(obj(sigKey(m)["Direct"])["hint"]) }

// editJSON decodes js generically, applies edit and encodes it again. Key
// order changes, which the decoder must not care about.
func editJSON(t *testing.T, js []byte, edit func(m jsonObj)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	var m jsonObj
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// replaceOnce replaces old, which must occur exactly once.
func replaceOnce(t *testing.T, s []byte, old, new string) []byte {
	t.Helper()
	if n := bytes.Count(s, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times in %s", old, n, s)
	}
	return bytes.Replace(s, []byte(old), []byte(new), 1)
}

func TestEdgeDecodeJSONBase(t *testing.T) {
	_, js, id := jsonBase(t)
	for _, want := range []string{`"data":[120]`, `"metadata":[109]`, `{"name":"a","parents":[]}`, `"hint":{"pubkey":"ed25519:`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Fatalf("base JSON lacks %s: %s", want, js)
		}
	}
	if bytes.Contains(js, []byte(`"h"`)) {
		t.Fatalf("base JSON has a height: %s", js)
	}
	_, got, err := entry.DecodeJSON(js)
	if err != nil || got != id {
		t.Fatalf("DecodeJSON of the base: %v, %s want %s", err, got, id)
	}
}

func TestEdgeDecodeJSON(t *testing.T) {
	delegation := func(m jsonObj) jsonObj {
		d := jsonObj{"path": []any{jsonObj{"tree": edgeRoot.String(), "tips": []any{}}}, "hint": jsonObj{"name": "k"}}
		obj(m["sig"])["key"] = jsonObj{"Delegation": d}
		return d
	}
	tests := []struct {
		name string
		edit func(m jsonObj)
		raw  func(t *testing.T, js []byte) []byte // instead of edit
		want error                                // nil: accepted with the base's ID
	}{
		// Defaults the reference writes or accepts: dropped.
		{name: "keys reordered", edit: func(jsonObj) {}},
		{name: `tree "h":0`, edit: func(m jsonObj) { tree(m)["h"] = 0 }},
		{name: `"_v":0`, edit: func(m jsonObj) { m["_v"] = 0 }},
		{name: `"data":null`, edit: func(m jsonObj) { store(m, 0)["data"] = nil }},
		{name: `"is_global":false`, edit: func(m jsonObj) { hint(m)["is_global"] = false }},
		{name: `"name":null in hint`, edit: func(m jsonObj) { hint(m)["name"] = nil }},
		{name: "all defaults at once", edit: func(m jsonObj) {
			tree(m)["h"], m["_v"], store(m, 0)["data"], hint(m)["is_global"] = 0, 0, nil, false
		}},
		{name: "escaped field name", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"\u0064ata":[120]`) }},
		{name: "whitespace around the value", raw: func(_ *testing.T, js []byte) []byte { return append(append([]byte(" \n\t"), js...), "\r\n "...) }},

		// What serde refuses and encoding/json would take silently.
		{name: "duplicate field", raw: func(t *testing.T, js []byte) []byte {
			return replaceOnce(t, js, `"data":[120]`, `"data":[121],"data":[120]`)
		}, want: entry.ErrMalformed},
		{name: "invalid UTF-8", raw: func(t *testing.T, js []byte) []byte {
			return replaceOnce(t, js, `{"name":"a",`, "{\"name\":\"a\xff\",")
		}, want: entry.ErrMalformed},

		// Byte strings.
		{name: "data as a base64 string", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":"eA=="`) }, want: entry.ErrBadBytes},
		{name: "data as a plain string", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":"x"`) }, want: entry.ErrBadBytes},
		{name: "metadata as a string", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"metadata":[109]`, `"metadata":"m"`) }, want: entry.ErrBadBytes},
		{name: "data as an object", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":{}`) }, want: entry.ErrBadBytes},
		{name: "byte 256", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[120,256]`) }, want: entry.ErrBadBytes},
		{name: "byte 1000", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[1000]`) }, want: entry.ErrBadBytes},
		{name: "byte -1", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[-1]`) }, want: entry.ErrBadBytes},
		{name: "byte -0", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[-0]`) }, want: entry.ErrBadBytes},
		{name: "byte 1.0", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[1.0]`) }, want: entry.ErrBadBytes},
		{name: "byte 1e2", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[1e2]`) }, want: entry.ErrBadBytes},
		{name: "byte 1E0", raw: func(t *testing.T, js []byte) []byte {
			return replaceOnce(t, js, `"metadata":[109]`, `"metadata":[1E0]`)
		}, want: entry.ErrBadBytes},
		{name: "byte true", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[true]`) }, want: entry.ErrBadBytes},
		{name: "byte as a string", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":["1"]`) }, want: entry.ErrBadBytes},
		{name: "byte null", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[null]`) }, want: entry.ErrBadBytes},
		{name: "nested array", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[[1]]`) }, want: entry.ErrBadBytes},
		// NB: 01 is not JSON at all, so the JSON syntax check refuses it before
		// Bytes.UnmarshalJSON runs; TestEdgeBytesUnmarshalJSON covers 01 there.
		{name: "byte 01 (invalid JSON)", raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"data":[01]`) }, want: entry.ErrMalformed},

		// Unknown fields, at every level.
		{name: "unknown top-level field", edit: func(m jsonObj) { m["extra"] = 1 }, want: errUnknownField},
		{name: "unknown tree field", edit: func(m jsonObj) { tree(m)["height"] = 1 }, want: errUnknownField},
		{name: "unknown store field", edit: func(m jsonObj) { store(m, 1)["extra"] = []any{1} }, want: errUnknownField},
		// NB: encoding/json matches field names case-insensitively; serde does
		// not, so "Data" is an unknown field there and must be here too.
		{name: `store field "Data" in another case`, edit: func(m jsonObj) {
			delete(store(m, 1), "data")
			store(m, 1)["Data"] = []any{120}
		}, want: errUnknownField},
		{name: `store "Data" after "data"`, raw: func(t *testing.T, js []byte) []byte {
			return replaceOnce(t, js, `"data":[120]`, `"data":[120],"Data":[1]`)
		}, want: errUnknownField},
		{name: `escaped "Data"`, raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"data":[120]`, `"\u0044ata":[120]`) }, want: errUnknownField},
		{name: `top-level field "TREE"`, raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"tree":`, `"TREE":`) }, want: errUnknownField},
		{name: `SigKey variant "direct"`, raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"Direct":`, `"direct":`) }, want: errUnknownField},
		{name: `hint field "PubKey"`, raw: func(t *testing.T, js []byte) []byte { return replaceOnce(t, js, `"pubkey":`, `"PubKey":`) }, want: errUnknownField},
		{name: "unknown sig field", edit: func(m jsonObj) { obj(m["sig"])["signature"] = "x" }, want: errUnknownField},
		{name: "unknown hint field", edit: func(m jsonObj) { hint(m)["global"] = true }, want: errUnknownField},
		{name: "unknown SigKey variant", edit: func(m jsonObj) {
			obj(m["sig"])["key"] = jsonObj{"Indirect": jsonObj{"hint": jsonObj{}}}
		}, want: errUnknownField},
		{name: "unknown field in a delegation step", edit: func(m jsonObj) {
			d := delegation(m)
			obj(d["path"].([]any)[0])["extra"] = 1
		}, want: errUnknownField},

		// Required fields.
		{name: "missing tree", edit: func(m jsonObj) { delete(m, "tree") }, want: entry.ErrMissingField},
		{name: "missing subtrees", edit: func(m jsonObj) { delete(m, "subtrees") }, want: entry.ErrMissingField},
		{name: "null subtrees", edit: func(m jsonObj) { m["subtrees"] = nil }, want: entry.ErrMissingField},
		{name: "missing sig", edit: func(m jsonObj) { delete(m, "sig") }, want: entry.ErrMissingField},
		{name: "missing tree.parents", edit: func(m jsonObj) { delete(tree(m), "parents") }, want: entry.ErrMissingField},
		{name: "null tree.parents", edit: func(m jsonObj) { tree(m)["parents"] = nil }, want: entry.ErrMissingField},
		{name: "missing subtrees[].name", edit: func(m jsonObj) { delete(store(m, 1), "name") }, want: entry.ErrMissingField},
		{name: "missing subtrees[].parents", edit: func(m jsonObj) { delete(store(m, 0), "parents") }, want: entry.ErrMissingField},
		{name: "missing sig.key", edit: func(m jsonObj) { delete(obj(m["sig"]), "key") }, want: entry.ErrMissingField},
		{name: "Direct without hint", edit: func(m jsonObj) { delete(obj(sigKey(m)["Direct"]), "hint") }, want: entry.ErrMissingField},
		{name: "Delegation without path", edit: func(m jsonObj) { delete(delegation(m), "path") }, want: entry.ErrMissingField},
		{name: "Delegation without hint", edit: func(m jsonObj) { delete(delegation(m), "hint") }, want: entry.ErrMissingField},
		{name: "delegation step without tips", edit: func(m jsonObj) {
			delete(obj(delegation(m)["path"].([]any)[0]), "tips")
		}, want: entry.ErrMissingField},
		{name: "delegation step without tree", edit: func(m jsonObj) {
			delete(obj(delegation(m)["path"].([]any)[0]), "tree")
		}, want: entry.ErrMissingField},
		{name: "null document", raw: func(*testing.T, []byte) []byte { return []byte("null") }, want: entry.ErrMalformed},
		{name: "empty document", raw: func(*testing.T, []byte) []byte { return nil }, want: entry.ErrMalformed},

		// SigKey shape.
		{name: "both Direct and Delegation", edit: func(m jsonObj) {
			sigKey(m)["Delegation"] = jsonObj{"path": []any{}, "hint": jsonObj{"name": "k"}}
		}, want: entry.ErrMalformedSig},
		{name: "SigKey without a variant", edit: func(m jsonObj) { obj(m["sig"])["key"] = jsonObj{} }, want: entry.ErrMalformedSig},
		{name: "SigKey as a unit variant string", edit: func(m jsonObj) { obj(m["sig"])["key"] = "Direct" }, want: entry.ErrMalformed},
		{name: "empty sig", edit: func(m jsonObj) { obj(m["sig"])["sig"] = "" }, want: entry.ErrMalformedSig},
		{name: "empty hint name", edit: func(m jsonObj) { hint(m)["name"] = "" }, want: entry.ErrMalformedSig},
		{name: "hint pubkey unpadded", edit: func(m jsonObj) {
			hint(m)["pubkey"] = strings.TrimSuffix(hint(m)["pubkey"].(string), "=")
		}, want: entry.ErrBadKey},
		{name: "hint pubkey as a number", edit: func(m jsonObj) { hint(m)["pubkey"] = 1 }, want: entry.ErrBadKey},

		// Versions, numbers, IDs and section 1.1 rules.
		{name: `"_v":1`, edit: func(m jsonObj) { m["_v"] = 1 }, want: entry.ErrUnsupportedVersion},
		{name: `"_v":256`, edit: func(m jsonObj) { m["_v"] = 256 }, want: entry.ErrMalformed},
		{name: "negative height", edit: func(m jsonObj) { tree(m)["h"] = -1 }, want: entry.ErrMalformed},
		{name: "fractional height", edit: func(m jsonObj) { tree(m)["h"] = 1.5 }, want: entry.ErrMalformed},
		{name: "height as a string", edit: func(m jsonObj) { tree(m)["h"] = "1" }, want: entry.ErrMalformed},
		{name: "empty tree.root", edit: func(m jsonObj) { tree(m)["root"] = "" }, want: entry.ErrBadID},
		{name: "null tree.root", edit: func(m jsonObj) { tree(m)["root"] = nil }, want: entry.ErrBadID},
		{name: "upper-case tree.root", edit: func(m jsonObj) { tree(m)["root"] = strings.ToUpper(edgeRoot.String()) }, want: entry.ErrBadID},
		{name: "garbage parent", edit: func(m jsonObj) { tree(m)["parents"] = []any{"not an id"} }, want: entry.ErrBadID},
		{name: "empty parent ID", edit: func(m jsonObj) { tree(m)["parents"] = []any{""} }, want: entry.ErrEmptyParentID},
		{name: "empty store parent ID", edit: func(m jsonObj) { store(m, 1)["parents"] = []any{""} }, want: entry.ErrEmptyParentID},
		{name: "no parents", edit: func(m jsonObj) { tree(m)["parents"] = []any{} }, want: entry.ErrMissingParents},
		{name: "empty store name", edit: func(m jsonObj) { store(m, 0)["name"] = "" }, want: entry.ErrEmptyStoreName},
		{name: "_root store with parents", edit: func(m jsonObj) {
			m["subtrees"] = append(m["subtrees"].([]any), jsonObj{"name": entry.StoreRoot, "parents": []any{}, "data": []any{}})
		}, want: entry.ErrRootWithParents},

		// Framing.
		{name: "trailing garbage", raw: func(_ *testing.T, js []byte) []byte { return append(js, 'x') }, want: entry.ErrMalformed},
		{name: "two documents", raw: func(_ *testing.T, js []byte) []byte { return append(js, js...) }, want: entry.ErrMalformed},
		{name: "truncated", raw: func(_ *testing.T, js []byte) []byte { return js[:len(js)-1] }, want: entry.ErrMalformed},
	}
	_, base, baseID := jsonBase(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var js []byte
			if tt.raw != nil {
				js = tt.raw(t, base)
			} else {
				js = editJSON(t, base, tt.edit)
			}
			e, id, err := entry.DecodeJSON(js)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("DecodeJSON(%s): %v", js, err)
				}
				if id != baseID {
					t.Fatalf("DecodeJSON(%s) ID %s, want the base's %s", js, id, baseID)
				}
				if again, err := entry.EncodeJSON(e); err != nil || !bytes.Equal(again, base) {
					t.Fatalf("re-encoded JSON %s, want the base %s", again, base)
				}
				return
			}
			if e != nil {
				t.Error("an entry was returned with an error")
			}
			if tt.want == errUnknownField {
				if !errors.Is(err, entry.ErrMalformed) || err == nil || !strings.Contains(err.Error(), "unknown field") {
					t.Fatalf("DecodeJSON(%s) = %v, want an unknown-field ErrMalformed", js, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("DecodeJSON(%s) = %v, want %v (and ErrMalformed)", js, err, tt.want)
			}
		})
	}
}

// errUnknownField marks cases refused as an unknown field, which has no
// sentinel of its own: the error must wrap ErrMalformed and say so.
var errUnknownField = errors.New("unknown field")

// TestEdgeDecodeJSONStoreHeightZeroKept checks that "h":0 in a store is not a
// default: it is kept and changes the ID (PROTOCOL.md 1.1).
func TestEdgeDecodeJSONStoreHeightZeroKept(t *testing.T) {
	_, base, baseID := jsonBase(t)
	for _, edit := range []struct {
		name string
		f    func(m jsonObj)
	}{
		{`store "h":0`, func(m jsonObj) { store(m, 0)["h"] = 0 }},
		{`store "data":[]`, func(m jsonObj) { store(m, 0)["data"] = []any{} }},
		{`tree "metadata":[]`, func(m jsonObj) { tree(m)["metadata"] = []any{} }},
	} {
		t.Run(edit.name, func(t *testing.T) {
			js := editJSON(t, base, edit.f)
			e, id, err := entry.DecodeJSON(js)
			if err != nil {
				t.Fatal(err)
			}
			if id == baseID {
				t.Fatalf("%s was dropped: same ID as the base", edit.name)
			}
			data, err := entry.EncodeCBOR(e)
			if err != nil {
				t.Fatal(err)
			}
			if _, cborID, err := entry.DecodeCBOR(data); err != nil || cborID != id {
				t.Fatalf("CBOR round trip: %v, %s want %s", err, cborID, id)
			}
		})
	}
}

func TestEdgeBytesUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want entry.Bytes // nil with ok: null
		ok   bool
	}{
		{"null", "null", nil, true},
		{"empty", "[]", entry.Bytes{}, true},
		{"spaces", " [ 0 , 255 ] ", entry.Bytes{0, 255}, true},
		{"256", "[256]", nil, false},
		{"-1", "[-1]", nil, false},
		{"1.0", "[1.0]", nil, false},
		{"1e2", "[1e2]", nil, false},
		{"01", "[01]", nil, false},
		{"00", "[00]", nil, false},
		{"+1", "[+1]", nil, false},
		{"base64 string", `"AAE="`, nil, false},
		{"trailing comma", "[1,]", nil, false},
		{"missing bracket", "[1", nil, false},
		{"trailing data", "[1]x", nil, false},
		{"empty input", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b entry.Bytes
			err := b.UnmarshalJSON([]byte(tt.in))
			if !tt.ok {
				if !errors.Is(err, entry.ErrBadBytes) || !errors.Is(err, entry.ErrMalformed) {
					t.Fatalf("UnmarshalJSON(%s) = %v, want ErrBadBytes", tt.in, err)
				}
				return
			}
			if err != nil || !bytes.Equal(b, tt.want) || (b == nil) != (tt.want == nil) {
				t.Fatalf("UnmarshalJSON(%s) = %v, %#v; want %#v", tt.in, err, b, tt.want)
			}
		})
	}
}

// lastCharBumped changes the last character before any padding to the next
// one in alphabet, which sets a pad bit when the original's were zero.
func lastCharBumped(s, alphabet string) string {
	trimmed := strings.TrimRight(s, "=")
	last := strings.IndexByte(alphabet, trimmed[len(trimmed)-1])
	return trimmed[:len(trimmed)-1] + string(alphabet[last+1]) + s[len(trimmed):]
}

const (
	b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"
)

func TestEdgeParsePublicKey(t *testing.T) {
	pub := entry.NewPrivateKey([32]byte{4}).Public()
	good := pub.String()
	enc := strings.TrimPrefix(good, "ed25519:")
	if len(enc) != 44 || !strings.HasSuffix(enc, "=") || strings.HasSuffix(enc, "==") {
		t.Fatalf("unexpected key text %s", good)
	}
	got, err := entry.ParsePublicKey(good)
	if err != nil || got != pub {
		t.Fatalf("ParsePublicKey(%s) = %v, %v", good, got, err)
	}
	tests := []struct{ name, in string }{
		{"unpadded", "ed25519:" + strings.TrimSuffix(enc, "=")},
		{"non-canonical pad bits", "ed25519:" + lastCharBumped(enc, b64Alphabet)},
		{"URL alphabet", "ed25519:" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)))},
		{"31 bytes", "ed25519:" + base64.StdEncoding.EncodeToString(pub[:31])},
		{"33 bytes", "ed25519:" + base64.StdEncoding.EncodeToString(append(pub[:], 1))},
		{"64 bytes", "ed25519:" + base64.StdEncoding.EncodeToString(append(pub[:], pub[:]...))},
		{"missing prefix", enc},
		{"other prefix", "ed448:" + enc},
		{"upper-case prefix", "ED25519:" + enc},
		{"all-zero key", "ed25519:" + base64.StdEncoding.EncodeToString(make([]byte, 32))},
		{"empty", ""},
		{"prefix only", "ed25519:"},
		{"newline inside", "ed25519:" + enc[:20] + "\n" + enc[20:43]},
		{"space inside", "ed25519:" + enc[:20] + " " + enc[20:43]},
		{"trailing newline", good + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := entry.ParsePublicKey(tt.in)
			if !errors.Is(err, entry.ErrBadKey) || !errors.Is(err, entry.ErrMalformed) || !k.IsZero() {
				t.Fatalf("ParsePublicKey(%q) = %v, %v; want ErrBadKey", tt.in, k, err)
			}
		})
	}
}

func TestEdgeParsePrivateKey(t *testing.T) {
	key := entry.NewPrivateKey([32]byte{5})
	good := key.String()
	got, err := entry.ParsePrivateKey(good)
	if err != nil || got.Public() != key.Public() {
		t.Fatalf("ParsePrivateKey round trip: %v", err)
	}
	enc := strings.TrimPrefix(good, "ed25519:")
	for _, tt := range []struct{ name, in string }{
		{"unpadded", "ed25519:" + strings.TrimSuffix(enc, "=")},
		{"non-canonical pad bits", "ed25519:" + lastCharBumped(enc, b64Alphabet)},
		{"missing prefix", enc},
		{"64-byte expanded key", "ed25519:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 64))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := entry.ParsePrivateKey(tt.in); !errors.Is(err, entry.ErrBadKey) {
				t.Fatalf("ParsePrivateKey(%q) = %v, want ErrBadKey", tt.in, err)
			}
		})
	}
}

func TestEdgeParseID(t *testing.T) {
	id := entry.IDOf([]byte("parse me"))
	good := id.String()
	if !strings.HasPrefix(good, "bafyr4i") {
		t.Fatalf("ID %s lacks the bafyr4i prefix", good)
	}
	if got, err := entry.ParseID(good); err != nil || got != id {
		t.Fatalf("ParseID(%s) = %v, %v", good, got, err)
	}
	if got, err := entry.ParseID(""); err != nil || !got.IsZero() {
		t.Fatalf(`ParseID("") = %v, %v; want the empty ID`, got, err)
	}
	b32 := func(b []byte) string {
		return "b" + base32.NewEncoding(b32Alphabet).WithPadding(base32.NoPadding).EncodeToString(b)
	}
	cidV0 := append([]byte{0x12, 0x20}, make([]byte, 32)...)
	tests := []struct{ name, in string }{
		{"upper case", strings.ToUpper(good)},
		{"upper-case tail", "b" + strings.ToUpper(good[1:])},
		{"upper-case multibase B", "B" + strings.ToUpper(good[1:])},
		{"base58btc", "zdj7WhuEjrB52m1BisYCtmjH1hSKa7yZ3jEZ9JcXaFRD51wVz"},
		{"CIDv0", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"},
		{"non-canonical base32 pad bits", lastCharBumped(good, b32Alphabet)},
		{"padded base32", good + "======"},
		{"newline inside", good[:10] + "\n" + good[10:]},
		{"leading space", " " + good},
		{"multibase only", "b"},
		{"garbage", "hello"},
		{"not base32", "b!!!!!!!!"},
		{"truncated", good[:len(good)-4]},
		{"CID version 0 in base32", b32(append([]byte{0, 0x71}, cidV0...))},
		{"CID version 2", b32(append([]byte{2, 0x71, 0x1e, 0x20}, make([]byte, 32)...))},
		{"too long", "b" + strings.Repeat("a", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entry.ParseID(tt.in)
			if !errors.Is(err, entry.ErrBadID) || !errors.Is(err, entry.ErrMalformed) || !got.IsZero() {
				t.Fatalf("ParseID(%q) = %v, %v; want ErrBadID", tt.in, got, err)
			}
		})
	}
}

func TestEdgeIDFromBytes(t *testing.T) {
	digest := make([]byte, 32)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"version 0", append([]byte{0, 0x71, 0x1e, 0x20}, digest...)},
		{"non-minimal codec varint", append([]byte{1, 0xf1, 0x00, 0x1e, 0x20}, digest...)},
		{"digest shorter than declared", append([]byte{1, 0x71, 0x1e, 0x20}, digest[:31]...)},
		{"digest longer than declared", append([]byte{1, 0x71, 0x1e, 0x20}, append(digest, 0)...)},
		{"unterminated varint", []byte{1, 0x80}},
		{"over 128 bytes", append([]byte{1, 0x71, 0x1e, 0x7d}, make([]byte, 0x7d)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := entry.IDFromBytes(tt.in); !errors.Is(err, entry.ErrBadID) {
				t.Fatalf("IDFromBytes(%x) = %v, want ErrBadID", tt.in, err)
			}
		})
	}
	raw := append([]byte{1, 0x55, 0x12, 0x20}, digest...)
	id, err := entry.IDFromBytes(raw)
	if err != nil || !bytes.Equal(id.Bytes(), raw) {
		t.Fatalf("raw-codec SHA-256 CID: %v", err)
	}
}

// TestEdgeCompareTupleOrder checks the one case where ID order is not byte
// order: multi-byte varints compare by value (PROTOCOL.md 1.3).
func TestEdgeCompareTupleOrder(t *testing.T) {
	mk := func(raw ...byte) entry.ID {
		id, err := entry.IDFromBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	codec129 := mk(1, 0x81, 0x01, 0x1e, 0x01, 0xaa)
	codec256 := mk(1, 0x80, 0x02, 0x1e, 0x01, 0x00)
	if bytes.Compare(codec129.Bytes(), codec256.Bytes()) <= 0 {
		t.Fatal("test IDs do not disagree in byte order")
	}
	if codec129.Compare(codec256) >= 0 || codec256.Compare(codec129) <= 0 {
		t.Fatal("codec 129 must order before codec 256")
	}
	if got := entry.SortIDs([]entry.ID{codec256, {}, codec129, codec256}); len(got) != 3 || !got[0].IsZero() || got[1] != codec129 || got[2] != codec256 {
		t.Fatalf("SortIDs = %v", got)
	}
}

func TestEdgeCheckSigShape(t *testing.T) {
	key := entry.NewPrivateKey([32]byte{6})
	signed := edgeBase(t)
	signed.Sig.Key = entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}
	if err := entry.Sign(signed, key); err != nil {
		t.Fatal(err)
	}
	goodSig := signed.Sig.Sig
	sig64, _ := base64.StdEncoding.DecodeString(goodSig)
	hinted := entry.SigKey{Hint: entry.KeyHint{Name: "laptop"}}
	with := func(k entry.SigKey, sig string) *entry.Entry {
		e := edgeBase(t)
		e.Sig = entry.SigInfo{Sig: sig, Key: k}
		return e
	}
	tests := []struct {
		name string
		e    *entry.Entry
		want error
	}{
		{"unsigned", edgeBase(t), nil},
		{"signed", signed, nil},
		{"hint without sig", with(hinted, ""), entry.ErrMalformedSig},
		{"global hint without sig", with(entry.SigKey{Hint: entry.KeyHint{Global: true}}, ""), entry.ErrMalformedSig},
		{"sig without hint", with(entry.SigKey{}, goodSig), entry.ErrMalformedSig},
		{"delegation without sig", with(entry.SigKey{Delegated: true, Hint: hinted.Hint}, ""), entry.ErrMalformedSig},
		{"delegation without sig or hint", with(entry.SigKey{Delegated: true}, ""), entry.ErrMalformedSig},
		{"sig of 63 bytes", with(hinted, base64.StdEncoding.EncodeToString(sig64[:63])), entry.ErrMalformedSig},
		{"sig of 65 bytes", with(hinted, base64.StdEncoding.EncodeToString(append(sig64, 0))), entry.ErrMalformedSig},
		{"sig of 0 bytes as ==", with(hinted, "=="), entry.ErrMalformedSig},
		{"sig unpadded", with(hinted, strings.TrimRight(goodSig, "=")), entry.ErrMalformedSig},
		{"sig with non-canonical pad bits", with(hinted, lastCharBumped(goodSig, b64Alphabet)), entry.ErrMalformedSig},
		{"sig in URL alphabet", with(hinted, base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 64))), entry.ErrMalformedSig},
		{"sig not base64", with(hinted, strings.Repeat("!", 88)), entry.ErrMalformedSig},
		{"sig with a newline", with(hinted, goodSig[:40]+"\n"+goodSig[40:]), entry.ErrMalformedSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := entry.CheckSigShape(tt.e)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckSigShape = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, entry.ErrMalformed) {
				t.Fatalf("CheckSigShape = %v, want %v", err, tt.want)
			}
			if err := entry.VerifySignature(tt.e, key.Public()); !errors.Is(err, tt.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
	if !strings.HasSuffix(goodSig, "==") || len(goodSig) != 88 {
		t.Fatalf("unexpected signature text %q", goodSig)
	}
	if err := entry.VerifySignature(signed, key.Public()); err != nil {
		t.Fatalf("VerifySignature of the signed entry: %v", err)
	}
	if err := entry.VerifySignature(edgeBase(t), key.Public()); !errors.Is(err, entry.ErrBadSignature) || errors.Is(err, entry.ErrMalformed) {
		t.Fatalf("VerifySignature of an unsigned entry = %v, want ErrBadSignature", err)
	}
	if err := entry.VerifySignature(signed, entry.PublicKey{}); !errors.Is(err, entry.ErrBadSignature) {
		t.Fatalf("VerifySignature with the zero key = %v, want ErrBadSignature", err)
	}
	if err := entry.Sign(edgeBase(t), key); !errors.Is(err, entry.ErrMalformedSig) {
		t.Fatalf("Sign without a hint = %v, want ErrMalformedSig", err)
	}
}
