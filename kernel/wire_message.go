package kernel

import (
	"encoding/json"

	"github.com/eidsync/eidsync/kernel/entry"
)

// byteVecMax bounds challenge, challenge_response, new_challenge, nonce and
// signature; the reference sends 32, 64 (a signature), 32, 32 and 64 bytes.
const byteVecMax = 64

// wireReader reads the members of one JSON object (a message body or a nested
// struct) and keeps the first error, with the path of its field.
type wireReader struct {
	obj jsonObject
	lim *WireLimits
	err error
}

func newReader(body json.RawMessage, lim *WireLimits) (*wireReader, error) {
	if lim.validJSON {
		if obj, ok := splitValidObject(trimSpace(body)); ok {
			return &wireReader{obj: obj, lim: lim}, nil
		}
	}
	obj, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	return &wireReader{obj: obj, lim: lim}, nil
}

func (r *wireReader) fail(name string, err error) {
	if r.err == nil {
		r.err = atPath(name, err)
	}
}

// value returns a member's raw JSON, or nil when it is absent or null, which
// an Option member may be and a required member may not.
func (r *wireReader) value(name string, required bool) json.RawMessage {
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
func (r *wireReader) present(name string) bool {
	raw, ok := r.obj.members[name]
	return ok && !isNull(raw)
}

// member reads one member with parse; absent or null Options give the zero T.
func member[T any](r *wireReader, name string, required bool, parse func(json.RawMessage) (T, error)) T {
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

// option turns a parser of T into a parser of Option<T>.
func option[T any](parse func(json.RawMessage) (T, error)) func(json.RawMessage) (*T, error) {
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

func (r *wireReader) ids(raw json.RawMessage) ([]entry.ID, error) { return parseIDs(raw, r.lim.IDsMax) }

func (r *wireReader) blob(raw json.RawMessage) (Blob, error) {
	return parseBlob(raw, r.lim.Entry, r.lim.DeferSignatures)
}

func (r *wireReader) blobs(raw json.RawMessage) ([]Blob, error) { return parseBlobs(raw, r.lim) }

func (r *wireReader) doc(raw json.RawMessage) ([]byte, error) {
	return parseDoc(raw, r.lim.MetadataBytesMax)
}

// sameKey checks the reference's duplicated identity: device_id must equal
// public_key.
func (r *wireReader) sameKey(device, public entry.PublicKey) {
	if r.err == nil && device != public {
		r.fail("device_id", malformedf("differs from public_key; both must hold the same key"))
	}
}

func (r *wireReader) addresses(raw json.RawMessage) ([]Address, error) {
	var out []Address
	err := eachElement(raw, r.lim.IDsMax, func(elem json.RawMessage) error {
		ar, err := newReader(elem, r.lim)
		if err != nil {
			return err
		}
		out = append(out, Address{
			TransportType: member(ar, "transport_type", true, parseString),
			Address:       member(ar, "address", true, parseString),
		})
		return ar.err
	})
	return out, err
}

func (r *wireReader) trees(raw json.RawMessage) ([]TreeInfo, error) {
	var out []TreeInfo
	err := eachElement(raw, r.lim.EntriesMax, func(elem json.RawMessage) error {
		tr, err := newReader(elem, r.lim)
		if err != nil {
			return err
		}
		out = append(out, TreeInfo{
			TreeID:       member(tr, "tree_id", true, parseID),
			Name:         member(tr, "name", false, option(parseString)),
			EntryCount:   member(tr, "entry_count", true, parseU64),
			LastModified: member(tr, "last_modified", true, parseU64),
		})
		return tr.err
	})
	return out, err
}

func (r *wireReader) auth(raw json.RawMessage) (RequestAuth, error) {
	ar, err := newReader(raw, r.lim)
	if err != nil {
		return RequestAuth{}, err
	}
	a := RequestAuth{
		Key:         member(ar, "key", true, parseKey),
		TimestampMs: member(ar, "timestamp_ms", true, parseU64),
		Nonce:       member(ar, "nonce", true, parseByteVec),
		Signature:   member(ar, "signature", true, parseByteVec),
	}
	return a, ar.err
}

func (r *wireReader) continuation() Continuation {
	return Continuation{
		More:   member(r, "more", false, parseBool),
		Resume: member(r, "resume", false, option(parseU64)),
	}
}

func decodeHandshake(body json.RawMessage, lim *WireLimits) (Message, uint32, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, 0, err
	}
	device := member(r, "device_id", true, parseKey)
	m := Handshake{
		PublicKey:       member(r, "public_key", true, parseKey),
		DisplayName:     member(r, "display_name", false, option(parseString)),
		ProtocolVersion: member(r, "protocol_version", true, parseU32),
		Challenge:       member(r, "challenge", true, parseByteVec),
		ListenAddresses: member(r, "listen_addresses", true, r.addresses),
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
		TreeID:              member(r, "tree_id", true, parseID),
		OurTips:             member(r, "our_tips", true, r.ids),
		PeerPubkey:          member(r, "peer_pubkey", false, parseKey),
		RequestingKey:       member(r, "requesting_key", false, parseKey),
		RequestingKeyName:   member(r, "requesting_key_name", false, option(parseString)),
		RequestedPermission: member(r, "requested_permission", false, option(parsePermission)),
		Metadata:            member(r, "metadata", false, r.doc),
		Auth:                member(r, "auth", false, option(r.auth)),
		Have:                member(r, "have", false, r.ids),
		Resume:              member(r, "resume", false, option(parseU64)),
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
		TreeID: member(r, "tree_id", true, parseID),
		IDs:    member(r, "ids", true, r.ids),
		Auth:   member(r, "auth", false, option(r.auth)),
	}
	return m, ProtocolV1, r.err
}

// decodePushEntries reads v1's authenticated push, whose auth is required.
func decodePushEntries(body json.RawMessage, lim *WireLimits) (Message, uint32, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, 0, err
	}
	m := SendEntries{
		TreeID:  member(r, "tree_id", true, parseID),
		Entries: member(r, "entries", true, r.blobs),
		Auth:    new(member(r, "auth", true, r.auth)),
	}
	return m, ProtocolV1, r.err
}

func decodeHandshakeResponse(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	device := member(r, "device_id", true, parseKey)
	m := HandshakeResponse{
		PublicKey:         member(r, "public_key", true, parseKey),
		DisplayName:       member(r, "display_name", false, option(parseString)),
		ProtocolVersion:   member(r, "protocol_version", true, parseU32),
		ChallengeResponse: member(r, "challenge_response", true, parseByteVec),
		NewChallenge:      member(r, "new_challenge", true, parseByteVec),
		AvailableTrees:    member(r, "available_trees", true, r.trees),
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
		TreeID:            member(r, "tree_id", true, parseID),
		RootEntry:         member(r, "root_entry", true, r.blob),
		AllEntries:        member(r, "all_entries", true, r.blobs),
		KeyApproved:       member(r, "key_approved", true, parseBool),
		GrantedPermission: member(r, "granted_permission", false, option(parsePermission)),
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
		TreeID:         member(r, "tree_id", true, parseID),
		TheirTips:      member(r, "their_tips", true, r.ids),
		MissingEntries: member(r, "missing_entries", true, r.blobs),
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
		RequestID: member(r, "request_id", true, parseString),
		Message:   member(r, "message", true, parseString),
	}
	return m, r.err
}

func decodeEntries(body json.RawMessage, lim *WireLimits) (Message, error) {
	r, err := newReader(body, lim)
	if err != nil {
		return nil, err
	}
	m := EntriesResponse{
		TreeID:  member(r, "tree_id", true, parseID),
		Entries: member(r, "entries", true, r.blobs),
		Missing: member(r, "missing", true, r.ids),
	}
	return m, r.err
}
