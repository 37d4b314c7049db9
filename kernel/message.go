package kernel

import (
	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Protocol versions negotiated in the handshake (PROTOCOL.md 2.6). Version 0
// is the reference's wire format; version 1 adds this project's extensions
// (GetEntries, have-sets, continuation), which are never sent to a v0 peer.
const (
	ProtocolV0 uint32 = 0
	ProtocolV1 uint32 = 1
)

// Message is a wire message: a request (Handshake, SyncTree, SendEntries,
// GetEntries) or a response. The set is sealed; wire.go encodes each one.
type Message interface{ isMessage() }

// Blob is an entry as it travels and is stored: its ID, its canonical
// DAG-CBOR bytes and the decoded entry. The kernel trusts only Data: a Blob
// not made by this package's decoders is decoded and verified again on ingest.
// A Blob is read-only once made; its slices may be shared between effects.
type Blob struct {
	ID    entry.ID
	Data  []byte
	Entry *entry.Entry

	// verified is set only by this package after the hash, the structure and
	// the signature were checked, so that ingest does not redo the work.
	verified bool
	// sealed is what Seal made, for commit to take without decoding Data
	// again or checking the signature it just made (commit.go).
	sealed *sealedEntry
}

// Address is a transport address as the reference writes it.
type Address struct {
	TransportType string `json:"transport_type"`
	Address       string `json:"address"`
}

// PermissionLevel is Read, Write or Admin (PROTOCOL.md 1.7).
type PermissionLevel = access.Level

// Permission levels, weakest first.
const (
	PermRead  = access.Read
	PermWrite = access.Write
	PermAdmin = access.Admin
)

// Permission is Read, Write(priority) or Admin(priority); a lower priority
// number is more power (package access orders them).
type Permission = access.Permission

// RequestAuth is the reference's SyncRequestAuth (PROTOCOL.md 2.3).
type RequestAuth struct {
	Key         entry.PublicKey
	TimestampMs uint64
	Nonce       []byte
	Signature   []byte

	checked *signatureCheck // CheckRequestAuth's, if it verified (precheck.go)
}

// Handshake opens a conversation: identities, protocol version, a challenge.
type Handshake struct {
	PublicKey       entry.PublicKey // sent twice, as device_id and public_key
	DisplayName     *string
	ProtocolVersion uint32
	Challenge       []byte
	ListenAddresses []Address
}

// SyncTree asks for what the sender lacks of a tree. Empty OurTips asks for a
// bootstrap (the whole tree).
type SyncTree struct {
	TreeID              entry.ID
	OurTips             []entry.ID
	PeerPubkey          entry.PublicKey // zero: null
	RequestingKey       entry.PublicKey // zero: null
	RequestingKeyName   *string
	RequestedPermission *Permission
	Metadata            []byte // raw JSON Doc, nil: null
	Auth                *RequestAuth

	// Have lists more entries the sender holds (v1): the tips it remembers
	// from its last sync with this peer, or a frontier sample on first
	// contact, so that the responder can place the sender's history.
	Have []entry.ID
	// Resume continues a bootstrap at this cursor of the responder (v1).
	Resume *uint64
}

// SendEntries pushes entries, possibly of several trees. A v1 push carries
// Auth, proving the pusher's key for the write gate; it then names the one
// tree all its entries belong to and travels as the v1 variant PushEntries.
type SendEntries struct {
	Entries []Blob
	TreeID  entry.ID     // v1, with Auth
	Auth    *RequestAuth // v1
}

// GetEntries asks for entries by ID (v1), to fill gaps such as the missing
// parents of an orphan or tips the asker cannot place (PROTOCOL.md 11.7).
type GetEntries struct {
	TreeID entry.ID
	IDs    []entry.ID
	Auth   *RequestAuth // needed for a tree that is not world-readable
}

// HandshakeResponse answers a Handshake.
type HandshakeResponse struct {
	PublicKey         entry.PublicKey
	DisplayName       *string
	ProtocolVersion   uint32
	ChallengeResponse []byte
	NewChallenge      []byte
	AvailableTrees    []TreeInfo

	checked *signatureCheck // CheckReply's, if it verified (precheck.go)
}

// TreeInfo describes a tree in a HandshakeResponse.
type TreeInfo struct {
	TreeID       entry.ID
	Name         *string
	EntryCount   uint64
	LastModified uint64
}

// BootstrapResponse carries a whole tree, or its first part when More is set
// (v1): the root separately, then the other entries in topological order.
type BootstrapResponse struct {
	TreeID            entry.ID
	RootEntry         Blob
	AllEntries        []Blob
	KeyApproved       bool
	GrantedPermission *Permission
	Continuation
}

// IncrementalResponse carries the entries the asker lacks, in topological
// order, and the responder's tips before any push-back.
type IncrementalResponse struct {
	TreeID         entry.ID
	TheirTips      []entry.ID
	MissingEntries []Blob
	Continuation
}

// Continuation marks a response cut at MessageBytesMax (v1): More says that
// more entries follow, and Resume, when set, is the cursor to send back.
type Continuation struct {
	More   bool
	Resume *uint64
}

// BootstrapPending says a bootstrap waits for manual approval.
type BootstrapPending struct {
	RequestID string
	Message   string
}

// Ack answers a SendEntries of at most one entry.
type Ack struct{}

// Count answers a SendEntries of more than one entry: how many were stored
// (duplicates count as stored).
type Count struct{ N uint64 }

// ErrorResponse is the reference's Error(string) response.
type ErrorResponse struct{ Message string }

// EntriesResponse answers GetEntries (v1) with the entries found, in
// topological order, and the IDs the responder does not have.
type EntriesResponse struct {
	TreeID  entry.ID
	Entries []Blob
	Missing []entry.ID
}

func (Handshake) isMessage()           {}
func (SyncTree) isMessage()            {}
func (SendEntries) isMessage()         {}
func (GetEntries) isMessage()          {}
func (HandshakeResponse) isMessage()   {}
func (BootstrapResponse) isMessage()   {}
func (IncrementalResponse) isMessage() {}
func (BootstrapPending) isMessage()    {}
func (Ack) isMessage()                 {}
func (Count) isMessage()               {}
func (ErrorResponse) isMessage()       {}
func (EntriesResponse) isMessage()     {}

// IsRequest reports whether m is a request rather than a response.
func IsRequest(m Message) bool {
	switch m.(type) {
	case Handshake, SyncTree, SendEntries, GetEntries:
		return true
	}
	return false
}
