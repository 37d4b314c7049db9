package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	bolt "go.etcd.io/bbolt"
)

// Apply makes writes durable in one transaction, all or nothing: the Persist
// lane of one Ready batch. Each write's new entries are appended to its
// tree's insertion order in the order given (parents first); entries already
// stored are skipped, so applying a write twice changes nothing. A blob that
// breaks a check of the package doc refuses the whole batch with ErrRefused;
// an I/O failure (disk full, ...) is returned wrapped. Either way nothing of
// the batch is stored. Apply retains nothing of writes.
func (s *Store) Apply(writes []kernel.Write) error {
	if len(writes) == 0 {
		return nil
	}
	var refused error // an error of the checks, already explained
	err := s.update(func(tx *bolt.Tx) error {
		entries := tx.Bucket(bucketEntries)
		a := applier{tx: tx, entries: entries, seek: entries.Cursor(), path: s.path, added: map[entry.ID]bool{}}
		for i := range writes {
			if refused = a.write(&writes[i]); refused != nil {
				return refused
			}
		}
		return nil
	})
	var explained *failure
	if err != nil && err != refused && err != ErrClosed && !errors.As(err, &explained) {
		if why := writeFailure(err); why != "" {
			return fail(ErrWriteFailed, err, fmt.Sprintf("store: cannot write to %s: %s; nothing of this batch was stored, "+
				"what was stored before is intact", s.path, why))
		}
		return fmt.Errorf("store: persist %d writes (first seq %d) to %s: %w", len(writes), writes[0].Seq, s.path, err)
	}
	return err
}

// writeFailure explains a write the file system refused, with what to do,
// or returns "" for any other error.
func writeFailure(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "no space left on the device: free space on that file system or move the data directory"
	case errors.Is(err, syscall.EDQUOT):
		return "disk quota exceeded: raise the quota or move the data directory"
	case errors.Is(err, syscall.EFBIG):
		return "the file is over the size limit of this process or file system: raise the limit (ulimit -f) or move the data directory"
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only: remount it read-write or move the data directory"
	case errors.Is(err, syscall.EIO):
		return "input/output error: check the disk (dmesg) before going on"
	}
	return ""
}

// applier applies the writes of one transaction.
type applier struct {
	tx      *bolt.Tx
	entries *bolt.Bucket
	// seek answers whether an entry is stored: one cursor for the whole
	// transaction, as each Bucket.Get makes a cursor and grows its stack.
	seek *bolt.Cursor
	path string
	// added holds the entries stored by this transaction: most parents are
	// among them, and a map lookup is cheaper than a B-tree search.
	added map[entry.ID]bool
	// slab holds the keys and records of this transaction's puts, which
	// bbolt keeps until the commit: a few allocations per batch instead of
	// three per entry.
	slab []byte
}

// slabBytes is the size of a slab chunk.
const slabBytes = 64 << 10

// carve returns an empty slice with room for n bytes, cut from the slab.
func (a *applier) carve(n int) []byte {
	if cap(a.slab)-len(a.slab) < n {
		a.slab = make([]byte, 0, max(slabBytes, n))
	}
	start := len(a.slab)
	a.slab = a.slab[:start+n]
	return a.slab[start : start : start+n]
}

// treeAppend is a tree's order bucket open for appending, and its count.
type treeAppend struct {
	bucket *bolt.Bucket
	order  *bolt.Bucket
	count  uint64
}

