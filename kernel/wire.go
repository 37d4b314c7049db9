package kernel

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/eidsync/eidsync/kernel/entry"
)

// The wire codec: pure functions shared by both transports and the
// simulator. Version 0 is the reference's JSON (PROTOCOL.md 2.1, 2.2):
// serde's externally tagged enums, every struct member written in
// declaration order, Option as null, byte vectors as arrays of integers.
// Version 1 adds this project's members and variants, which are written only
// when the version allows them:
//
//	request  {"GetEntries":{"tree_id":ID,"ids":[ID],"auth":…}}      (auth omitted when unset)
//	request  {"PushEntries":{"tree_id":ID,"entries":[entry],"auth":…}} (a SendEntries with Auth)
//	response {"Entries":{"tree_id":ID,"entries":[entry],"missing":[ID]}}
//	SyncTree              ...,"auth":…,"have":[ID],"resume":N}   (each omitted when empty)
//	Bootstrap, Incremental ...,"more":true,"resume":N}           (each omitted when unset)
//
// Decoding follows serde: members are matched by exact name and unknown ones
// ignored, missing Option members read as null, other members are required.
// This codec is stricter than the reference in a few places: the input must
// be UTF-8, a duplicated member is refused, an ID is never empty, metadata is
// a JSON object, and every list and byte vector has a limit.

// WireLimits bounds what a decoder accepts. The zero value accepts
// nothing; start from DefaultWireLimits.
type WireLimits struct {
	MessageBytesMax  int // whole encoded message
	EntriesMax       int // entries in one message; also TreeInfos in a handshake
	IDsMax           int // IDs in one list (tips, have, ids, missing); also listen addresses
	MetadataBytesMax int // SyncTree.metadata raw JSON
	Entry            entry.Limits
	// DeferSignatures makes the decoders skip the Ed25519 check of each
	// entry, so that a transport can run VerifySignatures over several
	// cores. Entries not verified either way are checked on ingest.
	DeferSignatures bool

	// validJSON says that what is decoded with these limits lies in a
	// message splitMessage has checked to be valid JSON, so that object
	// splits need not check it again (it cost about 2 us per entry of a
	// bootstrap, a pass over the whole body). Set only on the decoders'
	// own copy.
	validJSON bool
}

// VerifySignatures checks the signature of every entry in msg, marking
// those that pass so that ingest does not check them again. The kernel
// starts no goroutine: parallel(n, fn) is the caller's, and must call fn(i)
// exactly once for each i in [0, n), from any goroutines, returning when
// all calls have. Each call touches only entry i.
func VerifySignatures(msg Message, parallel func(n int, fn func(i int))) {
	VerifySignaturesWith(msg, parallel, nil)
}

// VerifySignaturesWith is VerifySignatures with verify checking each Ed25519
// signature (nil: crypto/ed25519). verify must accept exactly the
// signatures crypto/ed25519 accepts: a blob it passes is stored without
// another check. It is called from parallel's goroutines.
func VerifySignaturesWith(msg Message, parallel func(n int, fn func(i int)), verify entry.Verifier) {
	var blobs []Blob
	switch m := msg.(type) {
	case SendEntries:
		blobs = m.Entries
	case BootstrapResponse:
		blobs = m.AllEntries // the root entry alone is checked on ingest
	case IncrementalResponse:
		blobs = m.MissingEntries
	case EntriesResponse:
		blobs = m.Entries
	}
	if len(blobs) > 0 {
		parallel(len(blobs), func(i int) { verifyBlob(&blobs[i], verify) })
	}
}

// DefaultWireLimits stays below axum's 2 MB body limit, which a reference
// HTTP server enforces, and lets one message carry a few hundred of the
// largest entries or many thousands of small ones.
func DefaultWireLimits() WireLimits {
	el := entry.DefaultLimits()
	el.EntryBytesMax = 256 << 10
	return WireLimits{
		MessageBytesMax:  2_000_000,
		EntriesMax:       50_000,
		IDsMax:           1024,
		MetadataBytesMax: 16 << 10,
		Entry:            el,
	}
}

// EncodeMessage returns the JSON of m for a peer speaking version. Version 0
// refuses, with ErrNotV0, a v1 variant (GetEntries, EntriesResponse) and any
// set v1 member (SyncTree.Have or Resume, a Continuation). A message that
// cannot be written (a zero key or empty ID where one is required, a Blob
// that does not decode, metadata that is not a JSON object) is refused with
// ErrMalformed. Every version above 0 writes the v1 members.
func EncodeMessage(version uint32, m Message) ([]byte, error) {
	if version == ProtocolV0 {
		if err := checkV0(m); err != nil {
			return nil, err
		}
	}
	w := wireWriter{buf: make([]byte, 0, 512), v1: version >= ProtocolV1}
	w.message(m)
	if w.err != nil {
		return nil, w.err
	}
	return w.buf, nil
}

