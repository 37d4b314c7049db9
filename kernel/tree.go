package kernel

import (
	"fmt"
	"slices"

	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// tree is one tree's state: the index of stored entries (dag), entries on
// their way to the store (inflight), and received entries whose parents are
// not stored yet (orphans). An entry is in exactly one of the three, or in
// none. Only stored entries count as held: tips, diffs and answers to peers
// see nothing else.
type tree struct {
	root     entry.ID
	dag      *dag.DAG
	inflight map[entry.ID]Seq
	orphans  map[entry.ID]*orphan
	// waiters maps an ID that is not stored to the orphans waiting for it,
	// in arrival order.
	waiters map[entry.ID][]entry.ID
	// localOrphans counts the orphans that are local commits.
	localOrphans int
	// wanted are IDs asked for with GetEntries and not answered yet.
	wanted map[entry.ID]bool
	// denied maps an ID orphans wait for to the peers that answered a
	// GetEntries for it with "missing": asking them again would only
	// ping-pong, since each answer frees the want and the next ingest from
	// that peer asks anew. Forgotten once nothing waits for the ID.
	denied map[entry.ID][]PeerID
	// auth is the tree's merged permissions, nil while no entry of it has
	// set any (anyone may read and write; see gate.go).
	auth *access.Settings
	// streamLoad is how many entries the next streamed answer loads; 0 is
	// streamLoadFirst. Loading EntriesMax when a message holds a few
	// thousand made the server read and hash each entry about ten times
	// over a bootstrap (see streamed in load.go).
	streamLoad int
}

// unwait forgets that orphans wait for id: it is stored, or none is left.
func (t *tree) unwait(id entry.ID) {
	delete(t.waiters, id)
	delete(t.denied, id)
}

type orphan struct {
	blob  Blob
	from  PeerID
	since uint64 // tick it arrived
	local *localRef
}

// localRef ties a local commit to its caller's Ref for the notice.
type localRef struct {
	ref Ref
	id  entry.ID
}

// pendingWrite is a Write not yet answered.
type pendingWrite struct {
	tree  entry.ID
	blobs []Blob
	refs  []localRef // local commits in this write, for their notices
	// waiting are the sessions and inbound requests that continue when
	// this write completes.
	sessions []uint64
	replies  []*pushReply
	// after runs when the write completes, with the failure or "".
	after func(failure string)
}

// held reports whether id is stored, on its way to the store, or an orphan:
// in each case receiving it again is redundant.
func (t *tree) held(id entry.ID) bool {
	if t.dag.Has(id) {
		return true
	}
	if _, ok := t.inflight[id]; ok {
		return true
	}
	_, ok := t.orphans[id]
	return ok
}

// batch collects the entries of one tree that can go into one Write: each
// entry's parents are stored or earlier in the batch.
type batch struct {
	t     *tree
	blobs []Blob
	in    map[entry.ID]bool
	refs  []localRef
}

func (b *batch) ready(e *entry.Entry) bool {
	for _, p := range e.Tree.Parents {
		if !b.t.dag.Has(p) && !b.in[p] {
			return false
		}
	}
	return true
}

// add puts blob in the batch and then every orphan it unblocks, cascading.
func (b *batch) add(m *Machine, blob Blob) {
	queue := []Blob{blob}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		b.blobs = append(b.blobs, next)
		b.in[next.ID] = true
		for _, w := range b.t.waiters[next.ID] {
			o, ok := b.t.orphans[w]
			if ok && !b.in[w] && b.ready(o.blob.Entry) {
				b.t.forgetOrphan(w, o)
				queue = append(queue, o.blob)
				if o.local != nil {
					b.refs = append(b.refs, *o.local)
				}
			}
		}
		b.t.stillWaiting(next.ID)
	}
}