// write checks and stores the blobs of w, and upserts its relations.
func (a *applier) write(w *kernel.Write) error {
	if err := a.relations(w.Relations); err != nil {
		return err
	}
	if err := a.approvals(w.Approvals); err != nil {
		return err
	}
	if err := a.nonceFloors(w.NonceFloors); err != nil {
		return err
	}
	var t *treeAppend
	for i := range w.Blobs {
		b := &w.Blobs[i]
		e, err := checkBlob(w.Tree, b)
		if err != nil {
			return fail(ErrRefused, err, fmt.Sprintf("store: persist entry %s of tree %s: %v", b.ID, w.Tree, err))
		}
		key := append(a.carve(len(b.ID.Binary())), b.ID.Binary()...)
		if a.stored(key) {
			continue
		}
		for _, p := range e.Tree.Parents {
			if !a.added[p] && !a.stored(p.Bytes()) {
				return fail(ErrRefused, nil, fmt.Sprintf("store: persist entry %s: parent %s is not stored", b.ID, p))
			}
		}
		if t == nil {
			if t, err = a.openTree(w.Tree, b.ID); err != nil {
				return err
			}
		}
		if err := a.put(t, key, b, e); err != nil {
			return fmt.Errorf("store: persist entry %s: %w", b.ID, err)
		}
	}
	if t == nil {
		return nil
	}
	if err := t.bucket.Put(keyCount, u64(t.count)); err != nil {
		return fmt.Errorf("store: persist tree %s: count: %w", w.Tree, err)
	}
	return nil
}

// stored reports whether the entries bucket holds key: Get's answer for a
// bucket of values only. Seek starts from the root each time, so the
// transaction's own puts are seen.
func (a *applier) stored(key []byte) bool {
	k, _ := a.seek.Seek(key)
	return bytes.Equal(k, key)
}

// put stores one new entry and appends it to t's order.
func (a *applier) put(t *treeAppend, key []byte, b *kernel.Blob, e *entry.Entry) error {
	// NB: bbolt keeps key and value until the commit; Data is read-only
	// by the kernel's contract, so it is not copied.
	if err := a.entries.Put(key, b.Data); err != nil {
		return err
	}
	seq := binary.BigEndian.AppendUint64(a.carve(8), t.count)
	if err := t.order.Put(seq, appendRecord(a.carve(recordSize(b.ID, e.Tree.Parents)), b.ID, e.Tree.Parents)); err != nil {
		return err
	}
	if ie := kernel.IndexedOf(b.ID, e); ie.Settings != nil {
		// The tree's permissions are rebuilt from these at restart,
		// which reads no entry body.
		sb, err := t.bucket.CreateBucketIfNotExists(bucketSettings)
		if err == nil {
			err = sb.Put(u64(t.count), append(ie.Signer[:len(ie.Signer):len(ie.Signer)], ie.Settings...))
		}
		if err != nil {
			return err
		}
	}
	t.count++
	a.added[b.ID] = true
	return nil
}

// checkBlob checks b before anything of it is written: its ID is the hash
// of its bytes (the kernel checks the same on ingest), and it belongs to
// tree. It returns the decoded entry, decoding Data if b carries none.
func checkBlob(tree entry.ID, b *kernel.Blob) (*entry.Entry, error) {
	if !b.ID.IsIDOf(b.Data) {
		return nil, fmt.Errorf("its data hashes to %s", entry.IDOf(b.Data))
	}
	e := b.Entry
	if e == nil {
		var err error
		if e, _, err = entry.DecodeCBOR(b.Data); err != nil {
			return nil, err
		}
	}
	if root := e.TreeID(b.ID); root != tree {
		return nil, fmt.Errorf("it belongs to tree %s", root)
	}
	return e, nil
}

