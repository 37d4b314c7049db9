package store_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"pgregory.net/rapid"
)

// model is the store's specification in memory, as sim.MemStore, plus the
// checks Apply makes, applied to a copy so that a refused batch leaves it
// untouched.
type model struct {
	roots []entry.ID
	order map[entry.ID][]entry.ID
	blobs map[entry.ID]kernel.Blob
}

func newModel() *model {
	return &model{order: map[entry.ID][]entry.ID{}, blobs: map[entry.ID]kernel.Blob{}}
}

func (m *model) clone() *model {
	c := &model{roots: slices.Clone(m.roots), order: map[entry.ID][]entry.ID{}, blobs: map[entry.ID]kernel.Blob{}}
	for k, v := range m.order {
		c.order[k] = slices.Clone(v)
	}
	for k, v := range m.blobs {
		c.blobs[k] = v
	}
	return c
}

// apply returns the model after writes, or false if the batch is refused.
func (m *model) apply(writes []kernel.Write) (*model, bool) {
	next := m.clone()
	for _, w := range writes {
		for _, b := range w.Blobs {
			if entry.IDOf(b.Data) != b.ID || b.Entry.TreeID(b.ID) != w.Tree {
				return m, false
			}
			if _, dup := next.blobs[b.ID]; dup {
				continue
			}
			for _, p := range b.Entry.Tree.Parents {
				if _, ok := next.blobs[p]; !ok {
					return m, false
				}
			}
			if _, ok := next.order[w.Tree]; !ok {
				if b.ID != w.Tree {
					return m, false
				}
				next.roots = append(next.roots, w.Tree)
			}
			next.blobs[b.ID] = b
			next.order[w.Tree] = append(next.order[w.Tree], b.ID)
		}
	}
	return next, true
}

func (m *model) state() kernel.State {
	var st kernel.State
	for _, root := range m.roots {
		ts := kernel.TreeState{Root: root}
		for _, id := range m.order[root] {
			ts.Entries = append(ts.Entries, kernel.IndexedOf(id, m.blobs[id].Entry))
		}
		st.Trees = append(st.Trees, ts)
	}
	return st
}

// world is what the test has generated: every entry built (stored or not),
// by tree, and every batch tried, to replay.
type world struct {
	t       *rapid.T
	built   []kernel.Blob
	byTree  map[entry.ID][]kernel.Blob
	roots   []entry.ID
	batches [][]kernel.Write
	nextN   uint64
}

// child builds a new entry of tree with one or two parents drawn from
// candidates.
func (w *world) child(tree entry.ID, candidates []kernel.Blob) kernel.Blob {
	n := rapid.IntRange(1, min(2, len(candidates))).Draw(w.t, "parents")
	picks := rapid.SliceOfNDistinct(rapid.IntRange(0, len(candidates)-1), n, n, func(i int) int { return i }).Draw(w.t, "picks")
	var parents []kernel.Blob
	for _, i := range picks {
		parents = append(parents, candidates[i])
	}
	w.nextN++
	b := newChild(w.t, tree, payloadOf(w.nextN), parents...)
	w.built = append(w.built, b)
	w.byTree[tree] = append(w.byTree[tree], b)
	return b
}

// write draws one write: a new tree, more entries of a known tree, or one
// whose parents were never stored.
func (w *world) write() kernel.Write {
	kind := rapid.IntRange(0, 9).Draw(w.t, "kind")
	if kind == 0 || len(w.roots) == 0 {
		w.nextN++
		root := newRoot(w.t, w.nextN)
		w.built, w.roots = append(w.built, root), append(w.roots, root.ID)
		w.byTree[root.ID] = []kernel.Blob{root}
		blobs := []kernel.Blob{root}
		for range rapid.IntRange(0, 3).Draw(w.t, "children") {
			blobs = append(blobs, w.child(root.ID, blobs))
		}
		return kernel.Write{Tree: root.ID, Blobs: blobs}
	}
	tree := rapid.SampledFrom(w.roots).Draw(w.t, "tree")
	var blobs []kernel.Blob
	for range rapid.IntRange(1, 4).Draw(w.t, "entries") {
		// Parents come from any entry of the tree built so far, stored or
		// not: an unstored one makes the batch invalid, as a missing parent.
		blobs = append(blobs, w.child(tree, w.byTree[tree]))
	}
	if kind == 1 { // a forged blob: refused whole
		blobs[0].Data = []byte("forged")
	}
	return kernel.Write{Tree: tree, Blobs: blobs}
}

func TestModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		path := filepath.Join(t.TempDir(), "eidsync.db")
		s, err := store.Open(path, store.Options{NoSync: true})
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { _ = s.Close() }()
		m := newModel()
		w := &world{t: rt, byTree: map[entry.ID][]kernel.Blob{}}

		rt.Repeat(map[string]func(*rapid.T){
			"apply": func(rt *rapid.T) {
				var batch []kernel.Write
				for range rapid.IntRange(1, 4).Draw(rt, "writes") {
					batch = append(batch, w.write())
				}
				m = applyBoth(rt, s, m, batch)
				w.batches = append(w.batches, batch)
			},
			"replay": func(rt *rapid.T) {
				if len(w.batches) == 0 {
					rt.Skip("nothing to replay")
				}
				m = applyBoth(rt, s, m, rapid.SampledFrom(w.batches).Draw(rt, "batch"))
			},
			"reopen": func(rt *rapid.T) {
				if err := s.Close(); err != nil {
					rt.Fatal(err)
				}
				if s, err = store.Open(path, store.Options{NoSync: true}); err != nil {
					rt.Fatal(err)
				}
			},
			"read": func(rt *rapid.T) {
				pool := append(ids(w.built), entry.IDOf([]byte("never built")))
				asked := rapid.SliceOfN(rapid.SampledFrom(pool), 0, 8).Draw(rt, "ids")
				checkRead(rt, s, m, asked)
			},
			"": func(rt *rapid.T) { checkAgree(rt, s, m, w) },
		})
	})
}

// applyBoth applies batch to the store and the model and checks they agree
// on whether it was refused.
func applyBoth(rt *rapid.T, s *store.Store, m *model, batch []kernel.Write) *model {
	next, ok := m.apply(batch)
	err := s.Apply(batch)
	switch {
	case ok && err != nil:
		rt.Fatalf("store refused a valid batch: %v", err)
	case !ok && !errors.Is(err, store.ErrRefused):
		rt.Fatalf("store did not refuse an invalid batch: %v", err)
	}
	return next
}

func checkRead(rt *rapid.T, s *store.Store, m *model, asked []entry.ID) {
	got, err := s.Read(kernel.Read{IDs: asked})
	if err != nil {
		rt.Fatal(err)
	}
	var want []kernel.Blob
	for _, id := range asked {
		if b, ok := m.blobs[id]; ok {
			want = append(want, b)
		}
	}
	if !slices.EqualFunc(got, want, func(a, b kernel.Blob) bool {
		return a.ID == b.ID && bytes.Equal(a.Data, b.Data) && a.Entry != nil && slices.Equal(a.Entry.Tree.Parents, b.Entry.Tree.Parents)
	}) {
		rt.Fatalf("read %v: got %v, want %v", asked, ids(got), ids(want))
	}
}

// checkAgree compares everything observable after each action.
func checkAgree(rt *rapid.T, s *store.Store, m *model, w *world) {
	st, err := s.State()
	if err != nil || !equalState(st, m.state()) {
		rt.Fatalf("state: %v\n got %v\nwant %v", err, st, m.state())
	}
	if trees, err := s.Trees(); err != nil || !slices.Equal(trees, m.roots) {
		rt.Fatalf("trees %v, want %v (%v)", trees, m.roots, err)
	}
	for _, root := range w.roots {
		if n, err := s.Count(root); err != nil || n != len(m.order[root]) {
			rt.Fatalf("count of %s: %d, want %d (%v)", root, n, len(m.order[root]), err)
		}
	}
	for _, b := range w.built {
		_, want := m.blobs[b.ID]
		if has, err := s.Has(b.ID); err != nil || has != want {
			rt.Fatalf("has %s: %v, want %v (%v)", b.ID, has, want, err)
		}
	}
	checkRead(rt, s, m, ids(w.built))
}
