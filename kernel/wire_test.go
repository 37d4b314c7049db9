package kernel

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Fixtures are written by hand from PROTOCOL.md 2.1 and 2.2; entries inside
// them are the golden vectors of kernel/entry.

const (
	wireKeyA  = "ed25519:sB2i0qJzLHuXZHl5UlTlld60ZPiNuuhnlumxg3FK6fU="
	wireKeyB  = "ed25519:5agUe84psnTMzC30yUfDLtRqLrWhKPYYx312vlPqD1Y="
	wireRoot  = "bafyr4idgewj3peojl76vddjb5awkxktgtsrak5t45zruu6h6npbs73mmbm"
	wireLeft  = "bafyr4ifw3xvsuenvnyk5kkhqajh4zs3kjlanrlkfvajl43b6ao3wppnz24"
	wireRight = "bafyr4ibxy6gjjgnctc6w4jk2wugvv7peh7hrdaiwhpkjdcqwtgr6aakj5a"
	wireOther = "bafyr4igovmdy5s4docdweeexjvan3cyqhtlb3uq2gfieiehn2w7e5myzqe"
)

// wireVectors returns the golden entries' v0 JSON by vector name.
func wireVectors(t testing.TB) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("entry/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct{ Name, JSON string }
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for _, v := range file.Vectors {
		out[v.Name] = v.JSON
	}
	return out
}

