package fuzz_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/eidsync/eidsync/kernel"
)

// wireVectorsPath is the entry golden file, whose entries go into the seeds.
const wireVectorsPath = "../kernel/entry/testdata/vectors.json"

const (
	wireSeedKey  = "ed25519:sB2i0qJzLHuXZHl5UlTlld60ZPiNuuhnlumxg3FK6fU="
	wireSeedRoot = "bafyr4idgewj3peojl76vddjb5awkxktgtsrak5t45zruu6h6npbs73mmbm"
	wireSeedTip  = "bafyr4ifw3xvsuenvnyk5kkhqajh4zs3kjlanrlkfvajl43b6ao3wppnz24"
)

// wireSeeds are one message of each variant, in the exact v0 and v1 shapes.
func wireSeeds(f *testing.F) []string {
	f.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(wireVectorsPath))
	if err != nil {
		f.Fatal(err)
	}
	var file struct{ Vectors []struct{ Name, JSON string } }
	if err := json.Unmarshal(raw, &file); err != nil {
		f.Fatal(err)
	}
	ent := make(map[string]string)
	for _, v := range file.Vectors {
		ent[v.Name] = v.JSON
	}
	root, tip, key := `"`+wireSeedRoot+`"`, `"`+wireSeedTip+`"`, `"`+wireSeedKey+`"`
	return []string{
		`{"Handshake":{"device_id":` + key + `,"public_key":` + key + `,"display_name":"BackgroundSync","protocol_version":0,"challenge":[1,2,3],"listen_addresses":[{"transport_type":"http","address":"127.0.0.1:8080"}]}}`,
		`{"SyncTree":{"tree_id":` + root + `,"our_tips":[` + tip + `],"peer_pubkey":` + key + `,"requesting_key":` + key + `,"requesting_key_name":"laptop","requested_permission":{"Write":10},"metadata":{"children":{"k":{"Text":"v"}}},"auth":{"key":` + key + `,"timestamp_ms":1700000000000,"nonce":[17,4],"signature":[88,0,255]}}}`,
		`{"SyncTree":{"tree_id":` + root + `,"our_tips":[],"peer_pubkey":null,"requesting_key":null,"requesting_key_name":null,"requested_permission":"Read","metadata":null,"auth":null,"have":[` + tip + `],"resume":7}}`,
		`{"SendEntries":[` + ent["root_unsigned"] + `,` + ent["sig_direct_pubkey"] + `,` + ent["sig_delegation"] + `]}`,
		`{"GetEntries":{"tree_id":` + root + `,"ids":[` + tip + `]}}`,
		`{"Handshake":{"device_id":` + key + `,"public_key":` + key + `,"display_name":"Eidetica Peer","protocol_version":0,"challenge_response":[1,2],"new_challenge":[3],"available_trees":[{"tree_id":` + root + `,"name":null,"entry_count":3,"last_modified":0}]}}`,
		`{"Bootstrap":{"tree_id":` + root + `,"root_entry":` + ent["root_settings_signed"] + `,"all_entries":[` + ent["child_left"] + `],"key_approved":true,"granted_permission":{"Admin":0},"more":true,"resume":42}}`,
		`{"Incremental":{"tree_id":` + root + `,"their_tips":[` + tip + `],"missing_entries":[` + ent["sig_direct_name"] + `]}}`,
		`{"BootstrapPending":{"request_id":"6f1c2f4e-0d1b-4a8e-9b7a-2c3d4e5f6a7b","message":"Bootstrap request pending manual approval"}}`,
		`"Ack"`,
		`{"Count":2}`,
		`{"Error":"Tree not found: \"x\"\n\u0001 é"}`,
		`{"Entries":{"tree_id":` + root + `,"entries":[` + ent["child_right"] + `],"missing":[` + tip + `]}}`,
	}
}

// FuzzWire feeds arbitrary bytes to DecodeRequest and DecodeResponse.
// Neither panics; every error wraps ErrMalformed, ErrMessageTooLarge or
// ErrUnknownVariant; whatever decodes re-encodes (at the version the request
// implies, version 1 for a response), and that encoding is a fixed point:
// it decodes and encodes to the same bytes again.
func FuzzWire(f *testing.F) {
	for _, s := range wireSeeds(f) {
		f.Add([]byte(s))
	}
	lim := kernel.DefaultWireLimits()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, version, err := kernel.DecodeRequest(data, lim)
		checkWire(t, "request", m, version, err, lim)
		m, err = kernel.DecodeResponse(data, lim)
		checkWire(t, "response", m, kernel.ProtocolV1, err, lim)
	})
}

func checkWire(t *testing.T, kind string, m kernel.Message, version uint32, err error, lim kernel.WireLimits) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, kernel.ErrMalformed) && !errors.Is(err, kernel.ErrMessageTooLarge) && !errors.Is(err, kernel.ErrUnknownVariant) {
			t.Fatalf("%s: error wraps no kernel sentinel: %v", kind, err)
		}
		return
	}
	if kernel.IsRequest(m) != (kind == "request") {
		t.Fatalf("%s decoder returned %T", kind, m)
	}
	first, err := kernel.EncodeMessage(version, m)
	if err != nil {
		t.Fatalf("%s: decoded %T does not encode at v%d: %v", kind, m, version, err)
	}
	// Re-encoding may grow a message (an entry string escapes U+2028), so the
	// second decode is not held to the size limit.
	lim.MessageBytesMax = max(lim.MessageBytesMax, len(first))
	var again kernel.Message
	if kind == "request" {
		again, _, err = kernel.DecodeRequest(first, lim)
	} else {
		again, err = kernel.DecodeResponse(first, lim)
	}
	if err != nil {
		t.Fatalf("%s: re-encoding does not decode: %v\n%s", kind, err, first)
	}
	second, err := kernel.EncodeMessage(version, again)
	if err != nil {
		t.Fatalf("%s: second encode: %v", kind, err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("%s: encoding is not a fixed point:\n first %s\nsecond %s", kind, first, second)
	}
}
