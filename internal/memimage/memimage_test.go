package memimage_test

import (
	"slices"
	"testing"

	"github.com/eidsync/eidsync/internal/memimage"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"github.com/eidsync/eidsync/sim"
)

func TestApplyAndState(t *testing.T) {
	chain, err := sim.NewQuietEnv().Chain("t1", "e", 4, 8)
	if err != nil {
		t.Fatal(err)
	}
	tree := chain[0].ID
	im := memimage.New()
	// A write naming the tree with no entry creates no tree.
	if added := im.Apply(kernel.Write{Tree: tree}, nil); added != nil || len(im.State().Trees) != 0 {
		t.Fatalf("empty write: added %v, state %+v", added, im.State())
	}
	var seen []kernel.Blob
	added := im.Apply(kernel.Write{Tree: tree, Blobs: chain[:3]}, func(b kernel.Blob) {
		if im.Has(b.ID) {
			t.Errorf("before(%s) called after the entry was added", b.ID)
		}
		seen = append(seen, b)
	})
	if len(added) != 3 || len(seen) != 3 {
		t.Fatalf("added %d, before saw %d, want 3", len(added), len(seen))
	}
	// Again with one more: only the new one is added; the tree is listed once.
	if added := im.Apply(kernel.Write{Tree: tree, Blobs: chain[1:4]}, nil); len(added) != 1 || added[0].ID != chain[3].ID {
		t.Fatalf("second apply added %v", added)
	}
	recA := kernel.RelationRecord{Peer: "a", Tree: tree, Dirty: true}
	recB := kernel.RelationRecord{Peer: "b", Tree: tree}
	im.Apply(kernel.Write{Relations: []kernel.RelationRecord{recA, recB}}, nil)
	recA.Dirty, recA.Attempts = false, 2
	im.Apply(kernel.Write{Relations: []kernel.RelationRecord{recA}}, nil)

	st := im.State()
	if len(st.Trees) != 1 || st.Trees[0].Root != tree || len(st.Trees[0].Entries) != 4 {
		t.Fatalf("trees %+v", st.Trees)
	}
	for i, e := range st.Trees[0].Entries {
		if e.ID != chain[i].ID || !slices.Equal(e.Parents, chain[i].Entry.Tree.Parents) {
			t.Fatalf("entry %d: %+v, want %s in applied order", i, e, chain[i].ID)
		}
	}
	if !slices.Equal(st.Relations, []kernel.RelationRecord{recA, recB}) {
		t.Fatalf("relations %+v: want the latest of each, in first-written order", st.Relations)
	}
	if got := im.Read([]entry.ID{chain[2].ID, chain[0].ID}); len(got) != 2 || got[0].ID != chain[2].ID {
		t.Fatalf("read %v", got)
	}
}
