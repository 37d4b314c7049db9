package kernel

import "github.com/eidsync/eidsync/kernel/entry"

// Ready is a batch of effects, drained by Machine.Ready. Each lane is in the
// order the effects were made; there is no ordering duty across lanes. The
// slices belong to the caller; Blob data inside may be shared with other
// effects and must not be modified.
type Ready struct {
	Send    []Envelope
	Persist []Write
	Load    []Read
	Notify  []Notice
}

// Envelope is a message to send. Reply non-zero answers the inbound request
// with that ReqID; otherwise it is a request and its answer comes back as
// Received{InReplyTo: Seq} or SendFailed{Seq}. Version selects the wire
// format (EncodeMessage).
type Envelope struct {
	Seq     Seq
	To      PeerID
	Reply   ReqID
	Version uint32
	Msg     Message
}

// Write asks the store to make Blobs durable for Tree in one transaction, in
// the order given (parents before children). Answer: Persisted or
// PersistFailed with Seq.
type Write struct {
	Seq   Seq
	Tree  entry.ID
	Blobs []Blob
	// Relations are records of background-sync relations to upsert (in a
	// Write with no tree and no blobs).
	Relations []RelationRecord
	// NonceFloors are nonce-memory floors to upsert (nonces.go).
	NonceFloors []NonceFloor
	// Approvals are bootstrap-request records to upsert by ID; a record
	// with only an ID deletes that record (approval.go).
	Approvals []ApprovalRequest
}

// Read asks the store for entries of Tree by ID. Answer: Loaded or LoadFailed.
type Read struct {
	Seq  Seq
	Tree entry.ID
	IDs  []entry.ID
}

// NoticeKind says what a Notice reports.
type NoticeKind uint8

// Notice kinds.
const (
	NoticeCommitted     NoticeKind = 1 + iota // a local entry is durable (Ref, Tree, ID)
	NoticeCommitFailed                        // a local entry was refused or not stored (Ref, Err)
	NoticeSyncDone                            // a sync finished (Ref, Peer, Tree, Stats)
	NoticeSyncFailed                          // a sync stopped (Ref, Peer, Tree, Err, Stats)
	NoticeEntryRejected                       // a received entry was refused (Peer, Tree, ID, Err)
	NoticeOrphanDropped                       // an orphan's parents never came (Tree, ID)
	NoticeGaveUp                              // background sync of (Peer, Tree) stopped retrying (Err)
	NoticeFlushed                             // a Flush finished (Ref; Err lists what failed)
	NoticeDecided                             // a Decide finished (Ref, Tree; Err says why it was refused)
)

var noticeNames = [...]string{"?", "Committed", "CommitFailed", "SyncDone", "SyncFailed", "EntryRejected", "OrphanDropped", "GaveUp", "Flushed", "Decided"}

func (k NoticeKind) String() string {
	if int(k) < len(noticeNames) {
		return noticeNames[k]
	}
	return "NoticeKind(?)"
}

// Notice reports something to the embedding program.
type Notice struct {
	Kind  NoticeKind
	Ref   Ref
	Peer  PeerID
	Tree  entry.ID
	ID    entry.ID
	Err   string
	Stats SyncStats
	// Pending is the request ID a peer gave when a bootstrap of Tree
	// waits for its manual approval (NoticeSyncFailed).
	Pending string
}

// SyncStats counts one sync's work.
type SyncStats struct {
	Requests  int // requests this sync sent
	Pulled    int // entries received and stored
	Pushed    int // entries sent to the peer
	Redundant int // entries received that were already held
}
