package kernel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eidsync/eidsync/kernel/entry"
)

func (ss *session) onSync(m *Machine, msg Message) {
	ss.asking = false
	var blobs []Blob
	switch resp := msg.(type) {
	case ErrorResponse:
		if p := m.peers[ss.key.peer]; strings.HasPrefix(resp.Message, "Authentication required") && !p.signAll {
			// Our settings of the tree are older than the peer's: from now
			// on sign every request to it, and ask again at once.
			p.signAll = true
			ss.requestSync(m)
			return
		}
		if after, ok := stampAfter(resp.Message); ok && !ss.restamped {
			// The peer restarted and our clock is behind its floor for
			// our key: stamp past it and ask again, once.
			ss.restamped = true
			m.peers[ss.key.peer].stampAfter = after
			ss.requestSync(m)
			return
		}
		if t := m.trees[ss.key.tree]; t != nil && t.dag.Len() > 0 && strings.HasPrefix(resp.Message, "Tree not found") {
			// The peer lacks the tree (or will not say it has it): offer
			// it whole. It stores a pushed root like any entry.
			ss.theirTips = []entry.ID{}
			ss.startPush(m)
			return
		}
		ss.fail(m, "peer refused: "+resp.Message)
		return
	case BootstrapPending:
		ss.pending = resp.RequestID
		ss.fail(m, fmt.Sprintf("bootstrap pending manual approval (request %s)", resp.RequestID))
		return
	case BootstrapResponse:
		if resp.TreeID != ss.key.tree || resp.RootEntry.ID != ss.key.tree {
			ss.fail(m, fmt.Sprintf("bootstrap answer is for %s, root %s, not tree %s", resp.TreeID, resp.RootEntry.ID, ss.key.tree))
			return
		}
		blobs = append([]Blob{resp.RootEntry}, resp.AllEntries...)
		ss.cont = resp.Continuation
	case IncrementalResponse:
		if resp.TreeID != ss.key.tree {
			ss.fail(m, fmt.Sprintf("incremental answer is for tree %s, not %s", resp.TreeID, ss.key.tree))
			return
		}
		blobs, ss.cont = resp.MissingEntries, resp.Continuation
		ss.theirTips = entry.SortIDs(slices.Clone(resp.TheirTips))
		m.peers[ss.key.peer].remember(ss.key.tree, ss.theirTips, m.cfg.FrontierMax)
	default:
		ss.fail(m, fmt.Sprintf("peer answered SyncTree with %T", msg))
		return
	}
	res := m.ingest(ss.key.peer, ss.key.tree, nil, blobs)
	m.countIngest(ss.key.peer, res)
	ss.stats.Pulled += res.stored
	ss.stats.Redundant += res.redundant
	if ss.progressed(blobs, res) {
		ss.stalls = 0
	} else {
		ss.stalls++
	}
	ss.noteRedundant(m, blobs, res)
	if ss.cont.More && ss.cont.Resume != nil && ss.stalls < 2 && ss.failure == "" {
		// A streamed bootstrap: ask for the next batch now, so the network
		// and the peer work while this batch goes to the store. The cursor,
		// not our tips, says where to continue.
		ss.requestSync(m)
	}
	ss.waitWrites(m, res.writes)
}

// noteRedundant counts a diff answer cut at the limits that stored
// nothing, and keeps its entries to name in the next request.
func (ss *session) noteRedundant(m *Machine, blobs []Blob, res ingestResult) {
	if !ss.cont.More || ss.cont.Resume != nil || res.stored > 0 {
		ss.redundant, ss.seen = 0, nil
		return
	}
	ss.redundant++
	for _, b := range blobs {
		ss.seen = append(ss.seen, b.ID)
	}
	ss.seen = ss.seen[max(0, len(ss.seen)-m.cfg.Wire.IDsMax):]
}

