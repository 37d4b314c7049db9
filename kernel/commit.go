package kernel

import (
	"fmt"
	"strings"

	"github.com/eidsync/eidsync/kernel/entry"
)

// committed takes a local entry. A root creates its tree. Every parent must
// be stored or on its way to the store (in flight, or a local commit itself
// waiting); an entry whose parents are on their way waits for them, so a
// writer may commit a chain without waiting for each Persisted, and the
// chain is written in one batch. A refused commit changes nothing.
func (m *Machine) committed(ev Committed) error {
	b, err := checkBlob(ev.Blob, m.cfg.Wire.Entry, m.keys.Verify)
	if err != nil {
		return err
	}
	treeID := b.Entry.TreeID(b.ID)
	t := m.trees[treeID]
	if t == nil && !b.Entry.IsRoot() {
		return fmt.Errorf("%w: %s: tree %s not found", ErrInvalidEntry, b.ID, treeID)
	}
	if t != nil && t.held(b.ID) {
		return m.recommitted(t, ev.Ref, b.ID)
	}
	var waitFor []entry.ID
	for _, p := range b.Entry.Tree.Parents {
		switch {
		case t.dag.Has(p):
		case t.onItsWay(p):
			waitFor = append(waitFor, p)
		default:
			return fmt.Errorf("%w: %s: parent %s is not stored", ErrInvalidEntry, b.ID, p)
		}
	}
	if t == nil {
		if len(m.trees) >= m.cfg.TreesMax {
			return fmt.Errorf("%w: TreesMax %d", ErrLimit, m.cfg.TreesMax)
		}
		t = m.newTree(treeID)
		m.trees[treeID] = t
	}
	lr := localRef{ref: ev.Ref, id: b.ID}
	if len(waitFor) == 0 {
		m.write(t, []Blob{b}, []localRef{lr})
		return nil
	}
	// NB: local commits waiting for their parents' writes do not count
	// against OrphansMax, which bounds what peers can make us hold: the
	// local writer is bounded by its own calls (AppendMany batches them).
	t.orphans[b.ID] = &orphan{blob: b, since: m.nowTicks, local: &lr}
	t.localOrphans++
	for _, p := range waitFor {
		t.waiters[p] = append(t.waiters[p], b.ID)
	}
	return nil
}

// onItsWay reports whether id is in flight to the store or a local commit
// waiting for its own parents: either way it will be stored unless the
// store fails.
func (t *tree) onItsWay(id entry.ID) bool {
	if _, ok := t.inflight[id]; ok {
		return true
	}
	o, ok := t.orphans[id]
	return ok && o.local != nil
}

// recommitted answers a commit of an entry already held: durable now, or
// when its write completes.
func (m *Machine) recommitted(t *tree, ref Ref, id entry.ID) error {
	if t.dag.Has(id) {
		m.commitNotice(localRef{ref: ref, id: id}, t.root, "")
		return nil
	}
	if s, ok := t.inflight[id]; ok {
		w := m.writes[s]
		w.refs = append(w.refs, localRef{ref: ref, id: id})
		return nil
	}
	return fmt.Errorf("%w: %s is already waiting for its parents", ErrInvalidEntry, id)
}

func (m *Machine) commitNotice(lr localRef, tree entry.ID, failure string) {
	n := Notice{Kind: NoticeCommitted, Ref: lr.ref, Tree: tree, ID: lr.id}
	if failure != "" {
		n.Kind, n.Err = NoticeCommitFailed, failure
		if !strings.HasPrefix(failure, "store: ") {
			n.Err = "store: " + failure
		}
	} else {
		m.committedLocally(tree)
	}
	m.notify(n)
}

// Seal signs e in place with key, encodes it and returns it as the Blob of
// a Committed event. The machine then does not check the signature again:
// this process just made it with key, and a second check would double the
// cost of a local commit. The structure, hash and limits are still checked
// on commit. e's key hint must name key's public half.
func Seal(e *entry.Entry, key entry.PrivateKey) (Blob, error) {
	if e.Sig.Key.Delegated || e.Sig.Key.Hint.PubKey != key.Public() {
		return Blob{}, fmt.Errorf("%w: Seal needs an entry whose key hint names the signing key", ErrInvalidEntry)
	}
	if err := entry.Sign(e, key); err != nil {
		return Blob{}, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	data, id, err := entry.Encode(e)
	if err != nil {
		return Blob{}, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	return Blob{ID: id, Data: data, Entry: e, sealed: &sealedEntry{id: id, entry: e.Clone()}}, nil
}

// sealedEntry is Seal's record of a blob: the ID of the Data it encoded
// and its own copy of the entry, which the caller cannot change.
type sealedEntry struct {
	id    entry.ID
	entry *entry.Entry
}

// unsealed returns b checked as Seal left it, without decoding Data: its
// hash still names what Seal encoded (the ID covers the signature), and
// the entry is within lim. ok is false for any other blob, which is then
// checked in full.
func unsealed(b Blob, lim entry.Limits) (out Blob, ok bool, err error) {
	if b.sealed == nil || entry.IDOf(b.Data) != b.sealed.id {
		return Blob{}, false, nil
	}
	e := b.sealed.entry
	if len(b.Data) > lim.EntryBytesMax {
		return Blob{}, true, fmt.Errorf("%w: %s: entry of %d bytes, limit %d", ErrInvalidEntry, b.sealed.id, len(b.Data), lim.EntryBytesMax)
	}
	if err := e.Validate(lim); err != nil {
		return Blob{}, true, fmt.Errorf("%w: %s: %v", ErrInvalidEntry, b.sealed.id, err)
	}
	return Blob{ID: b.sealed.id, Data: b.Data, Entry: e, verified: true}, true, nil
}
