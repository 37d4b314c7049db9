package kernel

import (
	"encoding/json"

	"github.com/eidsync/eidsync/kernel/entry"
)

// byteVecMax bounds challenge, challenge_response, new_challenge, nonce and
// signature; the reference sends 32, 32, 32, 32 and 64 bytes.
const byteVecMax = 64

// reader reads the members of one JSON object (a message body or a nested
// struct) and keeps the first error, with the path of its field.
type reader struct {
	obj object
	lim *WireLimits
	err error
}

func newReader(body json.RawMessage, lim *WireLimits) (*reader, error) {
	obj, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	return &reader{obj: obj, lim: lim}, nil
}

func (r *reader) fail(name string, err error) {
	if r.err == nil {
		r.err = within(name, err)
	}
}

// value returns a member's raw JSON, or nil when it is absent or null, which
// an Option member may be and a required member may not.
func (r *reader) value(name string, required bool) json.RawMessage {
	if r.err != nil {
		return nil
	}
	if r.obj.dups[name] {
		r.fail(name, malformedf("duplicate field"))
		return nil
	}
	raw, ok := r.obj.members[name]
	switch {
	case ok && !isNull(raw):
		return raw
	case ok && required:
		r.fail(name, malformedf("null where a value is required"))
	case required:
		r.fail(name, malformedf("missing required field"))
	}
	return nil
}

// present reports whether an Option member is given and not null.
func (r *reader) present(name string) bool {
	raw, ok := r.obj.members[name]
	return ok && !isNull(raw)
}

// field reads one member with parse; absent or null Options give the zero T.
func field[T any](r *reader, name string, required bool, parse func(json.RawMessage) (T, error)) T {
	var zero T
	raw := r.value(name, required)
	if raw == nil {
		return zero
	}
	v, err := parse(raw)
	if err != nil {
		r.fail(name, err)
		return zero
	}
	return v
}

// optional turns a parser of T into a parser of Option<T>.
func optional[T any](parse func(json.RawMessage) (T, error)) func(json.RawMessage) (*T, error) {
	return func(raw json.RawMessage) (*T, error) {
		v, err := parse(raw)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
}

func parseU32(raw json.RawMessage) (uint32, error) {
	v, err := parseUint(raw, 32)
	return uint32(v), err
}

func parseByteVec(raw json.RawMessage) ([]byte, error) { return parseBytes(raw, byteVecMax) }

func (r *reader) ids(raw json.RawMessage) ([]entry.ID, error) { return parseIDs(raw, r.lim.IDsMax) }

func (r *reader) blob(raw json.RawMessage) (Blob, error) { return parseBlob(raw, r.lim.Entry) }

func (r *reader) blobs(raw json.RawMessage) ([]Blob, error) { return parseBlobs(raw, r.lim) }

func (r *reader) doc(raw json.RawMessage) ([]byte, error) {
	return parseDoc(raw, r.lim.MetadataBytesMax)
}

// sameKey checks the reference's duplicated identity: device_id must equal
// public_key.
func (r *reader) sameKey(device, public entry.PublicKey) {
	if r.err == nil && device != public {
		r.fail("device_id", malformedf("differs from public_key; both must hold the same key"))
	}
}

func (r *reader) addresses(raw json.RawMessage) ([]Address, error) {
	var out []Address
	err := forEach(raw, r.lim.IDsMax, func(elem json.RawMessage) error {
		ar, err := newReader(elem, r.lim)
		if err != nil {
			return err
		}
		out = append(out, Address{
			TransportType: field(ar, "transport_type", true, parseString),
			Address:       field(ar, "address", true, parseString),
		})
		return ar.err
	})
	return out, err
}

func (r *reader) trees(raw json.RawMessage) ([]TreeInfo, error) {
	var out []TreeInfo
	err := forEach(raw, r.lim.EntriesMax, func(elem json.RawMessage) error {
		tr, err := newReader(elem, r.lim)
		if err != nil {
			return err
		}
		out = append(out, TreeInfo{
			TreeID:       field(tr, "tree_id", true, parseID),
			Name:         field(tr, "name", false, optional(parseString)),
			EntryCount:   field(tr, "entry_count", true, parseU64),
			LastModified: field(tr, "last_modified", true, parseU64),
		})
		return tr.err
	})
	return out, err
}

func (r *reader) auth(raw json.RawMessage) (RequestAuth, error) {
	ar, err := newReader(raw, r.lim)
	if err != nil {
		return RequestAuth{}, err
	}
	a := RequestAuth{
		Key:         field(ar, "key", true, parseKey),
		TimestampMs: field(ar, "timestamp_ms", true, parseU64),
		Nonce:       field(ar, "nonce", true, parseByteVec),
		Signature:   field(ar, "signature", true, parseByteVec),
	}
	return a, ar.err
}

func (r *reader) continuation() Continuation {
	return Continuation{
		More:   field(r, "more", false, parseBool),
		Resume: field(r, "resume", false, optional(parseU64)),
	}
}

func decodeHandshake(body json.RawMessage, lim *WireLimits) (Message, uint32, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, 0, err
	}
	device := field(r, "device_id", true, parseKey)
	m := Handshake{
		PublicKey:       field(r, "public_key", true, parseKey),
		DisplayName:     field(r, "display_name", false, optional(parseString)),
		ProtocolVersion: field(r, "protocol_version", true, parseU32),
		Challenge:       field(r, "challenge", true, parseByteVec),
		ListenAddresses: field(r, "listen_addresses", true, r.addresses),
	}
	r.sameKey(device, m.PublicKey)
	return m, m.ProtocolVersion, r.err
}

