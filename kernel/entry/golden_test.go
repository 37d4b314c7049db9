package entry_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

var rewrite = flag.Bool("rewrite", false, "regenerate golden files in testdata/")

const vectorsPath = "testdata/vectors.json"

// vectorFile is the shape of testdata/vectors.json, read also by the
// independent JavaScript cross-check in testdata/crosscheck/.
type vectorFile struct {
	Comment string   `json:"comment"`
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	JSON        string `json:"json"`     // exact v0 JSON text
	CBORHex     string `json:"cbor_hex"` // canonical DAG-CBOR
	ID          string `json:"id"`
	SigningHex  string `json:"signing_hex,omitempty"` // signed entries only
	PublicKey   string `json:"public_key,omitempty"`  // the key that signed
	SameAs      string `json:"same_as,omitempty"`     // another vector with identical bytes
}

// goldenKey derives a fixed test key from a label.
func goldenKey(label string) entry.PrivateKey {
	return entry.NewPrivateKey(sha256.Sum256([]byte("eidsync golden key " + label)))
}

type built struct {
	name, description, sameAs string
	e                         *entry.Entry
	signer                    entry.PrivateKey
}

// goldenEntries builds every vector from the Builder, so the file records
// what the Builder produces.
func goldenEntries(t testing.TB) []built {
	t.Helper()
	must := func(e *entry.Entry, err error) *entry.Entry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	id := func(e *entry.Entry) entry.ID {
		t.Helper()
		id, err := entry.ComputeID(e)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	sign := func(e *entry.Entry, k entry.PrivateKey) *entry.Entry {
		t.Helper()
		if err := entry.Sign(e, k); err != nil {
			t.Fatal(err)
		}
		return e
	}
	keyA, keyB, keyC := goldenKey("A"), goldenKey("B"), goldenKey("C")
	direct := func(h entry.KeyHint) entry.SigKey { return entry.SigKey{Hint: h} }

	root := must(entry.NewRoot(1).Build())
	rootID := id(root)
	settings := must(entry.NewRoot(2).
		Store(entry.StoreNode{Name: entry.StoreSettings, Data: []byte(`{"name":"notes"}`)}).
		SigKey(direct(entry.KeyHint{PubKey: keyA.Public()})).Build())
	sign(settings, keyA)
	settingsID := id(settings)
	left := must(entry.NewBuilder(rootID).Parents(rootID).Height(1).
		Store(entry.StoreNode{Name: "data", Data: []byte("left")}).Build())
	right := must(entry.NewBuilder(rootID).Parents(rootID).Height(1).
		Store(entry.StoreNode{Name: "data", Data: []byte("right")}).Build())
	leftID, rightID := id(left), id(right)
	h0 := uint64(0)

	return []built{
		{name: "root_unsigned", description: "root entry: _root store with empty data, metadata with entropy, unsigned", e: root},
		{name: "root_settings_signed", description: "root entry with a _settings store, signed under a Direct pubkey hint", e: settings, signer: keyA},
		{name: "child_left", description: "child of root_unsigned, height 1, store data 'left'", e: left},
		{name: "child_right", description: "child of root_unsigned, height 1, store data 'right'", e: right},
		{name: "merge_parents_given_lr", description: "merge with parents given as (left, right)", e: must(entry.NewBuilder(rootID).Parents(leftID, rightID).Height(2).Build())},
		{name: "merge_parents_given_rl", description: "merge with parents given as (right, left): same bytes and ID", sameAs: "merge_parents_given_lr",
			e: must(entry.NewBuilder(rootID).Parents(rightID, leftID).Height(2).Build())},
		{name: "merge_parents_duplicated", description: "parents given as (right, left, right, left): deduplicated", sameAs: "merge_parents_given_lr",
			e: must(entry.NewBuilder(rootID).Parents(rightID, leftID, rightID, leftID).Height(2).Build())},
		{name: "stores_empty_vs_absent_data", description: "stores given as (c, a, b): a has no data, b has empty data, c has data; sorted by name",
			e: must(entry.NewBuilder(rootID).Parents(leftID).Height(2).
				Store(entry.StoreNode{Name: "c", Data: []byte{0, 1, 255}}).
				Store(entry.StoreNode{Name: "a"}).
				Store(entry.StoreNode{Name: "b", Data: []byte{}}).Build())},
		{name: "store_height_absent", description: "store with h absent (inherits the tree height)",
			e: must(entry.NewBuilder(rootID).Parents(rightID).Height(2).Store(entry.StoreNode{Name: "log", Parents: []entry.ID{rightID}}).Build())},
		{name: "store_height_zero", description: "store with h = 0, which is written and differs from absent",
			e: must(entry.NewBuilder(rootID).Parents(rightID).Height(2).Store(entry.StoreNode{Name: "log", Parents: []entry.ID{rightID}, Height: &h0}).Build())},
		{name: "tree_height_zero", description: "non-root entry with tree h = 0: h is omitted",
			e: must(entry.NewBuilder(rootID).Parents(rootID).Store(entry.StoreNode{Name: "data", Data: []byte("h0")}).Build())},
		{name: "tree_height_large", description: "tree h = 2^40 needs a 9-byte CBOR integer",
			e: must(entry.NewBuilder(rootID).Parents(rootID).Height(1 << 40).Store(entry.StoreNode{Name: "data", Data: []byte("h40")}).Build())},
		{name: "store_parents_sorted", description: "store parents given as (right, left, right): sorted and deduplicated",
			e: must(entry.NewBuilder(rootID).Parents(leftID, rightID).Height(2).
				Store(entry.StoreNode{Name: "data", Parents: []entry.ID{rightID, leftID, rightID}, Data: []byte("merge")}).Build())},
		{name: "metadata_settings_tips", description: "metadata JSON pinning two settings tips, entropy null",
			e: must(entry.NewBuilder(rootID).Parents(leftID).Height(2).
				Metadata(entry.Metadata{SettingsTips: []entry.ID{settingsID, rootID}}.Encode()).Build())},
		{name: "sig_direct_pubkey", description: "signed under Direct{hint:{pubkey}}", signer: keyA,
			e: sign(must(entry.NewBuilder(settingsID).Parents(settingsID).Height(1).SigKey(direct(entry.KeyHint{PubKey: keyA.Public()})).
				Store(entry.StoreNode{Name: "data", Data: []byte("by A")}).Build()), keyA)},
		{name: "sig_direct_name", description: "signed under Direct{hint:{name}}; the name needs no JSON escaping beyond serde's", signer: keyB,
			e: sign(must(entry.NewBuilder(settingsID).Parents(settingsID).Height(1).SigKey(direct(entry.KeyHint{Name: "laptop <B> & co"})).
				Store(entry.StoreNode{Name: "données", Data: []byte("by B")}).Build()), keyB)},
		{name: "sig_direct_global", description: "signed under the * grant: Direct{hint:{pubkey, is_global:true}}", signer: keyC,
			e: sign(must(entry.NewBuilder(settingsID).Parents(settingsID).Height(1).SigKey(direct(entry.KeyHint{PubKey: keyC.Public(), Global: true})).
				Store(entry.StoreNode{Name: "data", Data: []byte("by C")}).Build()), keyC)},
		{name: "sig_delegation", description: "signed under Delegation{path:[two steps], hint:{pubkey}}", signer: keyB,
			e: sign(must(entry.NewBuilder(settingsID).Parents(settingsID).Height(1).SigKey(entry.SigKey{Delegated: true,
				Path: []entry.DelegationStep{{Tree: rootID, Tips: []entry.ID{leftID, rightID}}, {Tree: settingsID, Tips: []entry.ID{settingsID}}},
				Hint: entry.KeyHint{PubKey: keyB.Public()}}).
				Store(entry.StoreNode{Name: "data", Data: []byte("delegated")}).Build()), keyB)},
	}
}

func makeVector(t testing.TB, b built) vector {
	t.Helper()
	data, id, err := entry.Encode(b.e)
	if err != nil {
		t.Fatal(err)
	}
	js, err := entry.EncodeJSON(b.e)
	if err != nil {
		t.Fatal(err)
	}
	v := vector{Name: b.name, Description: b.description, JSON: string(js), CBORHex: hex.EncodeToString(data), ID: id.String(), SameAs: b.sameAs}
	if b.e.Sig.Sig != "" {
		msg, err := entry.SigningBytes(b.e)
		if err != nil {
			t.Fatal(err)
		}
		v.SigningHex, v.PublicKey = hex.EncodeToString(msg), b.signer.Public().String()
	}
	return v
}

func TestGoldenVectors(t *testing.T) {
	file := vectorFile{Comment: "Entry vectors: v0 JSON, canonical DAG-CBOR and ID. Generated by go test ./kernel/entry -rewrite; " +
		"cross-checked by testdata/crosscheck (make crosscheck) with the IPLD JavaScript libraries."}
	for _, b := range goldenEntries(t) {
		file.Vectors = append(file.Vectors, makeVector(t, b))
	}
	got, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *rewrite {
		if err := os.WriteFile(filepath.FromSlash(vectorsPath), got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(filepath.FromSlash(vectorsPath))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale or the encoding changed; run go test ./kernel/entry -rewrite and review the diff", vectorsPath)
	}
	if len(file.Vectors) < 12 {
		t.Fatalf("only %d vectors", len(file.Vectors))
	}
}

// TestGoldenVectorsDecode reads the committed vectors through the decoders:
// CBOR and JSON give the same entry and ID, and signatures verify.
func TestGoldenVectorsDecode(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(vectorsPath))
	if err != nil {
		t.Fatal(err)
	}
	var file vectorFile
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	byName := map[string]vector{}
	for _, v := range file.Vectors {
		byName[v.Name] = v
	}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			data, err := hex.DecodeString(v.CBORHex)
			if err != nil {
				t.Fatal(err)
			}
			fromCBOR, idCBOR, err := entry.DecodeCBOR(data)
			if err != nil {
				t.Fatalf("DecodeCBOR: %v", err)
			}
			fromJSON, idJSON, err := entry.DecodeJSON([]byte(v.JSON))
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if idCBOR.String() != v.ID || idJSON != idCBOR {
				t.Fatalf("IDs: cbor %s json %s, want %s", idCBOR, idJSON, v.ID)
			}
			if !bytes.HasPrefix([]byte(v.ID), []byte("bafyr4i")) {
				t.Fatalf("ID %s lacks the bafyr4i prefix", v.ID)
			}
			js, err := entry.EncodeJSON(fromCBOR)
			if err != nil || string(js) != v.JSON {
				t.Fatalf("JSON of the CBOR-decoded entry differs:\n got %s\nwant %s", js, v.JSON)
			}
			if again, _ := entry.EncodeCBOR(fromJSON); !bytes.Equal(again, data) {
				t.Fatal("CBOR of the JSON-decoded entry differs")
			}
			if v.SameAs != "" && (byName[v.SameAs].CBORHex != v.CBORHex || byName[v.SameAs].ID != v.ID) {
				t.Fatalf("differs from %s", v.SameAs)
			}
			if v.PublicKey == "" {
				return
			}
			pub, err := entry.ParsePublicKey(v.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if err := entry.VerifySignature(fromCBOR, pub); err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			msg, _ := entry.SigningBytes(fromCBOR)
			if hex.EncodeToString(msg) != v.SigningHex {
				t.Fatal("signing bytes differ")
			}
		})
	}
}
