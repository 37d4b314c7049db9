package sim

import (
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"slices"
)

// MemStore is a durable store in memory: what a machine gets back after a
// restart. Writes apply atomically, in order.
type MemStore struct {
	order     map[entry.ID][]entry.ID // per tree, in persisted order
	blobs     map[entry.ID]kernel.Blob
	roots     []entry.ID // trees in creation order
	relations []kernel.RelationRecord
	floors    []kernel.NonceFloor
	approvals []kernel.ApprovalRequest
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{order: map[entry.ID][]entry.ID{}, blobs: map[entry.ID]kernel.Blob{}}
}

// Apply makes a write durable. Entries already stored are skipped, so a
// write applied twice changes nothing the second time.
func (s *MemStore) Apply(w kernel.Write) {
	s.floors = kernel.ApplyNonceFloors(s.floors, w.NonceFloors)
	s.approvals = kernel.ApplyApprovals(s.approvals, w.Approvals)
	for _, rec := range w.Relations {
		s.relations = upsertRelation(s.relations, rec)
	}
	if w.Tree.IsZero() {
		return
	}
	if _, ok := s.order[w.Tree]; !ok {
		s.roots = append(s.roots, w.Tree)
	}
	for _, b := range w.Blobs {
		if _, dup := s.blobs[b.ID]; dup {
			continue
		}
		s.blobs[b.ID] = b
		s.order[w.Tree] = append(s.order[w.Tree], b.ID)
	}
}

// Read returns the blobs asked for that the store holds, in the order asked.
func (s *MemStore) Read(r kernel.Read) []kernel.Blob {
	var out []kernel.Blob
	for _, id := range r.IDs {
		if b, ok := s.blobs[id]; ok {
			out = append(out, b)
		}
	}
	return out
}

// State is what a restarted machine is given: every tree, entries in the
// order persisted.
func (s *MemStore) State() kernel.State {
	var st kernel.State
	for _, root := range s.roots {
		ts := kernel.TreeState{Root: root}
		for _, id := range s.order[root] {
			ts.Entries = append(ts.Entries, kernel.IndexedOf(id, s.blobs[id].Entry))
		}
		st.Trees = append(st.Trees, ts)
	}
	st.Relations = append([]kernel.RelationRecord(nil), s.relations...)
	st.NonceFloors = slices.Clone(s.floors)
	st.Approvals = slices.Clone(s.approvals)
	return st
}

// upsertRelation replaces the record of the same (peer, tree), or appends.
func upsertRelation(recs []kernel.RelationRecord, rec kernel.RelationRecord) []kernel.RelationRecord {
	for i := range recs {
		if recs[i].Peer == rec.Peer && recs[i].Tree == rec.Tree {
			recs[i] = rec
			return recs
		}
	}
	return append(recs, rec)
}

// Has reports whether id is stored.
func (s *MemStore) Has(id entry.ID) bool {
	_, ok := s.blobs[id]
	return ok
}