func wireKey(t testing.TB, s string) entry.PublicKey {
	t.Helper()
	k, err := entry.ParsePublicKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wireBlob is the Blob a decoder must produce for a golden entry: every
// golden vector is validly signed or unsigned, so it is verified.
func wireBlob(t testing.TB, vecs map[string]string, name string) Blob {
	t.Helper()
	e, id, err := entry.DecodeJSON([]byte(vecs[name]))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	data, err := entry.EncodeCBOR(e)
	if err != nil {
		t.Fatal(err)
	}
	return Blob{ID: id, Data: data, Entry: e, verified: true}
}

func wirePtr[T any](v T) *T { return &v }

type wireFixture struct {
	name    string
	request bool
	version uint32 // encode at this version; a request implies it
	msg     Message
	json    string
}

func wireFixtures(t testing.TB) []wireFixture {
	vecs := wireVectors(t)
	ka, kb := wireKey(t, wireKeyA), wireKey(t, wireKeyB)
	root, left, right, other := entry.MustParseID(wireRoot), entry.MustParseID(wireLeft), entry.MustParseID(wireRight), entry.MustParseID(wireOther)
	blob := func(name string) Blob { return wireBlob(t, vecs, name) }
	ent := vecs
	// b64 is an entry as a v1 peer gets it: base64 of its canonical CBOR.
	b64 := func(name string) string {
		return `"` + base64.StdEncoding.EncodeToString(wireBlob(t, vecs, name).Data) + `"`
	}
	return []wireFixture{
		{"handshake", true, 0, Handshake{PublicKey: ka, DisplayName: wirePtr("BackgroundSync"), Challenge: []byte{0, 1, 127, 128, 255},
			ListenAddresses: []Address{{TransportType: "http", Address: "127.0.0.1:8080"}}},
			`{"Handshake":{"device_id":"` + wireKeyA + `","public_key":"` + wireKeyA + `","display_name":"BackgroundSync","protocol_version":0,"challenge":[0,1,127,128,255],"listen_addresses":[{"transport_type":"http","address":"127.0.0.1:8080"}]}}`},
		{"handshake_minimal_v1", true, 1, Handshake{PublicKey: kb, ProtocolVersion: 1},
			`{"Handshake":{"device_id":"` + wireKeyB + `","public_key":"` + wireKeyB + `","display_name":null,"protocol_version":1,"challenge":[],"listen_addresses":[]}}`},
		{"sync_tree_full", true, 0, SyncTree{TreeID: root, OurTips: []entry.ID{left, right}, PeerPubkey: kb, RequestingKey: ka,
			RequestingKeyName: wirePtr("laptop"), RequestedPermission: &Permission{Level: PermWrite, Priority: 10},
			Metadata: []byte(`{"children":{"k":{"Text":"v"}}}`),
			Auth:     &RequestAuth{Key: kb, TimestampMs: 1700000000000, Nonce: []byte{17, 4}, Signature: []byte{88, 0, 255}}},
			`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":["` + wireLeft + `","` + wireRight + `"],"peer_pubkey":"` + wireKeyB +
				`","requesting_key":"` + wireKeyA + `","requesting_key_name":"laptop","requested_permission":{"Write":10},"metadata":{"children":{"k":{"Text":"v"}}},"auth":{"key":"` +
				wireKeyB + `","timestamp_ms":1700000000000,"nonce":[17,4],"signature":[88,0,255]}}}`},
		{"sync_tree_bootstrap", true, 0, SyncTree{TreeID: root},
			`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[],"peer_pubkey":null,"requesting_key":null,"requesting_key_name":null,"requested_permission":null,"metadata":null,"auth":null}}`},
		{"sync_tree_read", true, 0, SyncTree{TreeID: root, RequestedPermission: &Permission{Level: PermRead}},
			`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[],"peer_pubkey":null,"requesting_key":null,"requesting_key_name":null,"requested_permission":"Read","metadata":null,"auth":null}}`},
		{"sync_tree_admin", true, 0, SyncTree{TreeID: root, RequestedPermission: &Permission{Level: PermAdmin}},
			`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[],"peer_pubkey":null,"requesting_key":null,"requesting_key_name":null,"requested_permission":{"Admin":0},"metadata":null,"auth":null}}`},
		{"sync_tree_v1", true, 1, SyncTree{TreeID: root, OurTips: []entry.ID{left}, Have: []entry.ID{right, other}, Resume: wirePtr(uint64(7))},
			`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":["` + wireLeft + `"],"peer_pubkey":null,"have":["` +
				wireRight + `","` + wireOther + `"],"resume":7}}`},
		{"send_entries", true, 0, SendEntries{Entries: []Blob{blob("root_unsigned"), blob("sig_direct_pubkey"), blob("sig_delegation")}},
			`{"SendEntries":[` + ent["root_unsigned"] + `,` + ent["sig_direct_pubkey"] + `,` + ent["sig_delegation"] + `]}`},
		{"send_entries_empty", true, 0, SendEntries{}, `{"SendEntries":[]}`},
		{"get_entries", true, 1, GetEntries{TreeID: root, IDs: []entry.ID{left, right}},
			`{"GetEntries":{"tree_id":"` + wireRoot + `","ids":["` + wireLeft + `","` + wireRight + `"]}}`},

		{"handshake_response", false, 0, HandshakeResponse{PublicKey: ka, DisplayName: wirePtr("Eidetica Peer"), ChallengeResponse: []byte{1, 2},
			NewChallenge: []byte{3}, AvailableTrees: []TreeInfo{{TreeID: root, EntryCount: 3}, {TreeID: other, Name: wirePtr("notes"), EntryCount: 1, LastModified: 1700000000000}}},
			`{"Handshake":{"device_id":"` + wireKeyA + `","public_key":"` + wireKeyA + `","display_name":"Eidetica Peer","protocol_version":0,"challenge_response":[1,2],"new_challenge":[3],"available_trees":[{"tree_id":"` +
				wireRoot + `","name":null,"entry_count":3,"last_modified":0},{"tree_id":"` + wireOther + `","name":"notes","entry_count":1,"last_modified":1700000000000}]}}`},
		{"bootstrap", false, 0, BootstrapResponse{TreeID: root, RootEntry: blob("root_unsigned"), AllEntries: []Blob{blob("child_left"), blob("child_right")},
			KeyApproved: true, GrantedPermission: &Permission{Level: PermWrite, Priority: 10}},
			`{"Bootstrap":{"tree_id":"` + wireRoot + `","root_entry":` + ent["root_unsigned"] + `,"all_entries":[` + ent["child_left"] + `,` + ent["child_right"] +
				`],"key_approved":true,"granted_permission":{"Write":10}}}`},
		{"bootstrap_minimal", false, 0, BootstrapResponse{TreeID: root, RootEntry: blob("root_settings_signed")},
			`{"Bootstrap":{"tree_id":"` + wireRoot + `","root_entry":` + ent["root_settings_signed"] + `,"all_entries":[],"key_approved":false,"granted_permission":null}}`},
		{"bootstrap_v1", false, 1, BootstrapResponse{TreeID: root, RootEntry: blob("root_unsigned"), AllEntries: []Blob{blob("child_left")},
			Continuation: Continuation{More: true, Resume: wirePtr(uint64(42))}},
			`{"Bootstrap":{"tree_id":"` + wireRoot + `","root_entry":` + b64("root_unsigned") + `,"all_entries":[` + b64("child_left") + `],"key_approved":false,"granted_permission":null,"more":true,"resume":42}}`},
		{"incremental", false, 0, IncrementalResponse{TreeID: root, TheirTips: []entry.ID{left, right}, MissingEntries: []Blob{blob("sig_direct_name")}},
			`{"Incremental":{"tree_id":"` + wireRoot + `","their_tips":["` + wireLeft + `","` + wireRight + `"],"missing_entries":[` + ent["sig_direct_name"] + `]}}`},
		{"incremental_v1", false, 1, IncrementalResponse{TreeID: root, Continuation: Continuation{More: true}},
			`{"Incremental":{"tree_id":"` + wireRoot + `","their_tips":[],"missing_entries":[],"more":true}}`},
		{"bootstrap_pending", false, 0, BootstrapPending{RequestID: "6f1c2f4e-0d1b-4a8e-9b7a-2c3d4e5f6a7b", Message: "Bootstrap request pending manual approval"},
			`{"BootstrapPending":{"request_id":"6f1c2f4e-0d1b-4a8e-9b7a-2c3d4e5f6a7b","message":"Bootstrap request pending manual approval"}}`},
		{"ack", false, 0, Ack{}, `"Ack"`},
		{"count", false, 0, Count{N: 2}, `{"Count":2}`},
		{"count_zero", false, 0, Count{}, `{"Count":0}`},
		{"error", false, 0, ErrorResponse{Message: "Tree not found: " + wireRoot}, `{"Error":"Tree not found: ` + wireRoot + `"}`},
		{"error_escapes", false, 0, ErrorResponse{Message: "a \"q\" \\ \n\t\x01\x1f\b\f\r <&> é \u2028\x7f/"},
			`{"Error":"a \"q\" \\ \n\t\u0001\u001f\b\f\r <&> é ` + "\u2028\x7f" + `/"}`},
		{"entries", false, 1, EntriesResponse{TreeID: root, Entries: []Blob{blob("child_left")}, Missing: []entry.ID{right}},
			`{"Entries":{"tree_id":"` + wireRoot + `","entries":[` + b64("child_left") + `],"missing":["` + wireRight + `"]}}`},
	}
}

func decodeFixture(f wireFixture, data []byte, lim WireLimits) (Message, uint32, error) {
	if f.request {
		return DecodeRequest(data, lim)
	}
	m, err := DecodeResponse(data, lim)
	return m, f.version, err
}

func TestWireFixtures(t *testing.T) {
	lim := DefaultWireLimits()
	for _, f := range wireFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			got, err := EncodeMessage(f.version, f.msg)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if string(got) != f.json {
				t.Fatalf("encode:\n got %s\nwant %s", got, f.json)
			}
			// The same JSON, pretty-printed, decodes to the same message.
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, []byte(f.json), "", "  "); err != nil {
				t.Fatal(err)
			}
			for _, in := range [][]byte{[]byte(f.json), pretty.Bytes()} {
				m, v, err := decodeFixture(f, in, lim)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !reflect.DeepEqual(m, f.msg) {
					t.Fatalf("decode:\n got %#v\nwant %#v", m, f.msg)
				}
				if v != f.version {
					t.Fatalf("decode: implied version %d, want %d", v, f.version)
				}
			}
		})
	}
}

