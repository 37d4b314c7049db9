package kernel

import "github.com/eidsync/eidsync/kernel/entry"

// PeerID names a peer. The driver chooses it: a transport address for peers
// it dials, a transport-given label for inbound requests. The handshake
// binds it to the peer's device key.
type PeerID string

// Seq numbers the effects that need an answer (Send, Persist, Load); the
// answer comes back as an event carrying the same Seq.
type Seq uint64

// ReqID identifies an inbound request, chosen by the transport; the answer
// is the Envelope whose Reply equals it.
type ReqID uint64

// Ref is the caller's token for a local call (Committed, SyncAsked); notices
// about that call carry it back.
type Ref uint64

// Event is an input to Machine.Step. The set is sealed; an unknown variant
// panics.
type Event interface{ isEvent() }

// Tick says one tick passed. NowMs is the driver's wall clock in
// milliseconds, used only for request-auth freshness; the kernel reads no
// clock itself.
type Tick struct{ NowMs int64 }

// Received delivers a message. For an inbound request Req is non-zero and the
// machine answers with exactly one Envelope whose Reply is Req. For a
// response InReplyTo is the Seq of the Envelope it answers. Version is the
// wire version the transport decoded (DecodeRequest's result).
type Received struct {
	From      PeerID
	Req       ReqID
	InReplyTo Seq
	Version   uint32
	Msg       Message
}

// SendFailed says the request sent as Seq got no answer (refused, timed out,
// connection lost). Whether the peer acted on it is unknown.
type SendFailed struct {
	Seq    Seq
	Reason string
}

// Persisted says the Write with this Seq is durable.
type Persisted struct{ Seq Seq }

// PersistFailed says the Write with this Seq was not applied at all.
type PersistFailed struct {
	Seq    Seq
	Reason string
}

// Loaded answers the Read with this Seq: the blobs asked for, in the order
// asked. An ID the store lacks is left out.
type Loaded struct {
	Seq   Seq
	Blobs []Blob
}

// LoadFailed says the Read with this Seq could not be served.
type LoadFailed struct {
	Seq    Seq
	Reason string
}

// Committed hands the machine a locally written entry (a new root creates a
// tree). A NoticeCommitted with Ref follows once it is durable.
type Committed struct {
	Ref  Ref
	Blob Blob
}

// SyncAsked asks for one sync of Tree with Peer in both directions. A
// NoticeSyncDone or NoticeSyncFailed with Ref follows.
type SyncAsked struct {
	Ref  Ref
	Peer PeerID
	Tree entry.ID
	// Access, when set, asks the peer to approve this node's key for that
	// permission, under the name AccessName, if a bootstrap is refused
	// (PROTOCOL.md 4.2 case 1); the notice then carries the request ID.
	Access     *Permission
	AccessName string
}

// FlushAsked asks for every pending background push to run now. A
// NoticeFlushed with Ref follows when each has been delivered or has failed.
type FlushAsked struct{ Ref Ref }

func (FlushAsked) isEvent()    {}
func (Tick) isEvent()          {}
func (Received) isEvent()      {}
func (SendFailed) isEvent()    {}
func (Persisted) isEvent()     {}
func (PersistFailed) isEvent() {}
func (Loaded) isEvent()        {}
func (LoadFailed) isEvent()    {}
func (Committed) isEvent()     {}
func (SyncAsked) isEvent()     {}
