package kernel

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// readKind says what a Load is for.
type readKind uint8

const (
	readServeSync readKind = 1 + iota // answer a SyncTree
	readServeGet                      // answer a GetEntries
	readPush                          // push entries to a peer in a session
)

// pendingRead is a Load not yet answered, with what to do with the result.
type pendingRead struct {
	kind readKind
	tree entry.ID
	ids  []entry.ID

	// Serving: the request to answer.
	req       ReqID
	to        PeerID
	version   uint32
	bootstrap bool       // answer with a BootstrapResponse
	tips      []entry.ID // our tips when the diff was made
	more      bool       // the diff was cut at EntriesMax
	// rangeStart is set when the answer streams nodes in insertion order
	// from this cursor; the next cursor is rangeStart + entries sent.
	rangeStart *dag.Node
	missing    []entry.ID  // GetEntries: IDs we do not have
	granted    *Permission // a bootstrap of a private tree: what the asker's key holds

	session uint64 // readPush
}

func (m *Machine) load(r *pendingRead) {
	if len(r.ids) == 0 {
		m.readDone(r, nil, "") // nothing to read: answer now
		return
	}
	s := m.nextSeq()
	m.reads[s] = r
	m.ready.Load = append(m.ready.Load, Read{Seq: s, Tree: r.tree, IDs: r.ids})
}

// loaded completes a Load. The blobs must be the IDs asked, in order, each
// hashing to its ID: the store is trusted to be ours, not to be uncorrupted.
func (m *Machine) loaded(s Seq, blobs []Blob, failure string) error {
	r, ok := m.reads[s]
	if !ok {
		return fmt.Errorf("%w: read %d", ErrUnknownSeq, s)
	}
	delete(m.reads, s)
	if failure == "" {
		failure = checkLoaded(r.ids, blobs)
	}
	m.readDone(r, blobs, failure)
	return nil
}

// readDone hands a finished read to what asked for it.
func (m *Machine) readDone(r *pendingRead, blobs []Blob, failure string) {
	switch r.kind {
	case readServeSync:
		m.answerSync(r, blobs, failure)
	case readServeGet:
		m.answerGet(r, blobs, failure)
	case readPush:
		if ss := m.sessions[r.session]; ss != nil {
			ss.loadedPush(m, blobs, failure)
		}
	}
}

func checkLoaded(ids []entry.ID, blobs []Blob) string {
	if len(blobs) != len(ids) {
		return fmt.Sprintf("store returned %d of %d entries", len(blobs), len(ids))
	}
	for i, b := range blobs {
		if b.ID != ids[i] || b.Entry == nil || !b.ID.IsIDOf(b.Data) {
			return fmt.Sprintf("store returned a corrupt or unexpected entry for %s", ids[i])
		}
	}
	return ""
}

// fit returns how many of blobs fit in budget bytes of v0 JSON (at least
// one: Config.Validate makes any entry fit an empty message).
func fit(version uint32, blobs []Blob, budget int) int {
	used := 0
	for i, b := range blobs {
		used += blobJSONSize(version, b) + 1
		if used > budget && i > 0 {
			return i
		}
	}
	return len(blobs)
}

// budget is the room for entries in a message that also carries ids.
func (m *Machine) budget(ids int) int {
	return m.cfg.Wire.MessageBytesMax - envelopeBytesMax - ids*idJSONBytesMax
}

// idJSONBytesMax bounds one ID in a JSON list: quotes, comma and 59 to ~80
// characters of base32.
const idJSONBytesMax = 96

func (m *Machine) answerSync(r *pendingRead, blobs []Blob, failure string) {
	if failure != "" {
		m.reply(r.to, r.req, r.version, ErrorResponse{Message: "Storage failure: " + failure})
		return
	}
	n := fit(r.version, blobs, m.budget(len(r.tips)))
	cont := Continuation{More: r.more || n < len(blobs)}
	if t := m.trees[r.tree]; t != nil && r.rangeStart != nil {
		t.streamed(n, len(blobs), r.more)
	}
	if r.rangeStart != nil && cont.More {
		next := uint64(*r.rangeStart) + uint64(n)
		cont.Resume = &next
	}
	if r.version < ProtocolV1 {
		cont = Continuation{} // a v0 peer syncs again and continues from its new tips
	}
	if p := m.peers[r.to]; p != nil {
		p.stats.EntriesOut += n
		for _, b := range blobs[:n] {
			p.stats.BytesOut += len(b.Data)
		}
	}
	if r.bootstrap {
		m.reply(r.to, r.req, r.version, BootstrapResponse{TreeID: r.tree, RootEntry: blobs[0], AllEntries: blobs[1:n],
			KeyApproved: r.granted != nil, GrantedPermission: r.granted, Continuation: cont})
		return
	}
	m.reply(r.to, r.req, r.version, IncrementalResponse{TreeID: r.tree, TheirTips: r.tips, MissingEntries: blobs[:n], Continuation: cont})
}

func (m *Machine) answerGet(r *pendingRead, blobs []Blob, failure string) {
	if failure != "" {
		m.reply(r.to, r.req, r.version, ErrorResponse{Message: "Storage failure: " + failure})
		return
	}
	n := fit(r.version, blobs, m.budget(len(r.missing)))
	m.reply(r.to, r.req, r.version, EntriesResponse{TreeID: r.tree, Entries: blobs[:n], Missing: r.missing})
}

// streamLoadFirst is what the first streamed answer of a tree loads: about
// what a default message holds of entries of a few hundred bytes.
const streamLoadFirst = 4096

// streamLimit is how many entries a streamed answer loads.
func (t *tree) streamLimit() int {
	if t.streamLoad == 0 {
		return streamLoadFirst
	}
	return t.streamLoad
}

// streamed sizes the next streamed load from this one: n of loaded entries
// fitted the message. When the message was full the next load is n and a
// quarter (entries vary in size); when all fitted and more remained the load
// was too small and doubles. An answer stays a prefix of the stream with a
// resume cursor; at worst, after a run of larger entries, it carries fewer
// entries than would fit, and the next load is larger.
func (t *tree) streamed(n, loaded int, more bool) {
	switch {
	case n < loaded:
		t.streamLoad = n + n/4 + 1
	case more:
		t.streamLoad = 2 * loaded
	}
}

// sortTopological orders nodes by (depth, node): parents first.
func sortTopological(d *dag.DAG, nodes []dag.Node) {
	slices.SortFunc(nodes, func(a, b dag.Node) int {
		return cmp.Or(cmp.Compare(d.Depth(a), d.Depth(b)), cmp.Compare(a, b))
	})
}

// dedupNodes removes adjacent duplicates of a sorted list.
func dedupNodes(nodes []dag.Node) []dag.Node { return slices.Compact(nodes) }
