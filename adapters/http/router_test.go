package http_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"

	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// call records what the Handler received.
type call struct {
	remote  string
	version uint32
	msg     kernel.Message
}

// fixedHandler answers every request with reply at replyVersion and records
// the calls.
func fixedHandler(reply kernel.Message, replyVersion uint32, calls *[]call) func(context.Context, string, uint32, kernel.Message) (kernel.Message, uint32, error) {
	return func(_ context.Context, remote string, version uint32, msg kernel.Message) (kernel.Message, uint32, error) {
		*calls = append(*calls, call{remote, version, msg})
		return reply, replyVersion, nil
	}
}

func post(h nethttp.Handler, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(nethttp.MethodPost, httpadapter.Path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustKey(t *testing.T, s string) entry.PublicKey {
	t.Helper()
	k, err := entry.ParsePublicKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustID(t *testing.T, s string) entry.ID {
	t.Helper()
	id, err := entry.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func ptr[T any](v T) *T { return &v }

// TestRouterFixtures sends hand-written v0 (and v1) JSON requests through the
// router and checks that the Handler gets the decoded message and version,
// and that the response body is byte-exact for a hand-written reply.
func TestRouterFixtures(t *testing.T) {
	vs := vectors(t)
	ka, kb := mustKey(t, keyA), mustKey(t, keyB)
	rootID, leftID, rightID := mustID(t, root), mustID(t, left), mustID(t, right)
	bl := blobs(t, "root_unsigned", "child_left", "child_right")
	syncTreeNull := `{"SyncTree":{"tree_id":"` + root + `","our_tips":[],"peer_pubkey":null,"requesting_key":null,"requesting_key_name":null,"requested_permission":null,"metadata":null,"auth":null}}`

	cases := []struct {
		name     string
		request  string
		version  uint32 // version the handler must be given
		check    func(t *testing.T, m kernel.Message)
		reply    kernel.Message
		replyV   uint32
		response string
	}{
		{
			name:    "handshake",
			request: `{"Handshake":{"device_id":"` + keyA + `","public_key":"` + keyA + `","display_name":"BackgroundSync","protocol_version":0,"challenge":[0,1,127,128,255],"listen_addresses":[{"transport_type":"http","address":"127.0.0.1:8080"}]}}`,
			check: func(t *testing.T, m kernel.Message) {
				h := m.(kernel.Handshake)
				if h.PublicKey != ka || h.DisplayName == nil || *h.DisplayName != "BackgroundSync" ||
					!bytes.Equal(h.Challenge, []byte{0, 1, 127, 128, 255}) ||
					len(h.ListenAddresses) != 1 || h.ListenAddresses[0] != (kernel.Address{TransportType: "http", Address: "127.0.0.1:8080"}) {
					t.Errorf("decoded %+v", h)
				}
			},
			reply: kernel.HandshakeResponse{PublicKey: kb, DisplayName: ptr("Eidetica Peer"), ChallengeResponse: []byte{1, 2}, NewChallenge: []byte{3},
				AvailableTrees: []kernel.TreeInfo{{TreeID: rootID, EntryCount: 3}}},
			response: `{"Handshake":{"device_id":"` + keyB + `","public_key":"` + keyB + `","display_name":"Eidetica Peer","protocol_version":0,"challenge_response":[1,2],"new_challenge":[3],"available_trees":[{"tree_id":"` + root + `","name":null,"entry_count":3,"last_modified":0}]}}`,
		},
		{
			name: "sync_tree_incremental",
			request: `{"SyncTree":{"tree_id":"` + root + `","our_tips":["` + left + `"],"peer_pubkey":"` + keyB + `","requesting_key":"` + keyA +
				`","requesting_key_name":"laptop","requested_permission":{"Write":10},"metadata":{"children":{"k":{"Text":"v"}}},"auth":{"key":"` + keyB +
				`","timestamp_ms":1700000000000,"nonce":[17,4],"signature":[88,0,255]}}}`,
			check: func(t *testing.T, m kernel.Message) {
				s := m.(kernel.SyncTree)
				if s.TreeID != rootID || len(s.OurTips) != 1 || s.OurTips[0] != leftID || s.PeerPubkey != kb || s.RequestingKey != ka ||
					s.RequestingKeyName == nil || *s.RequestingKeyName != "laptop" ||
					s.RequestedPermission == nil || *s.RequestedPermission != (kernel.Permission{Level: kernel.PermWrite, Priority: 10}) ||
					string(s.Metadata) != `{"children":{"k":{"Text":"v"}}}` ||
					s.Auth == nil || s.Auth.Key != kb || s.Auth.TimestampMs != 1700000000000 || !bytes.Equal(s.Auth.Nonce, []byte{17, 4}) {
					t.Errorf("decoded %+v", s)
				}
			},
			reply:    kernel.IncrementalResponse{TreeID: rootID, TheirTips: []entry.ID{leftID, rightID}, MissingEntries: bl[2:3]},
			response: `{"Incremental":{"tree_id":"` + root + `","their_tips":["` + left + `","` + right + `"],"missing_entries":[` + vs["child_right"].JSON + `]}}`,
		},
		{
			name:    "sync_tree_bootstrap",
			request: syncTreeNull,
			check: func(t *testing.T, m kernel.Message) {
				s := m.(kernel.SyncTree)
				if s.TreeID != rootID || len(s.OurTips) != 0 || !s.PeerPubkey.IsZero() || s.Auth != nil || s.Metadata != nil {
					t.Errorf("decoded %+v", s)
				}
			},
			reply: kernel.BootstrapResponse{TreeID: rootID, RootEntry: bl[0], AllEntries: bl[1:], KeyApproved: true,
				GrantedPermission: &kernel.Permission{Level: kernel.PermWrite, Priority: 10}},
			response: `{"Bootstrap":{"tree_id":"` + root + `","root_entry":` + vs["root_unsigned"].JSON + `,"all_entries":[` + vs["child_left"].JSON + `,` +
				vs["child_right"].JSON + `],"key_approved":true,"granted_permission":{"Write":10}}}`,
		},
		{
			name:     "sync_tree_pending",
			request:  syncTreeNull,
			reply:    kernel.BootstrapPending{RequestID: "6f1c2f4e-0d1b-4a8e-9b7a-2c3d4e5f6a7b", Message: "Bootstrap request pending manual approval"},
			response: `{"BootstrapPending":{"request_id":"6f1c2f4e-0d1b-4a8e-9b7a-2c3d4e5f6a7b","message":"Bootstrap request pending manual approval"}}`,
		},
		{
			name:     "sync_tree_error_is_200",
			request:  syncTreeNull,
			reply:    kernel.ErrorResponse{Message: "Tree not found: " + root},
			response: `{"Error":"Tree not found: ` + root + `"}`,
		},
		{
			name:    "send_entries_one",
			request: `{"SendEntries":[` + vs["child_left"].JSON + `]}`,
			check: func(t *testing.T, m kernel.Message) {
				s := m.(kernel.SendEntries)
				if len(s.Entries) != 1 || s.Entries[0].ID != leftID {
					t.Errorf("decoded %+v", s)
				}
			},
			reply:    kernel.Ack{},
			response: `"Ack"`,
		},
		{
			name:    "send_entries_many",
			request: `{"SendEntries":[` + vs["root_unsigned"].JSON + `,` + vs["sig_direct_pubkey"].JSON + `,` + vs["sig_delegation"].JSON + `]}`,
			check: func(t *testing.T, m kernel.Message) {
				s := m.(kernel.SendEntries)
				want := []string{vs["root_unsigned"].ID, vs["sig_direct_pubkey"].ID, vs["sig_delegation"].ID}
				if len(s.Entries) != len(want) {
					t.Fatalf("decoded %d entries, want %d", len(s.Entries), len(want))
				}
				for i, b := range s.Entries {
					if b.ID.String() != want[i] {
						t.Errorf("entry %d: ID %s, want %s", i, b.ID, want[i])
					}
				}
			},
			reply:    kernel.Count{N: 2},
			response: `{"Count":2}`,
		},
		{
			name:     "send_entries_empty",
			request:  `{"SendEntries":[]}`,
			reply:    kernel.Ack{},
			response: `"Ack"`,
		},
		{
			name:     "handshake_v1",
			request:  `{"Handshake":{"device_id":"` + keyB + `","public_key":"` + keyB + `","display_name":null,"protocol_version":1,"challenge":[],"listen_addresses":[]}}`,
			version:  1,
			reply:    kernel.HandshakeResponse{PublicKey: ka, ProtocolVersion: 1, ChallengeResponse: []byte{}, NewChallenge: []byte{}},
			replyV:   1,
			response: `{"Handshake":{"device_id":"` + keyA + `","public_key":"` + keyA + `","display_name":null,"protocol_version":1,"challenge_response":[],"new_challenge":[],"available_trees":[]}}`,
		},
		{
			name:    "get_entries_v1",
			request: `{"GetEntries":{"tree_id":"` + root + `","ids":["` + left + `","` + right + `"]}}`,
			version: 1,
			check: func(t *testing.T, m kernel.Message) {
				g := m.(kernel.GetEntries)
				if g.TreeID != rootID || len(g.IDs) != 2 || g.IDs[0] != leftID || g.IDs[1] != rightID {
					t.Errorf("decoded %+v", g)
				}
			},
			reply:  kernel.EntriesResponse{TreeID: rootID, Entries: bl[1:2], Missing: []entry.ID{rightID}},
			replyV: 1,
			// NB: a v1 peer gets entries as base64 of their canonical CBOR.
			response: `{"Entries":{"tree_id":"` + root + `","entries":["` + base64.StdEncoding.EncodeToString(bl[1].Data) + `"],"missing":["` + right + `"]}}`,
		},
	}
	tr := build(t, httpadapter.Builder{}, kernel.DefaultWireLimits())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls []call
			rec := post(tr.Router(fixedHandler(c.reply, c.replyV, &calls)), "application/json", c.request)
			if rec.Code != nethttp.StatusOK {
				t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := rec.Body.String(); got != c.response {
				t.Errorf("response\n got %s\nwant %s", got, c.response)
			}
			if len(calls) != 1 {
				t.Fatalf("handler called %d times", len(calls))
			}
			got := calls[0]
			if got.remote != "http:192.0.2.1:1234" { // httptest.NewRequest's RemoteAddr
				t.Errorf("remote %q", got.remote)
			}
			if got.version != c.version {
				t.Errorf("version %d, want %d", got.version, c.version)
			}
			if c.check != nil {
				c.check(t, got.msg)
			}
			// The decoded request encodes back to the very bytes sent.
			again, err := kernel.EncodeMessage(got.version, got.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != c.request {
				t.Errorf("request does not round-trip\n got %s\nwant %s", again, c.request)
			}
		})
	}
}

// TestRouterStatus checks the framework-level statuses of PROTOCOL.md 2.4:
// each refusal has a one-line text body and never reaches the Handler.
func TestRouterStatus(t *testing.T) {
	vs := vectors(t)
	small := kernel.DefaultWireLimits()
	small.MessageBytesMax = 64
	fewEntries := kernel.DefaultWireLimits()
	fewEntries.EntriesMax = 1
	syncTreeNoTips := `{"SyncTree":{"tree_id":"` + root + `","peer_pubkey":null}}`
	twoEntries := `{"SendEntries":[` + vs["child_left"].JSON + `,` + vs["child_right"].JSON + `]}`

	cases := []struct {
		name        string
		limits      kernel.WireLimits
		method      string
		path        string
		contentType string
		body        string
		chunked     bool           // send without Content-Length
		reply       kernel.Message // default Ack
		nilReply    bool
		replyErr    error
		panics      bool
		code        int
		bodyHas     string
		handled     bool // whether the Handler is called
	}{
		{name: "ok", body: `{"SendEntries":[]}`, code: 200, handled: true},
		{name: "ok_charset", contentType: "application/json; charset=utf-8", body: `{"SendEntries":[]}`, code: 200, handled: true},
		{name: "ok_plus_json", contentType: "application/vnd.eidetica+json", body: `{"SendEntries":[]}`, code: 200, handled: true},
		{name: "error_reply_is_200", body: `{"SendEntries":[]}`, reply: kernel.ErrorResponse{Message: "Tree not found: " + root}, code: 200, handled: true},
		{name: "text_plain", contentType: "text/plain", body: `{"SendEntries":[]}`, code: 415, bodyHas: "application/json"},
		{name: "no_content_type", contentType: "-", body: `{"SendEntries":[]}`, code: 415, bodyHas: "application/json"},
		{name: "bad_content_type", contentType: "application/json; =", body: `{"SendEntries":[]}`, code: 415},
		{name: "not_json", body: `hello`, code: 400, bodyHas: "not JSON"},
		{name: "truncated_json", body: `{"SendEntries":[`, code: 400, bodyHas: "not JSON"},
		{name: "empty_body", body: ``, code: 400, bodyHas: "not JSON"},
		{name: "not_utf8", body: "{\"Error\":\"\xff\"}", code: 400, bodyHas: "UTF-8"},
		{name: "unknown_variant", body: `{"Bogus":{}}`, code: 422, bodyHas: "unknown message variant"},
		{name: "response_as_request", body: `"Ack"`, code: 422, bodyHas: "unknown message variant"},
		{name: "missing_our_tips", body: syncTreeNoTips, code: 422, bodyHas: "our_tips"},
		{name: "array", body: `[]`, code: 422},
		{name: "over_limit", limits: small, body: `{"SendEntries":[` + strings.Repeat(" ", 64) + `]}`, code: 413, bodyHas: "limit of 64"},
		{name: "over_limit_chunked", limits: small, chunked: true, body: `{"SendEntries":[` + strings.Repeat(" ", 64) + `]}`, code: 413, bodyHas: "limit of 64"},
		{name: "at_limit", limits: small, body: `{"SendEntries":[` + strings.Repeat(" ", 64-len(`{"SendEntries":[]}`)) + `]}`, code: 200, handled: true},
		{name: "too_many_entries", limits: fewEntries, body: twoEntries, code: 413, bodyHas: "message too large"},
		{name: "get", method: nethttp.MethodGet, code: 405, bodyHas: "use POST"},
		{name: "put", method: nethttp.MethodPut, body: `{"SendEntries":[]}`, code: 405},
		{name: "other_path", path: "/other", body: `{"SendEntries":[]}`, code: 404, bodyHas: "POST /api/v0"},
		{name: "trailing_slash", path: "/api/v0/", body: `{"SendEntries":[]}`, code: 404},
		{name: "get_root", method: nethttp.MethodGet, path: "/", code: 404},
		{name: "handler_error", body: `{"SendEntries":[]}`, replyErr: errors.New("closing"), code: 503, bodyHas: "cannot answer", handled: true},
		{name: "handler_panics", body: `{"SendEntries":[]}`, panics: true, code: 500, handled: true},
		{name: "handler_no_reply", body: `{"SendEntries":[]}`, nilReply: true, code: 500, handled: true},
		{name: "handler_replies_request", body: `{"SendEntries":[]}`, reply: kernel.SendEntries{}, code: 500, handled: true},
		{name: "reply_not_v0", body: `{"SendEntries":[]}`, reply: kernel.EntriesResponse{TreeID: mustID(t, root)}, code: 500, bodyHas: "cannot encode", handled: true},
		{name: "reply_over_limit", limits: small, body: `{"SendEntries":[]}`, reply: kernel.ErrorResponse{Message: strings.Repeat("x", 64)}, code: 500, bodyHas: "cannot encode", handled: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.limits.MessageBytesMax == 0 {
				c.limits = kernel.DefaultWireLimits()
			}
			if c.method == "" {
				c.method = nethttp.MethodPost
			}
			if c.path == "" {
				c.path = httpadapter.Path
			}
			if c.reply == nil && !c.nilReply {
				c.reply = kernel.Ack{}
			}
			handled := false
			h := func(context.Context, string, uint32, kernel.Message) (kernel.Message, uint32, error) {
				handled = true
				if c.panics {
					panic("handler bug")
				}
				return c.reply, 0, c.replyErr
			}
			tr := build(t, httpadapter.Builder{}, c.limits)
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(body) // hides the length
			}
			req := httptest.NewRequest(c.method, c.path, body)
			if c.chunked {
				req.ContentLength = -1
			}
			switch c.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", c.contentType)
			}
			rec := httptest.NewRecorder()
			tr.Router(h).ServeHTTP(rec, req)

			if rec.Code != c.code {
				t.Fatalf("status %d, want %d; body %q", rec.Code, c.code, rec.Body.String())
			}
			if handled != c.handled {
				t.Errorf("handler called: %v, want %v", handled, c.handled)
			}
			if c.code == nethttp.StatusMethodNotAllowed {
				if allow := rec.Header().Get("Allow"); allow != "POST" {
					t.Errorf("Allow %q, want POST", allow)
				}
			}
			got := rec.Body.String()
			if c.code == 200 {
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if _, err := kernel.DecodeResponse(rec.Body.Bytes(), c.limits); err != nil {
					t.Errorf("200 with a body that does not decode: %v", err)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("error Content-Type %q, want text/plain", ct)
			}
			if !strings.HasPrefix(got, "http: ") || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
				t.Errorf("error body %q is not one line starting with http:", got)
			}
			if !strings.Contains(got, c.bodyHas) {
				t.Errorf("error body %q does not contain %q", got, c.bodyHas)
			}
		})
	}
}