// progressed reports whether an answer moved the sync on: it stored
// something, advanced the resume cursor, or sent entries that our request
// did not name as held. Entries we had but did not name are progress too:
// a peer that cannot place our history sends them, and the next request
// names them or asks for the peer's stream (requestSync). Two answers in a
// row without progress are a peer that keeps saying "more" and gives
// nothing.
func (ss *session) progressed(blobs []Blob, res ingestResult) bool {
	if res.stored > 0 {
		return true
	}
	if r := ss.cont.Resume; r != nil {
		moved := ss.cursor == nil || *r > *ss.cursor
		ss.cursor = r
		return moved
	}
	for _, b := range blobs {
		if !slices.Contains(ss.named, b.ID) {
			return true
		}
	}
	return false
}

// waitWrites continues the session once the given writes are done.
func (ss *session) waitWrites(m *Machine, writes []Seq) {
	for _, s := range writes {
		if ss.writes == nil {
			ss.writes = map[Seq]bool{}
		}
		ss.writes[s] = true
		m.writes[s].sessions = append(m.writes[s].sessions, ss.sid)
	}
	if len(ss.writes) == 0 && !ss.asking {
		ss.afterPull(m)
	}
}

func (ss *session) writeDone(m *Machine, s Seq, failure string) {
	if !ss.writes[s] {
		return
	}
	delete(ss.writes, s)
	if failure != "" && ss.failure == "" {
		ss.failure = "storing pulled entries failed: " + failure
	}
	if len(ss.writes) == 0 && !ss.asking {
		ss.afterPull(m)
	}
}

// afterPull runs when everything pulled so far is durable: continue a cut
// answer, fetch tips we cannot place, or start pushing.
func (ss *session) afterPull(m *Machine) {
	if ss.failure != "" {
		ss.fail(m, ss.failure)
		return
	}
	if ss.cont.More {
		if ss.stalls >= 2 {
			ss.fail(m, "peer keeps answering 'more' without new entries")
			return
		}
		ss.requestSync(m)
		return
	}
	p := m.peers[ss.key.peer]
	if unplaced := ss.unplaced(m); len(unplaced) > 0 && p.version >= ProtocolV1 && !ss.fetched {
		ss.fetched = true
		for _, id := range unplaced {
			m.trees[ss.key.tree].wanted[id] = true
		}
		p.wants += len(unplaced)
		ss.request(m, p.version, GetEntries{TreeID: ss.key.tree, IDs: unplaced}, outRequest{kind: reqFetch, ids: unplaced})
		return
	}
	ss.place(m)
}

// place starts the push once every tip the peer announced is stored here.
// A tip still on its way (an orphan whose parents were asked for, or in
// flight to the store) is waited for, up to RequestTicksMax; pushing before
// would resend history the peer already has.
func (ss *session) place(m *Machine) {
	t := m.trees[ss.key.tree]
	waiting := false
	for _, id := range ss.theirTips {
		if t != nil && !t.dag.Has(id) && (t.held(id) || t.wanted[id]) {
			waiting = true
		}
	}
	if !waiting {
		ss.placingSince = 0
		ss.startPush(m)
		return
	}
	if ss.placingSince == 0 {
		ss.placingSince = max(m.nowTicks, 1)
		m.wakes.placing.lower(ss.placingSince + m.cfg.RequestTicksMax)
	}
}

// placed resumes the sessions of tree t that wait for tips to be stored.
func (m *Machine) placed(t *tree) {
	for _, sid := range sortedKeys(m.sessions) {
		if ss := m.sessions[sid]; ss != nil && ss.placingSince != 0 && ss.key.tree == t.root {
			ss.place(m)
		}
	}
}

// unplaced lists the peer's tips that we do not hold (PROTOCOL.md 11.7).
func (ss *session) unplaced(m *Machine) []entry.ID {
	t := m.trees[ss.key.tree]
	var out []entry.ID
	for _, id := range ss.theirTips {
		if t != nil && !t.held(id) && !t.wanted[id] && len(out) < m.cfg.Wire.IDsMax {
			out = append(out, id)
		}
	}
	return out
}