// stillWaiting keeps, for id (in flight, not yet stored), only the
// waiters that are still orphans. NB: an orphan not unblocked yet (another
// parent is missing) must keep waiting for id: if the other parent is
// stored first, id is not in the index yet, and id's store is then the
// only event that can release the orphan. Forgetting it left the orphan
// stuck, and every later push of it redundant, until OrphanTicksMax.
func (t *tree) stillWaiting(id entry.ID) {
	ws := slices.DeleteFunc(t.waiters[id], func(w entry.ID) bool {
		_, ok := t.orphans[w]
		return !ok
	})
	if len(ws) == 0 {
		t.unwait(id)
		return
	}
	t.waiters[id] = ws
}

// ingestResult counts what one ingest did with the entries offered.
type ingestResult struct {
	bytes     int // entry bytes offered
	stored    int // queued for the store now
	orphaned  int // kept until their parents come
	redundant int // already held
	rejected  int
	writes    []Seq
	firstErr  error
}

// ingest is the one path by which received entries enter the machine, for
// every message kind. Each entry's hash, structure and signature are checked
// (checkBlob); when want is non-zero the entry must belong to that tree
// (PROTOCOL.md 11.3); when only is non-nil the entry must be one of those
// IDs. Checked entries whose parents are stored go to the store in one Write
// per tree; others wait as orphans (bounded by OrphansMax) and their missing
// parents are asked for.
func (m *Machine) ingest(from PeerID, want entry.ID, only map[entry.ID]bool, blobs []Blob) ingestResult {
	var res ingestResult
	batches := map[entry.ID]*batch{}
	writers := writeView{}
	var order []entry.ID
	for _, raw := range blobs {
		res.bytes += len(raw.Data)
		b, t, err := m.admit(raw, want, only)
		if err != nil {
			res.rejected++
			res.firstErr = cmpErr(res.firstErr, err)
			m.notify(Notice{Kind: NoticeEntryRejected, Peer: from, Tree: want, ID: raw.ID, Err: err.Error()})
			continue
		}
		// The canary* constants are false outside make sim-canary (canary_*.go).
		if (t.held(b.ID) && !canaryApplyTwice) || (batches[t.root] != nil && batches[t.root].in[b.ID]) {
			res.redundant++
			continue
		}
		if err := writers.check(t, b); err != nil {
			res.rejected++
			res.firstErr = cmpErr(res.firstErr, err)
			m.notify(Notice{Kind: NoticeEntryRejected, Peer: from, Tree: t.root, ID: b.ID, Err: err.Error()})
			continue
		}
		bt := batches[t.root]
		if bt == nil {
			bt = &batch{t: t, in: map[entry.ID]bool{}}
			batches[t.root] = bt
			order = append(order, t.root)
		}
		if canarySkipParentCheck || bt.ready(b.Entry) {
			bt.add(m, b)
			continue
		}
		if err := m.addOrphan(t, b, from); err != nil {
			res.rejected++
			res.firstErr = cmpErr(res.firstErr, err)
			continue
		}
		res.orphaned++
	}
	for _, root := range order {
		if bt := batches[root]; len(bt.blobs) > 0 {
			res.stored += len(bt.blobs)
			res.writes = append(res.writes, m.write(bt.t, bt.blobs, bt.refs))
		}
	}
	m.wantMissing(from)
	return res
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// admit checks one received blob and finds (or, for a root, creates) its tree.
func (m *Machine) admit(raw Blob, want entry.ID, only map[entry.ID]bool) (Blob, *tree, error) {
	b, err := checkBlob(raw, m.cfg.Wire.Entry, m.keys.Verify)
	if err != nil {
		return Blob{}, nil, err
	}
	if only != nil && !only[b.ID] {
		return Blob{}, nil, fmt.Errorf("%w: entry %s was not asked for", ErrInvalidEntry, b.ID)
	}
	treeID := b.Entry.TreeID(b.ID)
	if !want.IsZero() && treeID != want {
		return Blob{}, nil, fmt.Errorf("%w: entry %s belongs to tree %s, not %s", ErrInvalidEntry, b.ID, treeID, want)
	}
	t := m.trees[treeID]
	if t == nil {
		if !b.Entry.IsRoot() {
			return Blob{}, nil, fmt.Errorf("%w: entry %s of unknown tree %s", ErrUnknownTree, b.ID, treeID)
		}
		if len(m.trees) >= m.cfg.TreesMax {
			return Blob{}, nil, fmt.Errorf("%w: TreesMax %d", ErrLimit, m.cfg.TreesMax)
		}
		t = m.newTree(treeID)
		m.trees[treeID] = t
	}
	return b, t, nil
}

// checkBlob verifies a blob the machine did not decode itself, or returns it
// as is when this package's decoder already did: the ID is the hash of Data,
// Data is a canonical valid entry within lim, and a signature whose hint
// names a key verifies with that key (checked with verify). A blob Seal
// made, with the very Data it encoded, needs neither decoding nor the
// signature check (unsealed). Names and delegations are resolved against the
// tree's auth settings elsewhere.
func checkBlob(b Blob, lim entry.Limits, verify entry.Verifier) (Blob, error) {
	if b.verified {
		return b, nil
	}
	if out, ok, err := unsealed(b, lim); ok {
		if err == nil && !b.ID.IsZero() && b.ID != out.ID {
			err = fmt.Errorf("%w: data hashes to %s, not the claimed %s", ErrInvalidEntry, out.ID, b.ID)
		}
		return out, err
	}
	e, id, err := lim.DecodeCBOR(b.Data)
	if err != nil {
		return Blob{}, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	if !b.ID.IsZero() && id != b.ID {
		return Blob{}, fmt.Errorf("%w: data hashes to %s, not the claimed %s", ErrInvalidEntry, id, b.ID)
	}
	if err := checkSignatureWith(e, verify); err != nil {
		return Blob{}, fmt.Errorf("%w: %s: %v", ErrInvalidEntry, id, err)
	}
	return Blob{ID: id, Data: b.Data, Entry: e, verified: true}, nil
}

// checkSignatureWith is checkSignature with verify (nil: crypto/ed25519)
// checking the Ed25519 signature itself.
func checkSignatureWith(e *entry.Entry, verify entry.Verifier) error {
	if err := entry.CheckSigShape(e); err != nil {
		return err
	}
	if pub := e.Sig.Key.Hint.PubKey; !pub.IsZero() {
		return entry.VerifySignatureWith(e, pub, verify)
	}
	return nil
}

// addOrphan keeps b until its parents are stored.
func (m *Machine) addOrphan(t *tree, b Blob, from PeerID) error {
	if t.remoteOrphans() >= m.cfg.OrphansMax {
		return fmt.Errorf("%w: OrphansMax %d for tree %s", ErrLimit, m.cfg.OrphansMax, t.root)
	}
	t.orphans[b.ID] = &orphan{blob: b, from: from, since: m.nowTicks}
	m.wakes.orphans.lower(m.nowTicks + m.cfg.OrphanTicksMax)
	for _, p := range b.Entry.Tree.Parents {
		if !t.dag.Has(p) {
			t.waiters[p] = append(t.waiters[p], b.ID)
		}
	}
	return nil
}

// write emits one Write of blobs for t and marks them in flight.
func (m *Machine) write(t *tree, blobs []Blob, refs []localRef) Seq {
	s := m.nextSeq()
	for _, b := range blobs {
		t.inflight[b.ID] = s
	}
	m.writes[s] = &pendingWrite{tree: t.root, blobs: blobs, refs: refs}
	effect := blobs
	if canaryForgetPersistTip { // a planted bug: see canary_forget_persist_tip.go
		effect = blobs[:len(blobs)-1]
	}
	m.ready.Persist = append(m.ready.Persist, Write{Seq: s, Tree: t.root, Blobs: effect})
	return s
}

// persisted completes the Write s: on success its entries become stored
// (and tips); on failure they are forgotten and will be fetched again by a
// later sync. Either way the waiting sessions and replies continue.
func (m *Machine) persisted(s Seq, failure string) error {
	w, ok := m.writes[s]
	if !ok {
		return fmt.Errorf("%w: write %d", ErrUnknownSeq, s)
	}
	delete(m.writes, s)
	if w.after != nil {
		defer w.after(failure)
	}
	t := m.trees[w.tree]
	if t == nil {
		return nil // a record with no tree (relation, approval)
	}
	for _, b := range w.blobs {
		delete(t.inflight, b.ID)
	}
	if failure == "" {
		m.store(t, w.blobs)
	} else {
		for _, b := range w.blobs {
			m.failLocalDependents(t, b.ID, failure)
		}
	}
	for _, lr := range w.refs {
		m.commitNotice(lr, t.root, failure)
	}
	if t.dag.Len() == 0 && len(t.inflight) == 0 && len(t.orphans) == 0 {
		delete(m.trees, t.root) // a tree whose root never became durable
	}
	for _, r := range w.replies {
		r.writeDone(m, s, failure)
	}
	for _, k := range w.sessions {
		if ss := m.sessions[k]; ss != nil {
			ss.writeDone(m, s, failure)
		}
	}
	return nil
}

// store adds durable blobs to the index, then queues the orphans they
// unblock as a new Write.
func (m *Machine) store(t *tree, blobs []Blob) {
	for _, b := range blobs {
		n, _, err := t.dag.Add(b.ID, b.Entry.Tree.Parents)
		if err != nil {
			panic(fmt.Sprintf("kernel: assertion failed: persisted entry %s does not fit the index: %v", b.ID, err))
		}
		t.noteSettings(b, t.dag.Depth(n))
	}
	bt := &batch{t: t, in: map[entry.ID]bool{}}
	for _, b := range blobs {
		for _, w := range t.waiters[b.ID] {
			if o, ok := t.orphans[w]; ok && !bt.in[w] && bt.ready(o.blob.Entry) {
				t.forgetOrphan(w, o)
				if o.local != nil {
					bt.refs = append(bt.refs, *o.local)
				}
				bt.add(m, o.blob)
			}
		}
		t.unwait(b.ID)
	}
	if len(bt.blobs) > 0 {
		m.write(t, bt.blobs, bt.refs)
	}
	m.placed(t)
}

func (t *tree) hasOrphans() bool { return len(t.orphans) > 0 }

// expireOrphans drops orphans whose parents did not come in OrphanTicksMax.
func (t *tree) expireOrphans(m *Machine) {
	var old []entry.ID
	for id, o := range t.orphans {
		if m.nowTicks-o.since >= m.cfg.OrphanTicksMax && o.local == nil {
			old = append(old, id)
		}
	}
	slices.SortFunc(old, entry.ID.Compare)
	for _, id := range old {
		t.dropOrphan(id)
		m.notify(Notice{Kind: NoticeOrphanDropped, Tree: t.root, ID: id, Err: "parents never arrived"})
	}
}

func (t *tree) dropOrphan(id entry.ID) {
	o := t.orphans[id]
	t.forgetOrphan(id, o)
	for _, p := range o.blob.Entry.Tree.Parents {
		ws := slices.DeleteFunc(t.waiters[p], func(w entry.ID) bool { return w == id })
		if len(ws) == 0 {
			t.unwait(p)
		} else {
			t.waiters[p] = ws
		}
	}
}

// failLocalDependents fails the local commits waiting, directly or through
// one another, for id, whose write failed: they will never be stored.
// Received orphans stay; their parents may still come from a peer.
func (m *Machine) failLocalDependents(t *tree, id entry.ID, failure string) {
	for _, w := range slices.Clone(t.waiters[id]) {
		o, ok := t.orphans[w]
		if !ok || o.local == nil {
			continue
		}
		t.dropOrphan(w)
		m.commitNotice(*o.local, t.root, "parent not stored: "+failure)
		m.failLocalDependents(t, w, failure)
	}
}

// remoteOrphans counts the orphans received from peers, which OrphansMax
// bounds; local commits waiting for their parents' writes are not counted.
func (t *tree) remoteOrphans() int { return len(t.orphans) - t.localOrphans }

// forgetOrphan removes orphan o (id) from the pending set.
func (t *tree) forgetOrphan(id entry.ID, o *orphan) {
	delete(t.orphans, id)
	if o.local != nil {
		t.localOrphans--
	}
}
