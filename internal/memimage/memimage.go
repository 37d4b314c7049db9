package memimage

import (
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

type relKey struct {
	peer kernel.PeerID
	tree entry.ID
}

// Image is a store's content. The zero value is not ready: use New.
type Image struct {
	Blobs map[entry.ID]kernel.Blob
	Order map[entry.ID][]entry.ID // per tree, in applied order
	Roots []entry.ID              // trees, in the order their first entry was applied
	// Relations holds the latest record of each (peer, tree), in the
	// order each was first written.
	Relations []kernel.RelationRecord
	relIndex  map[relKey]int
	// NonceFloors and Approvals are the kernel's access-control records,
	// upserted and deleted as Writes say (kernel.ApplyNonceFloors,
	// kernel.ApplyApprovals).
	NonceFloors []kernel.NonceFloor
	Approvals   []kernel.ApprovalRequest
}

// New returns an empty image.
func New() Image {
	return Image{Blobs: map[entry.ID]kernel.Blob{}, Order: map[entry.ID][]entry.ID{}, relIndex: map[relKey]int{}}
}

// Apply makes w durable: its relation records replace earlier ones of the
// same (peer, tree), its entries not stored yet are appended to their
// tree. before, when not nil, is called with each such entry before it is
// added (a checker sees the store as it was). Apply returns the entries it
// added. Applying the same write twice changes nothing the second time.
func (im *Image) Apply(w kernel.Write, before func(kernel.Blob)) []kernel.Blob {
	im.NonceFloors = kernel.ApplyNonceFloors(im.NonceFloors, w.NonceFloors)
	im.Approvals = kernel.ApplyApprovals(im.Approvals, w.Approvals)
	for _, rec := range w.Relations {
		k := relKey{peer: rec.Peer, tree: rec.Tree}
		if i, ok := im.relIndex[k]; ok {
			im.Relations[i] = rec
			continue
		}
		im.relIndex[k] = len(im.Relations)
		im.Relations = append(im.Relations, rec)
	}
	var added []kernel.Blob
	for _, b := range w.Blobs {
		if im.Has(b.ID) {
			continue
		}
		if before != nil {
			before(b)
		}
		// NB: a tree is created by its first entry, not by a write naming
		// it: a write of only duplicates must not list the tree twice.
		if _, ok := im.Order[w.Tree]; !ok {
			im.Roots = append(im.Roots, w.Tree)
		}
		im.Blobs[b.ID] = b
		im.Order[w.Tree] = append(im.Order[w.Tree], b.ID)
		added = append(added, b)
	}
	return added
}

// Has reports whether id is stored.
func (im *Image) Has(id entry.ID) bool {
	_, ok := im.Blobs[id]
	return ok
}

// Read returns the stored blobs among ids, in the order asked.
func (im *Image) Read(ids []entry.ID) []kernel.Blob {
	var out []kernel.Blob
	for _, id := range ids {
		if b, ok := im.Blobs[id]; ok {
			out = append(out, b)
		}
	}
	return out
}

// State is what a restarted machine is given: every tree with its entries
// in applied order, and the latest record of every relation.
func (im *Image) State() kernel.State {
	var st kernel.State
	for _, root := range im.Roots {
		ts := kernel.TreeState{Root: root}
		for _, id := range im.Order[root] {
			ts.Entries = append(ts.Entries, kernel.IndexedOf(id, im.Blobs[id].Entry))
		}
		st.Trees = append(st.Trees, ts)
	}
	st.Relations = append([]kernel.RelationRecord(nil), im.Relations...)
	st.NonceFloors = append([]kernel.NonceFloor(nil), im.NonceFloors...)
	st.Approvals = append([]kernel.ApprovalRequest(nil), im.Approvals...)
	return st
}
