package sim

import (
	"cmp"
	"maps"
	"slices"

	"github.com/eidsync/eidsync/kernel"
)

// relWatch is what checkRelationsKept knows of one store: it lives with
// the disk because it must outlast the machine.
type relWatch struct {
	// submitted counts the writes the store was given, across restarts;
	// pendingWrite.ord numbers them.
	submitted int
	// seen maps each relation the current machine showed in Status to
	// the writes submitted by the step it was first seen after. The
	// kernel writes a relation's record in the step that creates it, so
	// the record is among those writes.
	seen map[relKey]int
	// bad are relations whose latest record write failed: the kernel
	// does not rewrite a record on PersistFailed, so it may be absent.
	bad map[relKey]bool
	// through is the last crash's count of writes that had all completed
	// (applied or failed) before it: writes after it may have been lost.
	through int
}

// crashed notes, before the writes in flight are settled, how many writes
// completed before the crash.
func (r *relWatch) crashed(d *disk) {
	r.through = r.submitted
	if len(d.pending) > 0 {
		r.through = d.pending[0].ord - 1 // pending is in submission order
	}
}

func (r *relWatch) failed(recs []kernel.RelationRecord) {
	for _, rec := range recs {
		if r.bad == nil {
			r.bad = map[relKey]bool{}
		}
		r.bad[relKey{peer: rec.Peer, tree: rec.Tree}] = true
	}
}

func (r *relWatch) applied(recs []kernel.RelationRecord) {
	for _, rec := range recs {
		delete(r.bad, relKey{peer: rec.Peer, tree: rec.Tree})
	}
}

// observeRelations notes the relations a machine shows, when the Status
// checkers look (see stepInfo.wantsStatus).
func observeRelations(w *world, s *stepInfo) {
	n := s.n
	if n.state != stUp || !s.wantsStatus() {
		return
	}
	r := &n.disk.rel
	for _, p := range s.status().Peers {
		for _, rs := range p.Relations {
			key := relKey{peer: p.Peer, tree: rs.Tree}
			if _, ok := r.seen[key]; !ok {
				if r.seen == nil {
					r.seen = map[relKey]int{}
				}
				r.seen[key] = r.submitted
			}
		}
	}
}

// checkRelationsKept (4): a relation is durable state (kernel
// RelationRecord: it survives restarts, with its pushes still due and its
// retries still counted). At every boot, each relation the last machine
// showed must have its record in the store, unless a write issued before
// it was seen was still in flight at the crash (and so may be lost), or
// its record write failed. A restart that forgot a relation would forget
// the local commits it still had to push. A wipe, lost fsync or stale
// restore (disk.rollback) drops records by design and clears what is
// judged.
func checkRelationsKept(w *world, n *node) {
	r := &n.disk.rel
	defer func() { r.seen = nil }() // what the new machine shows is judged at its crash
	if n.state != stUp {
		return
	}
	stored := map[relKey]bool{}
	for _, rec := range n.disk.im.Relations {
		stored[relKey{peer: rec.Peer, tree: rec.Tree}] = true
	}
	keys := slices.SortedFunc(maps.Keys(r.seen), func(a, b relKey) int {
		return cmp.Or(cmp.Compare(a.peer, b.peer), a.tree.Compare(b.tree))
	})
	judged := 0
	for _, key := range keys {
		if r.seen[key] > r.through || r.bad[key] {
			continue
		}
		if !stored[key] {
			w.failf(chkRelations, n, "relation %s %s was shown before the crash and its writes completed, but the restart has no record of it",
				key.peer, w.tr.namer(key.tree))
			return
		}
		judged++
	}
	if judged > 0 {
		w.mark(MarkRelationKept)
	}
}