// TestWireV1Members checks that v1 members are never written at version 0:
// a message without them encodes the same at both versions (except SyncTree,
// which at v1 always carries "have" as its version mark and drops null
// options), one with them is refused at version 0 with ErrNotV0.
func TestWireV1Members(t *testing.T) {
	for _, f := range wireFixtures(t) {
		v0, err0 := EncodeMessage(0, f.msg)
		v1, err1 := EncodeMessage(1, f.msg)
		if err1 != nil {
			t.Fatalf("%s: encode at v1: %v", f.name, err1)
		}
		if f.version == 0 {
			if err0 != nil || !bytes.Equal(v0, v1) && !v1Differs(f.msg) {
				t.Errorf("%s: v0 message differs at v1 or fails at v0: %v\n%s\n%s", f.name, err0, v0, v1)
			}
			for _, member := range []string{`"have"`, `"resume"`, `"more"`, `"GetEntries"`, `"Entries"`} {
				if bytes.Contains(v0, []byte(member)) {
					t.Errorf("%s: v0 encoding holds %s", f.name, member)
				}
			}
			continue
		}
		if f.name == "handshake_minimal_v1" {
			continue // a v1 Handshake has no v1 member
		}
		if !errors.Is(err0, ErrNotV0) {
			t.Errorf("%s: encode at v0: %v, want ErrNotV0", f.name, err0)
		}
	}
	root := entry.MustParseID(wireRoot)
	for name, m := range map[string]Message{
		"have":              SyncTree{TreeID: root, Have: []entry.ID{root}},
		"resume":            SyncTree{TreeID: root, Resume: wirePtr(uint64(0))},
		"bootstrap_resume":  BootstrapResponse{TreeID: root, Continuation: Continuation{Resume: wirePtr(uint64(1))}},
		"incremental_more":  IncrementalResponse{TreeID: root, Continuation: Continuation{More: true}},
		"get_entries_empty": GetEntries{TreeID: root},
		"entries_empty":     EntriesResponse{TreeID: root},
	} {
		if _, err := EncodeMessage(0, m); !errors.Is(err, ErrNotV0) {
			t.Errorf("%s: encode at v0: %v, want ErrNotV0", name, err)
		}
	}
	// An empty have-set is no v1 member.
	if _, err := EncodeMessage(0, SyncTree{TreeID: root, Have: []entry.ID{}}); err != nil {
		t.Errorf("empty have at v0: %v", err)
	}
}

func TestWireAckCountErrorRoundTrip(t *testing.T) {
	for _, m := range []Message{Ack{}, Count{}, Count{N: 1<<64 - 1}, ErrorResponse{}, ErrorResponse{Message: "Protocol version mismatch: expected 0, got 1"}} {
		data, err := EncodeMessage(0, m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResponse(data, DefaultWireLimits())
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: got %#v, %v", data, got, err)
		}
	}
	if m, err := DecodeResponse([]byte(` {"Ack":null} `), DefaultWireLimits()); err != nil || m != (Ack{}) {
		t.Errorf(`{"Ack":null}: %v, %v`, m, err)
	}
}

// wireCase is a decode that must fail with want, and a message naming the
// field (when field is not empty).
type wireCase struct {
	name    string
	request bool
	input   string
	want    error
	field   string
}