// openTree opens tree's buckets for appending. A tree is created by its
// first stored entry, which must be its root.
func (a *applier) openTree(tree, first entry.ID) (*treeAppend, error) {
	trees := a.tx.Bucket(bucketTrees)
	key := tree.Bytes()
	if tb := trees.Bucket(key); tb != nil {
		return a.existingTree(tree, tb)
	}
	if first != tree {
		return nil, fail(ErrRefused, nil, fmt.Sprintf("store: persist entry %s: tree %s does not exist "+
			"and the entry is not its root", first, tree))
	}
	tb, err := trees.CreateBucket(key)
	if err != nil {
		return nil, fmt.Errorf("store: create tree %s: %w", tree, err)
	}
	order, err := tb.CreateBucket(bucketOrder)
	if err != nil {
		return nil, fmt.Errorf("store: create tree %s: %w", tree, err)
	}
	roots := a.tx.Bucket(bucketRoots)
	seq, err := roots.NextSequence()
	if err == nil {
		err = roots.Put(u64(seq), key)
	}
	if err != nil {
		return nil, fmt.Errorf("store: create tree %s: %w", tree, err)
	}
	order.FillPercent = orderFillPercent
	return &treeAppend{bucket: tb, order: order}, nil
}

func (a *applier) existingTree(tree entry.ID, tb *bolt.Bucket) (*treeAppend, error) {
	order, count, err := openIndex(a.path, tree, tb)
	if err != nil {
		return nil, err
	}
	order.FillPercent = orderFillPercent
	return &treeAppend{bucket: tb, order: order, count: count}, nil
}

// relationValue is a relation record as stored, less its key.
type relationValue struct {
	Dirty    bool `json:"dirty"`
	Attempts int  `json:"attempts"`
	GaveUp   bool `json:"gave_up"`
}

func relationKey(peer kernel.PeerID, tree entry.ID) []byte {
	return append(append([]byte(peer), 0), tree.Bytes()...)
}

// relations upserts background-sync relation records.
func (a *applier) relations(recs []kernel.RelationRecord) error {
	if len(recs) == 0 {
		return nil
	}
	bk, err := a.tx.CreateBucketIfNotExists(bucketRelations)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Peer == "" || rec.Tree.IsZero() || strings.IndexByte(string(rec.Peer), 0) >= 0 {
			return fail(ErrRefused, nil, fmt.Sprintf("store: persist relation %q %s: malformed", rec.Peer, rec.Tree))
		}
		val, _ := json.Marshal(relationValue{Dirty: rec.Dirty, Attempts: rec.Attempts, GaveUp: rec.GaveUp})
		if err := bk.Put(relationKey(rec.Peer, rec.Tree), val); err != nil {
			return err
		}
	}
	return nil
}

// approvals upserts bootstrap-request records; one with only an ID deletes.
func (a *applier) approvals(recs []kernel.ApprovalRequest) error {
	if len(recs) == 0 {
		return nil
	}
	bk, err := a.tx.CreateBucketIfNotExists(bucketApprovals)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.ID == "" {
			return fail(ErrRefused, nil, "store: persist approval: empty request ID")
		}
		if rec.Status == 0 {
			if err := bk.Delete([]byte(rec.ID)); err != nil {
				return err
			}
			continue
		}
		val, err := kernel.EncodeApproval(rec)
		if err != nil {
			return fail(ErrRefused, err, fmt.Sprintf("store: persist approval %s: %v", rec.ID, err))
		}
		if err := bk.Put([]byte(rec.ID), val); err != nil {
			return err
		}
	}
	return nil
}

// nonceFloors upserts the kernel's nonce floors: key the public key (32
// bytes, or empty for the global floor), value the u64 ms; 0 deletes.
func (a *applier) nonceFloors(recs []kernel.NonceFloor) error {
	if len(recs) == 0 {
		return nil
	}
	bk, err := a.tx.CreateBucketIfNotExists(bucketNonceFloors)
	if err != nil {
		return err
	}
	for _, f := range recs {
		key := []byte{}
		if !f.Key.IsZero() {
			key = f.Key[:]
		}
		if f.Ms < 0 {
			return fail(ErrRefused, nil, fmt.Sprintf("store: persist nonce floor %d: negative", f.Ms))
		}
		if f.Ms == 0 {
			err = bk.Delete(append([]byte{'k'}, key...))
		} else {
			err = bk.Put(append([]byte{'k'}, key...), u64(uint64(f.Ms)))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
