package kernel

import (
	"slices"

	"github.com/eidsync/eidsync/kernel/entry"
)

// wantMissing asks peer from, when it speaks v1, for the parents that
// orphans are waiting for and that nothing else will bring: not stored, not
// in flight, not orphans themselves, not already asked for. At most
// WantsInflightMax IDs are outstanding per peer; the rest are asked for when
// answers free room, or expire with their orphans.
func (m *Machine) wantMissing(from PeerID) {
	p := m.peers[from]
	if p == nil || !p.handshaken || p.version < ProtocolV1 {
		return
	}
	for _, treeID := range sortedIDs(m.trees) {
		t := m.trees[treeID]
		room := m.cfg.WantsInflightMax - p.wants
		if room <= 0 {
			return
		}
		ids := t.unheldWaits(min(room, m.cfg.Wire.IDsMax), from)
		if len(ids) == 0 {
			continue
		}
		for _, id := range ids {
			t.wanted[id] = true
		}
		p.wants += len(ids)
		m.send(from, p.version, GetEntries{TreeID: treeID, IDs: ids}, outRequest{kind: reqFetch, tree: treeID, ids: ids})
	}
}

// unheldWaits lists, in ID order, up to n IDs that orphans wait for and that
// are neither held, nor already wanted, nor denied by peer.
func (t *tree) unheldWaits(n int, peer PeerID) []entry.ID {
	var ids []entry.ID
	for id := range t.waiters {
		if !t.held(id) && !t.wanted[id] && !slices.Contains(t.denied[id], peer) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, entry.ID.Compare)
	return ids[:min(n, len(ids))]
}

// fetched handles the answer to a GetEntries sent for orphans or for tips
// that could not be placed.
func (m *Machine) fetched(r *outRequest, resp EntriesResponse) ingestResult {
	t := m.trees[r.tree]
	asked := make(map[entry.ID]bool, len(r.ids))
	for _, id := range r.ids {
		asked[id] = true
	}
	m.unwant(r)
	if t == nil || resp.TreeID != r.tree {
		return ingestResult{}
	}
	for _, id := range resp.Missing {
		if asked[id] && len(t.waiters[id]) > 0 && !slices.Contains(t.denied[id], r.to) {
			if t.denied == nil {
				t.denied = map[entry.ID][]PeerID{}
			}
			t.denied[id] = append(t.denied[id], r.to)
		}
	}
	return m.ingest(r.to, r.tree, asked, resp.Entries)
}

// unwant releases the wants of a finished or failed GetEntries.
func (m *Machine) unwant(r *outRequest) {
	if t := m.trees[r.tree]; t != nil {
		for _, id := range r.ids {
			delete(t.wanted, id)
		}
	}
	if p := m.peers[r.to]; p != nil {
		p.wants -= len(r.ids)
		if p.wants < 0 {
			panic("kernel: assertion failed: negative wants")
		}
	}
}