func TestWireDecodeErrors(t *testing.T) {
	vecs := wireVectors(t)
	tips := func(n int) string { return strings.TrimSuffix(strings.Repeat(`"`+wireLeft+`",`, n), ",") }
	syncTree := func(members string) string {
		return `{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[]` + members + `}}`
	}
	hs := `"device_id":"` + wireKeyA + `","public_key":"` + wireKeyA + `","display_name":null,"protocol_version":0`
	bytes65 := strings.TrimSuffix(strings.Repeat("1,", 65), ",")
	cases := []wireCase{
		{"oversize", true, syncTree(`,"pad":"` + strings.Repeat("x", 2_000_000) + `"`), ErrMessageTooLarge, ""},
		{"too_many_entries", true, `{"SendEntries":[` + vecs["child_left"] + `,` + vecs["child_right"] + `,` + vecs["child_left"] + `]}`, ErrMessageTooLarge, "SendEntries"},
		{"too_many_tips", true, `{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[` + tips(3) + `]}}`, ErrMessageTooLarge, "SyncTree.our_tips"},
		{"too_many_have", true, syncTree(`,"have":[` + tips(3) + `]`), ErrMessageTooLarge, "SyncTree.have"},
		{"too_many_missing", false, `{"Entries":{"tree_id":"` + wireRoot + `","entries":[],"missing":[` + tips(3) + `]}}`, ErrMessageTooLarge, "Entries.missing"},
		{"challenge_too_long", true, `{"Handshake":{` + hs + `,"challenge":[` + bytes65 + `],"listen_addresses":[]}}`, ErrMessageTooLarge, "Handshake.challenge"},
		{"signature_too_long", true, syncTree(`,"auth":{"key":"` + wireKeyA + `","timestamp_ms":1,"nonce":[],"signature":[` + bytes65 + `]}`), ErrMessageTooLarge, "SyncTree.auth.signature"},
		{"metadata_too_long", true, syncTree(`,"metadata":{"children":"` + strings.Repeat("x", 100) + `"}`), ErrMessageTooLarge, "SyncTree.metadata"},

		{"unknown_variant", true, `{"FetchBlobs":{"cids":[]}}`, ErrUnknownVariant, "FetchBlobs"},
		{"unknown_unit_variant", false, `"Nack"`, ErrUnknownVariant, "Nack"},
		{"response_as_request", true, `"Ack"`, ErrUnknownVariant, "Ack"},
		{"request_as_response", false, syncTree(""), ErrUnknownVariant, "SyncTree"},
		{"variant_case", false, `{"count":1}`, ErrUnknownVariant, "count"},

		{"missing_listen_addresses", true, `{"Handshake":{` + hs + `,"challenge":[]}}`, ErrMalformed, "Handshake.listen_addresses: missing"},
		{"missing_challenge", true, `{"Handshake":{` + hs + `,"listen_addresses":[]}}`, ErrMalformed, "Handshake.challenge: missing"},
		{"missing_address", true, `{"Handshake":{` + hs + `,"challenge":[],"listen_addresses":[{"transport_type":"http"}]}}`, ErrMalformed, "Handshake.listen_addresses[0].address: missing"},
		{"missing_tree_id", true, `{"SyncTree":{"our_tips":[]}}`, ErrMalformed, "SyncTree.tree_id: missing"},
		{"tree_id_wrong_case", true, `{"SyncTree":{"Tree_ID":"` + wireRoot + `","our_tips":[]}}`, ErrMalformed, "SyncTree.tree_id: missing"},
		{"missing_our_tips", true, `{"SyncTree":{"tree_id":"` + wireRoot + `"}}`, ErrMalformed, "SyncTree.our_tips: missing"},
		{"null_our_tips", true, `{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":null}}`, ErrMalformed, "SyncTree.our_tips: null"},
		{"missing_nonce", true, syncTree(`,"auth":{"key":"` + wireKeyA + `","timestamp_ms":1,"signature":[]}`), ErrMalformed, "SyncTree.auth.nonce: missing"},
		{"missing_their_tips", false, `{"Incremental":{"tree_id":"` + wireRoot + `","missing_entries":[]}}`, ErrMalformed, "Incremental.their_tips: missing"},
		{"missing_missing_entries", false, `{"Incremental":{"tree_id":"` + wireRoot + `","their_tips":[]}}`, ErrMalformed, "Incremental.missing_entries: missing"},
		{"missing_root_entry", false, `{"Bootstrap":{"tree_id":"` + wireRoot + `","all_entries":[],"key_approved":true}}`, ErrMalformed, "Bootstrap.root_entry: missing"},
		{"missing_all_entries", false, `{"Bootstrap":{"tree_id":"` + wireRoot + `","root_entry":` + vecs["root_unsigned"] + `,"key_approved":true}}`, ErrMalformed, "Bootstrap.all_entries: missing"},
		{"missing_key_approved", false, `{"Bootstrap":{"tree_id":"` + wireRoot + `","root_entry":` + vecs["root_unsigned"] + `,"all_entries":[]}}`, ErrMalformed, "Bootstrap.key_approved: missing"},
		{"missing_message", false, `{"BootstrapPending":{"request_id":"x"}}`, ErrMalformed, "BootstrapPending.message: missing"},
		{"missing_challenge_response", false, `{"Handshake":{` + hs + `,"new_challenge":[],"available_trees":[]}}`, ErrMalformed, "Handshake.challenge_response: missing"},
		{"missing_entry_count", false, `{"Handshake":{` + hs + `,"challenge_response":[],"new_challenge":[],"available_trees":[{"tree_id":"` + wireRoot + `","last_modified":0}]}}`, ErrMalformed, "Handshake.available_trees[0].entry_count: missing"},
		{"missing_ids", true, `{"GetEntries":{"tree_id":"` + wireRoot + `"}}`, ErrMalformed, "GetEntries.ids: missing"},

		{"device_id_differs", true, `{"Handshake":{"device_id":"` + wireKeyB + `","public_key":"` + wireKeyA + `","protocol_version":0,"challenge":[],"listen_addresses":[]}}`, ErrMalformed, "Handshake.device_id: differs"},
		{"device_id_differs_response", false, `{"Handshake":{"device_id":"` + wireKeyB + `","public_key":"` + wireKeyA + `","protocol_version":0,"challenge_response":[],"new_challenge":[],"available_trees":[]}}`, ErrMalformed, "Handshake.device_id: differs"},
		{"challenge_as_string", true, `{"Handshake":{` + hs + `,"challenge":"AQID","listen_addresses":[]}}`, ErrMalformed, "Handshake.challenge"},
		{"nonce_as_string", true, syncTree(`,"auth":{"key":"` + wireKeyA + `","timestamp_ms":1,"nonce":"abc","signature":[]}`), ErrMalformed, "SyncTree.auth.nonce"},
		{"byte_over_255", true, `{"Handshake":{` + hs + `,"challenge":[256],"listen_addresses":[]}}`, ErrMalformed, "Handshake.challenge"},
		{"entry_data_as_string", true, `{"SendEntries":[` + strings.Replace(vecs["root_unsigned"], `"data":[]`, `"data":""`, 1) + `]}`, ErrMalformed, "SendEntries[0]: entry"},
		{"entry_missing_sig", true, `{"SendEntries":[` + vecs["child_left"] + `,{"tree":{"parents":[]},"subtrees":[{"name":"_root","parents":[]}]}]}`, ErrMalformed, "SendEntries[1]: entry"},
		{"entry_unknown_field", false, `{"Incremental":{"tree_id":"` + wireRoot + `","their_tips":[],"missing_entries":[` + strings.Replace(vecs["child_left"], `{"tree":`, `{"extra":1,"tree":`, 1) + `]}}`, ErrMalformed, "Incremental.missing_entries[0]: entry"},
		{"entry_not_object", true, `{"SendEntries":[1]}`, ErrMalformed, "SendEntries[0]"},
		{"send_entries_null", true, `{"SendEntries":null}`, ErrMalformed, "SendEntries"},
		{"send_entries_unit", true, `"SendEntries"`, ErrMalformed, "SendEntries"},
		{"count_unit", false, `"Count"`, ErrMalformed, "Count"},
		{"ack_with_content", false, `{"Ack":1}`, ErrMalformed, "Ack"},
		{"two_variants", false, `{"Count":1,"Ack":null}`, ErrMalformed, ""},
		{"empty_object", false, `{}`, ErrMalformed, ""},
		{"empty_input", false, ``, ErrMalformed, ""},
		{"truncated", true, syncTree("")[:40], ErrMalformed, ""},
		{"trailing_data", false, `{"Count":1} x`, ErrMalformed, "trailing"},
		{"number_top", false, `5`, ErrMalformed, ""},
		{"not_utf8", false, "{\"Error\":\"\xff\"}", ErrMalformed, "UTF-8"},
		{"duplicate_field", true, `{"SyncTree":{"tree_id":"` + wireRoot + `","tree_id":"` + wireLeft + `","our_tips":[]}}`, ErrMalformed, "SyncTree.tree_id: duplicate"},
		{"version_negative", true, `{"Handshake":{"device_id":"` + wireKeyA + `","public_key":"` + wireKeyA + `","protocol_version":-1,"challenge":[],"listen_addresses":[]}}`, ErrMalformed, "Handshake.protocol_version"},
		{"version_fraction", true, `{"Handshake":{"device_id":"` + wireKeyA + `","public_key":"` + wireKeyA + `","protocol_version":1.0,"challenge":[],"listen_addresses":[]}}`, ErrMalformed, "Handshake.protocol_version"},
		{"version_overflow", true, `{"Handshake":{"device_id":"` + wireKeyA + `","public_key":"` + wireKeyA + `","protocol_version":4294967296,"challenge":[],"listen_addresses":[]}}`, ErrMalformed, "Handshake.protocol_version"},
		{"count_negative", false, `{"Count":-1}`, ErrMalformed, "Count"},
		{"count_string", false, `{"Count":"1"}`, ErrMalformed, "Count"},
		{"error_null", false, `{"Error":null}`, ErrMalformed, "Error"},
		{"empty_tip", true, `{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[""]}}`, ErrMalformed, "SyncTree.our_tips[0]: empty ID"},
		{"bad_tip", true, `{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":["Qm"]}}`, ErrMalformed, "SyncTree.our_tips[0]"},
		{"bad_key", true, syncTree(`,"peer_pubkey":"ed25519:AAAA"`), ErrMalformed, "SyncTree.peer_pubkey"},
		{"key_not_string", true, syncTree(`,"requesting_key":1`), ErrMalformed, "SyncTree.requesting_key"},
		{"permission_unknown", true, syncTree(`,"requested_permission":{"Owner":1}`), ErrMalformed, "SyncTree.requested_permission"},
		{"permission_write_unit", true, syncTree(`,"requested_permission":"Write"`), ErrMalformed, "SyncTree.requested_permission"},
		{"permission_two", true, syncTree(`,"requested_permission":{"Write":1,"Admin":1}`), ErrMalformed, "SyncTree.requested_permission"},
		{"metadata_not_object", true, syncTree(`,"metadata":[1]`), ErrMalformed, "SyncTree.metadata"},
		{"more_not_bool", false, `{"Incremental":{"tree_id":"` + wireRoot + `","their_tips":[],"missing_entries":[],"more":1}}`, ErrMalformed, "Incremental.more"},
		{"body_not_object", false, `{"Bootstrap":[]}`, ErrMalformed, "Bootstrap"},
	}
	lim := DefaultWireLimits()
	lim.EntriesMax, lim.IDsMax, lim.MetadataBytesMax = 2, 2, 64
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.request {
				_, _, err = DecodeRequest([]byte(c.input), lim)
			} else {
				_, err = DecodeResponse([]byte(c.input), lim)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %q does not name %q", err, c.field)
			}
		})
	}
}