func checkV0(m Message) error {
	field := ""
	switch m := m.(type) {
	case GetEntries:
		field = "GetEntries"
	case SendEntries:
		if m.Auth != nil || !m.TreeID.IsZero() {
			field = "PushEntries"
		}
	case EntriesResponse:
		field = "Entries"
	case SyncTree:
		if len(m.Have) > 0 {
			field = "SyncTree.have"
		} else if m.Resume != nil {
			field = "SyncTree.resume"
		}
	case BootstrapResponse:
		field = continuationField("Bootstrap", m.Continuation)
	case IncrementalResponse:
		field = continuationField("Incremental", m.Continuation)
	}
	if field == "" {
		return nil
	}
	return &wireError{kind: ErrNotV0, path: field, msg: "not part of protocol version 0"}
}

func continuationField(variant string, c Continuation) string {
	switch {
	case c.More:
		return variant + ".more"
	case c.Resume != nil:
		return variant + ".resume"
	}
	return ""
}

// DecodeRequest decodes a request and returns the protocol version it
// implies: a Handshake's protocol_version; 1 for GetEntries and for a
// SyncTree carrying have or resume (even an empty have); otherwise 0. Errors
// wrap ErrMessageTooLarge, ErrUnknownVariant or ErrMalformed and name the
// field. An entry with a bad signature does not fail the message: its Blob
// is simply not marked verified.
func DecodeRequest(data []byte, lim WireLimits) (Message, uint32, error) {
	name, body, err := splitMessage(data, &lim)
	if err != nil {
		return nil, 0, err
	}
	var decode func(json.RawMessage, *WireLimits) (Message, uint32, error)
	switch name {
	case "Handshake":
		decode = decodeHandshake
	case "SyncTree":
		decode = decodeSyncTree
	case "SendEntries":
		decode = decodeSendEntries
	case "GetEntries":
		decode = decodeGetEntries
	case "PushEntries":
		decode = decodePushEntries
	default:
		return nil, 0, unknownVariant(name)
	}
	m, version, err := decode(body, &lim)
	if err != nil {
		return nil, 0, atPath(name, err)
	}
	return m, version, nil
}

// DecodeResponse decodes a response of either version; errors are those of
// DecodeRequest.
func DecodeResponse(data []byte, lim WireLimits) (Message, error) {
	name, body, err := splitMessage(data, &lim)
	if err != nil {
		return nil, err
	}
	var decode func(json.RawMessage, *WireLimits) (Message, error)
	switch name {
	case "Handshake":
		decode = decodeHandshakeResponse
	case "Bootstrap":
		decode = decodeBootstrap
	case "Incremental":
		decode = decodeIncremental
	case "BootstrapPending":
		decode = decodeBootstrapPending
	case "Ack":
		decode = decodeAck
	case "Count":
		decode = decodeCount
	case "Error":
		decode = decodeError
	case "Entries":
		decode = decodeEntries
	default:
		return nil, unknownVariant(name)
	}
	m, err := decode(body, &lim)
	if err != nil {
		return nil, atPath(name, err)
	}
	return m, nil
}

// splitMessage checks the size and encoding of a whole message and splits
// its enum tag from its content (nil for a unit variant).
func splitMessage(data []byte, lim *WireLimits) (string, json.RawMessage, error) {
	if len(data) > lim.MessageBytesMax {
		return "", nil, tooLargef("%d bytes, limit %d", len(data), lim.MessageBytesMax)
	}
	if !utf8.Valid(data) {
		return "", nil, malformedf("not UTF-8")
	}
	name, body, err := splitEnum(trimSpace(data))
	lim.validJSON = err == nil
	return name, body, err
}

func unknownVariant(name string) error {
	return &wireError{kind: ErrUnknownVariant, msg: strconv.Quote(clipName(name))}
}

// decodeAck accepts the unit variant "Ack" and, as serde does, {"Ack":null}.
func decodeAck(body json.RawMessage, _ *WireLimits) (Message, error) {
	if body != nil && !isNull(body) {
		return nil, malformedf("Ack has no content")
	}
	return Ack{}, nil
}

func decodeCount(body json.RawMessage, _ *WireLimits) (Message, error) {
	n, err := parseU64(body)
	return Count{N: n}, err
}

func decodeError(body json.RawMessage, _ *WireLimits) (Message, error) {
	s, err := parseString(body)
	return ErrorResponse{Message: s}, err
}

// blobJSONSize is the length of b's entry on the wire at version: v0 JSON
// (computed without encoding it), or the v1 base64 string.
// A Blob with no Entry whose Data does not decode counts 0; EncodeMessage
// refuses it.
func blobJSONSize(version uint32, b Blob) int {
	if version >= ProtocolV1 && b.Data != nil {
		return 2 + base64.StdEncoding.EncodedLen(len(b.Data))
	}
	e := b.Entry
	if e == nil {
		var err error
		if e, _, err = entry.DecodeCBOR(b.Data); err != nil {
			return 0
		}
	}
	return entry.JSONSize(e)
}