// decodeSyncTree reports version 1 when the request carries a v1 member.
func decodeSyncTree(body json.RawMessage, lim *WireLimits) (Message, uint32, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, 0, err
	}
	m := SyncTree{
		TreeID:              field(r, "tree_id", true, parseID),
		OurTips:             field(r, "our_tips", true, r.ids),
		PeerPubkey:          field(r, "peer_pubkey", false, parseKey),
		RequestingKey:       field(r, "requesting_key", false, parseKey),
		RequestingKeyName:   field(r, "requesting_key_name", false, optional(parseString)),
		RequestedPermission: field(r, "requested_permission", false, optional(parsePermission)),
		Metadata:            field(r, "metadata", false, r.doc),
		Auth:                field(r, "auth", false, optional(r.auth)),
		Have:                field(r, "have", false, r.ids),
		Resume:              field(r, "resume", false, optional(parseU64)),
	}
	version := ProtocolV0
	if r.present("have") || r.present("resume") {
		version = ProtocolV1
	}
	return m, version, r.err
}

func decodeSendEntries(body json.RawMessage, lim *WireLimits) (Message, uint32, error) {
	blobs, err := parseBlobs(body, lim)
	return SendEntries{Entries: blobs}, ProtocolV0, err
}

func decodeGetEntries(body json.RawMessage, lim *WireLimits) (Message, uint32, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, 0, err
	}
	m := GetEntries{
		TreeID: field(r, "tree_id", true, parseID),
		IDs:    field(r, "ids", true, r.ids),
	}
	return m, ProtocolV1, r.err
}

func decodeHandshakeResponse(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	device := field(r, "device_id", true, parseKey)
	m := HandshakeResponse{
		PublicKey:         field(r, "public_key", true, parseKey),
		DisplayName:       field(r, "display_name", false, optional(parseString)),
		ProtocolVersion:   field(r, "protocol_version", true, parseU32),
		ChallengeResponse: field(r, "challenge_response", true, parseByteVec),
		NewChallenge:      field(r, "new_challenge", true, parseByteVec),
		AvailableTrees:    field(r, "available_trees", true, r.trees),
	}
	r.sameKey(device, m.PublicKey)
	return m, r.err
}

func decodeBootstrap(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	m := BootstrapResponse{
		TreeID:            field(r, "tree_id", true, parseID),
		RootEntry:         field(r, "root_entry", true, r.blob),
		AllEntries:        field(r, "all_entries", true, r.blobs),
		KeyApproved:       field(r, "key_approved", true, parseBool),
		GrantedPermission: field(r, "granted_permission", false, optional(parsePermission)),
		Continuation:      r.continuation(),
	}
	return m, r.err
}

func decodeIncremental(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	m := IncrementalResponse{
		TreeID:         field(r, "tree_id", true, parseID),
		TheirTips:      field(r, "their_tips", true, r.ids),
		MissingEntries: field(r, "missing_entries", true, r.blobs),
		Continuation:   r.continuation(),
	}
	return m, r.err
}

func decodeBootstrapPending(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	m := BootstrapPending{
		RequestID: field(r, "request_id", true, parseString),
		Message:   field(r, "message", true, parseString),
	}
	return m, r.err
}

func decodeEntries(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	m := EntriesResponse{
		TreeID:  field(r, "tree_id", true, parseID),
		Entries: field(r, "entries", true, r.blobs),
		Missing: field(r, "missing", true, r.ids),
	}
	return m, r.err
}