// TestWireLenient covers what serde accepts: unknown members are ignored,
// missing Option members read as null, {"Read":null} is Read.
func TestWireLenient(t *testing.T) {
	root, lim := entry.MustParseID(wireRoot), DefaultWireLimits()
	for input, want := range map[string]SyncTree{
		`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[],"future":{"x":[1]}}}`:                   {TreeID: root},
		`{"SyncTree":{"our_tips":[],"tree_id":"` + wireRoot + `","requested_permission":{"Read":null}}}`: {TreeID: root, RequestedPermission: &Permission{Level: PermRead}},
		`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[],"metadata":{ "a" : [ 1 , 2 ] }}}`:       {TreeID: root, Metadata: []byte(`{"a":[1,2]}`)},
		`{"SyncTree":{"tree_id":"` + wireRoot + `","our_tips":[],"resume":null,"have":null}}`:            {TreeID: root},
	} {
		m, v, err := DecodeRequest([]byte(input), lim)
		if err != nil || !reflect.DeepEqual(m, want) || v != 0 {
			t.Errorf("%s:\n got %#v, v%d, %v\nwant %#v", input, m, v, err, want)
		}
	}
	// An empty have-set still marks a v1 sender.
	_, v, err := DecodeRequest([]byte(`{"SyncTree":{"tree_id":"`+wireRoot+`","our_tips":[],"have":[]}}`), lim)
	if err != nil || v != 1 {
		t.Errorf("empty have: v%d, %v", v, err)
	}
}

// TestWireTamperedSignature: an entry whose signature does not verify still
// decodes, but its Blob is not marked verified; the kernel refuses it on
// ingest. Shape errors are treated the same.
func TestWireTamperedSignature(t *testing.T) {
	vecs := wireVectors(t)
	good := vecs["sig_direct_pubkey"]
	var probe struct {
		Sig struct {
			Sig string `json:"sig"`
		} `json:"sig"`
	}
	if err := json.Unmarshal([]byte(good), &probe); err != nil || probe.Sig.Sig == "" {
		t.Fatalf("vector has no signature: %v", err)
	}
	sig := probe.Sig.Sig
	flipped := "B"
	if sig[0] == 'B' {
		flipped = "C"
	}
	tampered := strings.Replace(good, sig, flipped+sig[1:], 1)
	unsigned := strings.Replace(good, `"sig":"`+sig+`",`, "", 1) // hint without signature
	for _, c := range []struct {
		name, json string
		verified   bool
	}{
		{"good", good, true}, {"tampered", tampered, false}, {"hint_without_sig", unsigned, false},
		{"unsigned", vecs["root_unsigned"], true}, {"name_hint", vecs["sig_direct_name"], true},
	} {
		m, _, err := DecodeRequest([]byte(`{"SendEntries":[`+c.json+`]}`), DefaultWireLimits())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b := m.(SendEntries).Entries[0]
		if b.verified != c.verified {
			t.Errorf("%s: verified %v, want %v", c.name, b.verified, c.verified)
		}
		if b.Entry == nil || entry.IDOf(b.Data) != b.ID {
			t.Errorf("%s: blob ID does not match its data", c.name)
		}
		// Deferred, then checked by a transport's verifier: the same
		// marks; a verifier that refuses leaves the blob to ingest.
		lim := DefaultWireLimits()
		lim.DeferSignatures = true
		for _, refuse := range []bool{false, true} {
			m, _, err := DecodeRequest([]byte(`{"SendEntries":[`+c.json+`]}`), lim)
			if err != nil {
				t.Fatalf("%s deferred: %v", c.name, err)
			}
			if m.(SendEntries).Entries[0].verified {
				t.Errorf("%s: verified before VerifySignaturesWith", c.name)
			}
			calls := 0
			VerifySignaturesWith(m, func(n int, fn func(int)) {
				for i := range n {
					fn(i)
				}
			}, func(pub entry.PublicKey, msg, sig []byte) bool {
				calls++
				return !refuse && pub.Verify(msg, sig)
			})
			want := c.verified && !(refuse && calls > 0)
			if got := m.(SendEntries).Entries[0].verified; got != want {
				t.Errorf("%s (verifier refuses %v): verified %v, want %v", c.name, refuse, got, want)
			}
		}
	}
}

func TestWireEncodeErrors(t *testing.T) {
	root := entry.MustParseID(wireRoot)
	k := wireKey(t, wireKeyA)
	for name, m := range map[string]Message{
		"zero_key":          Handshake{},
		"zero_auth_key":     SyncTree{TreeID: root, Auth: &RequestAuth{}},
		"empty_tree_id":     SyncTree{},
		"empty_tip":         SyncTree{TreeID: root, OurTips: []entry.ID{{}}},
		"empty_tree_info":   HandshakeResponse{PublicKey: k, AvailableTrees: []TreeInfo{{}}},
		"metadata_invalid":  SyncTree{TreeID: root, Metadata: []byte(`{"a":`)},
		"metadata_array":    SyncTree{TreeID: root, Metadata: []byte(`[1]`)},
		"metadata_empty":    SyncTree{TreeID: root, Metadata: []byte{}},
		"permission_level":  SyncTree{TreeID: root, RequestedPermission: &Permission{}},
		"blob_without_data": SendEntries{Entries: []Blob{{ID: root}}},
		"blob_bad_data":     IncrementalResponse{TreeID: root, MissingEntries: []Blob{{Data: []byte{0xa0}}}},
	} {
		if _, err := EncodeMessage(1, m); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := EncodeMessage(0, nil); !errors.Is(err, ErrUnknownVariant) {
		t.Errorf("nil message: %v", err)
	}
	if _, err := EncodeMessage(0, &Ack{}); !errors.Is(err, ErrUnknownVariant) {
		t.Errorf("pointer message: %v", err)
	}
}

// TestWireBlobFromData: a Blob holding only its CBOR encodes as its entry.
func TestWireBlobFromData(t *testing.T) {
	vecs := wireVectors(t)
	b := wireBlob(t, vecs, "sig_delegation")
	onlyData := Blob{ID: b.ID, Data: b.Data}
	got, err := EncodeMessage(0, SendEntries{Entries: []Blob{onlyData}})
	if err != nil || string(got) != `{"SendEntries":[`+vecs["sig_delegation"]+`]}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestWireBlobJSONSize(t *testing.T) {
	vecs := wireVectors(t)
	for name, js := range vecs {
		b := wireBlob(t, vecs, name)
		if got := blobJSONSize(0, b); got != len(js) {
			t.Errorf("%s: blobJSONSize %d, want %d", name, got, len(js))
		}
		if got := blobJSONSize(0, Blob{ID: b.ID, Data: b.Data}); got != len(js) {
			t.Errorf("%s from data: blobJSONSize %d, want %d", name, got, len(js))
		}
		v1, err := EncodeMessage(1, SendEntries{Entries: []Blob{b}})
		if err != nil || blobJSONSize(1, b) != len(v1)-len(`{"SendEntries":[]}`) {
			t.Errorf("%s at v1: blobJSONSize %d, message %d bytes: %v", name, blobJSONSize(1, b), len(v1), err)
		}
	}
	if got := blobJSONSize(0, Blob{Data: []byte{1}}); got != 0 {
		t.Errorf("undecodable blob: %d", got)
	}
}

// TestWireStringEscaping: strings are quoted as serde_json does, which is
// encoding/json with HTML escaping off except that U+2028 and U+2029 are left
// as they are; either way the JSON decodes to the same string.
func TestWireStringEscaping(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), rapid.StringOf(rapid.SampledFrom([]rune{'a', '"', '\\', '\n', 0, 0x1f, 0x7f, '<', '&', 'é', '\u2028', '\u2029', 0x1F600})),
			rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw")) })).Draw(t, "s")
		got := appendJSONString(nil, s)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if !strings.ContainsAny(s, "\u2028\u2029") && !bytes.Equal(got, want) {
			t.Fatalf("got %s, want %s", got, want)
		}
		var back, wantBack string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s does not decode: %v", got, err)
		}
		if err := json.Unmarshal(want, &wantBack); err != nil || back != wantBack {
			t.Fatalf("%s decodes to %q, want %q (%v)", got, back, wantBack, err)
		}
	})
}

// TestWirePropertyRoundTrip: any message the generator draws encodes at v1
// and decodes to itself; at v0 it encodes to the same bytes or, when it has
// a v1 member, is refused with ErrNotV0.
func TestWirePropertyRoundTrip(t *testing.T) {
	vecs := wireVectors(t)
	var blobs []Blob
	for name := range vecs {
		blobs = append(blobs, wireBlob(t, vecs, name))
	}
	slices.SortFunc(blobs, func(a, b Blob) int { return a.ID.Compare(b.ID) })
	g := wireGen{blobs: blobs}
	lim := DefaultWireLimits()
	rapid.Check(t, func(t *rapid.T) {
		m := g.message().Draw(t, "msg")
		data, err := EncodeMessage(1, m)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var got Message
		if IsRequest(m) {
			got, _, err = DecodeRequest(data, lim)
		} else {
			got, err = DecodeResponse(data, lim)
		}
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("%s\ndecodes to %#v, %v\nwant %#v", data, got, err, m)
		}
		v0, err := EncodeMessage(0, m)
		if err != nil && !errors.Is(err, ErrNotV0) || err == nil && !v1Differs(m) && !bytes.Equal(v0, data) {
			t.Fatalf("v0: %v\n%s\n%s", err, v0, data)
		}
	})
}

// wireGen draws messages whose empty lists are nil, as the decoder makes them.
type wireGen struct{ blobs []Blob }

func wireNilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (g wireGen) ids(t *rapid.T, label string) []entry.ID {
	return wireNilIfEmpty(rapid.SliceOfN(rapid.Custom(func(t *rapid.T) entry.ID {
		return entry.IDOf(rapid.SliceOfN(rapid.Byte(), 0, 3).Draw(t, "seed"))
	}), 0, 3).Draw(t, label))
}

func (g wireGen) id(t *rapid.T, label string) entry.ID {
	return entry.IDOf([]byte(label + rapid.String().Draw(t, label)))
}

func (g wireGen) key(t *rapid.T, label string) entry.PublicKey {
	if rapid.Bool().Draw(t, label+"_none") {
		return entry.PublicKey{}
	}
	return entry.PublicKey(rapid.SliceOfN(rapid.Byte(), 32, 32).Filter(func(b []byte) bool { return !bytes.Equal(b, make([]byte, 32)) }).Draw(t, label))
}

func (g wireGen) reqKey(t *rapid.T, label string) entry.PublicKey {
	k := g.key(t, label)
	if k.IsZero() {
		k[0] = 1
	}
	return k
}

func (g wireGen) str(t *rapid.T, label string) string { return rapid.String().Draw(t, label) }

func (g wireGen) optStr(t *rapid.T, label string) *string {
	if rapid.Bool().Draw(t, label+"_none") {
		return nil
	}
	return wirePtr(g.str(t, label))
}

func (g wireGen) vec(t *rapid.T, label string) []byte {
	return wireNilIfEmpty(rapid.SliceOfN(rapid.Byte(), 0, byteVecMax).Draw(t, label))
}

func (g wireGen) optU64(t *rapid.T, label string) *uint64 {
	if rapid.Bool().Draw(t, label+"_none") {
		return nil
	}
	return wirePtr(rapid.Uint64().Draw(t, label))
}

func (g wireGen) perm(t *rapid.T) *Permission {
	switch l := rapid.IntRange(0, 3).Draw(t, "perm"); l {
	case 0:
		return nil
	case 1:
		return &Permission{Level: PermRead}
	default:
		return &Permission{Level: PermissionLevel(l), Priority: rapid.Uint32().Draw(t, "priority")}
	}
}

func (g wireGen) blobList(t *rapid.T, label string) []Blob {
	return wireNilIfEmpty(rapid.SliceOfN(rapid.SampledFrom(g.blobs), 0, 3).Draw(t, label))
}

func (g wireGen) message() *rapid.Generator[Message] {
	return rapid.OneOf(
		rapid.Custom(func(t *rapid.T) Message {
			var addrs []Address
			for range rapid.IntRange(0, 2).Draw(t, "addrs") {
				addrs = append(addrs, Address{TransportType: g.str(t, "tt"), Address: g.str(t, "addr")})
			}
			return Handshake{PublicKey: g.reqKey(t, "pk"), DisplayName: g.optStr(t, "name"), ProtocolVersion: rapid.Uint32().Draw(t, "pv"),
				Challenge: g.vec(t, "challenge"), ListenAddresses: addrs}
		}),
		rapid.Custom(func(t *rapid.T) Message { return g.syncTree(t) }),
		rapid.Custom(func(t *rapid.T) Message { return SendEntries{Entries: g.blobList(t, "entries")} }),
		rapid.Custom(func(t *rapid.T) Message { return GetEntries{TreeID: g.id(t, "tree"), IDs: g.ids(t, "ids")} }),
		rapid.Custom(func(t *rapid.T) Message { return g.handshakeResponse(t) }),
		rapid.Custom(func(t *rapid.T) Message {
			return BootstrapResponse{TreeID: g.id(t, "tree"), RootEntry: rapid.SampledFrom(g.blobs).Draw(t, "root"), AllEntries: g.blobList(t, "all"),
				KeyApproved: rapid.Bool().Draw(t, "approved"), GrantedPermission: g.perm(t), Continuation: g.continuation(t)}
		}),
		rapid.Custom(func(t *rapid.T) Message {
			return IncrementalResponse{TreeID: g.id(t, "tree"), TheirTips: g.ids(t, "tips"), MissingEntries: g.blobList(t, "missing"), Continuation: g.continuation(t)}
		}),
		rapid.Custom(func(t *rapid.T) Message {
			return BootstrapPending{RequestID: g.str(t, "rid"), Message: g.str(t, "msg")}
		}),
		rapid.Just[Message](Ack{}),
		rapid.Custom(func(t *rapid.T) Message { return Count{N: rapid.Uint64().Draw(t, "n")} }),
		rapid.Custom(func(t *rapid.T) Message { return ErrorResponse{Message: g.str(t, "err")} }),
		rapid.Custom(func(t *rapid.T) Message {
			return EntriesResponse{TreeID: g.id(t, "tree"), Entries: g.blobList(t, "entries"), Missing: g.ids(t, "missing")}
		}),
	)
}

func (g wireGen) syncTree(t *rapid.T) SyncTree {
	m := SyncTree{TreeID: g.id(t, "tree"), OurTips: g.ids(t, "tips"), PeerPubkey: g.key(t, "peer"), RequestingKey: g.key(t, "rk"),
		RequestingKeyName: g.optStr(t, "rkn"), RequestedPermission: g.perm(t), Have: g.ids(t, "have"), Resume: g.optU64(t, "resume")}
	if rapid.Bool().Draw(t, "has_metadata") {
		m.Metadata = rapid.SampledFrom([][]byte{[]byte(`{}`), []byte(`{"children":{"k":{"Text":"v"}}}`), []byte(`{"a":[1,2.5,"\u003c"],"b":null}`)}).Draw(t, "metadata")
	}
	if rapid.Bool().Draw(t, "has_auth") {
		m.Auth = &RequestAuth{Key: g.reqKey(t, "ak"), TimestampMs: rapid.Uint64().Draw(t, "ts"), Nonce: g.vec(t, "nonce"), Signature: g.vec(t, "sig")}
	}
	return m
}

func (g wireGen) handshakeResponse(t *rapid.T) HandshakeResponse {
	var trees []TreeInfo
	for range rapid.IntRange(0, 2).Draw(t, "trees") {
		trees = append(trees, TreeInfo{TreeID: g.id(t, "tree"), Name: g.optStr(t, "tname"), EntryCount: rapid.Uint64().Draw(t, "count"), LastModified: rapid.Uint64().Draw(t, "lm")})
	}
	return HandshakeResponse{PublicKey: g.reqKey(t, "pk"), DisplayName: g.optStr(t, "name"), ProtocolVersion: rapid.Uint32().Draw(t, "pv"),
		ChallengeResponse: g.vec(t, "cr"), NewChallenge: g.vec(t, "nc"), AvailableTrees: trees}
}

func (g wireGen) continuation(t *rapid.T) Continuation {
	return Continuation{More: rapid.Bool().Draw(t, "more"), Resume: g.optU64(t, "resume")}
}

// v1Differs reports whether m's encoding at v1 differs from v0 by design:
// SyncTree carries its version mark, and entries travel as base64 CBOR.
func v1Differs(m Message) bool {
	switch m.(type) {
	case SyncTree, SendEntries, BootstrapResponse, IncrementalResponse, EntriesResponse:
		return true
	}
	return false
}

// TestWirePlainStrings: the decoder-free path for arrays of plain strings
// gives the elements the decoder gives, and leaves every other input,
// malformed ones included, to the decoder.
func TestWirePlainStrings(t *testing.T) {
	for _, in := range []string{
		`[]`, ` [ ] `, `["a"]`, `["a","b"]`, " [ \"a\" ,\n\t\"b\" ] ", `["",""]`, `["abc","de"]`,
		`["a",]`, `["a" "b"]`, `["a\\"b"]`, `["\u0041"]`, `["é"]`, `[1,"a"]`, `["a"]x`, `["a","b"`,
		`"a"`, `[`, ``, `["a",["b"]]`, `["a","b","c","d"]`, "[\"a\x01\"]", `[null]`,
	} {
		var fast, slow []string
		errFast := eachElement(json.RawMessage(in), 3, func(e json.RawMessage) error { fast = append(fast, string(e)); return nil })
		errSlow := eachElementDecoded(json.RawMessage(in), 3, func(e json.RawMessage) error { slow = append(slow, string(e)); return nil })
		if (errFast == nil) != (errSlow == nil) || errString(errFast) != errString(errSlow) || !slices.Equal(fast, slow) {
			t.Errorf("%q: %q %v, decoder %q %v", in, fast, errFast, slow, errSlow)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWireSplitObject: the decoder-free object split gives the decoder's
// members, duplicates and count, or leaves the input to the decoder.
func TestWireSplitObject(t *testing.T) {
	inputs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":1,"b":[1,2,{"c":"}"}],"d":"x\"y"}`, `{"a":1,"a":2}`,
		`{"a\u0062":null,"c":true,"d":false,"e":-1.5e3}`, "{\n\"a\" : [ ] ,\t\"b\":{}\n}",
		`{"a":1}x`, `{"a":1,}`, `{"a"}`, `[1]`, `"s"`, `{"a":"\\"}`, `{"a":{"b":[{"c":[]}]}}`,
		`{"":""}`, `{"a":1} {"b":2}`, `{`, `}`, `{"a":"é"}`, `{"a":[1,{"b":"]"}]}`,
	}
	for _, name := range []string{"sig_direct_pubkey", "root_unsigned", "child_left"} {
		inputs = append(inputs, wireVectors(t)[name])
	}
	for _, in := range inputs {
		fast, ok := splitObject([]byte(in))
		slow, err := parseObjectDecoded([]byte(in))
		if !ok {
			got, gotErr := parseObject([]byte(in))
			if errString(gotErr) != errString(err) || fmt.Sprint(got) != fmt.Sprint(slow) {
				t.Errorf("%q: parseObject %v %v, decoder %v %v", in, got, gotErr, slow, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: split, but the decoder refuses it: %v", in, err)
			continue
		}
		if fast.count != slow.count || fmt.Sprint(fast.dups) != fmt.Sprint(slow.dups) || len(fast.members) != len(slow.members) {
			t.Errorf("%q: split %v, decoder %v", in, fast, slow)
		}
		for k, v := range slow.members {
			if string(fast.members[k]) != string(v) {
				t.Errorf("%q: member %q split %s, decoder %s", in, k, fast.members[k], v)
			}
		}
	}
}

// FuzzWireSplit: the decoder-free splits agree with the JSON decoder on any
// input (go test -fuzz FuzzWireSplit ./kernel).
func FuzzWireSplit(f *testing.F) {
	for _, s := range []string{`{"a":[1,"b",{"c":null}],"d":"\"}"}`, `["x","y"]`, `{"a":1,"a":2}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := splitObject(data); ok {
			slow, err := parseObjectDecoded(data)
			if err != nil || fast.count != slow.count || len(fast.members) != len(slow.members) || len(fast.dups) != len(slow.dups) {
				t.Fatalf("%q: split %v, decoder %v %v", data, fast, slow, err)
			}
			for k, v := range slow.members {
				if string(fast.members[k]) != string(v) {
					t.Fatalf("%q: member %q split %s, decoder %s", data, k, fast.members[k], v)
				}
			}
		}
		var fast, slow []string
		errFast := eachElement(data, 4, func(e json.RawMessage) error { fast = append(fast, string(e)); return nil })
		errSlow := eachElementDecoded(data, 4, func(e json.RawMessage) error { slow = append(slow, string(e)); return nil })
		if errString(errFast) != errString(errSlow) || !slices.Equal(fast, slow) {
			t.Fatalf("%q: elements %q %v, decoder %q %v", data, fast, errFast, slow, errSlow)
		}
	})
}
