package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	bolt "go.etcd.io/bbolt"
)

// State returns what a machine restarts from (kernel.New's restored): every
// tree in creation order, each with its entries in insertion order and their
// parents. It reads only the index, never an entry body. A malformed index
// fails with ErrCorrupt naming the tree.
func (s *Store) State() (kernel.State, error) {
	var st kernel.State
	err := s.view(func(tx *bolt.Tx) error {
		roots, err := s.roots(tx)
		if err != nil {
			return err
		}
		st.Trees = make([]kernel.TreeState, 0, len(roots))
		for _, root := range roots {
			ts, err := s.treeState(tx, root)
			if err != nil {
				return err
			}
			st.Trees = append(st.Trees, ts)
		}
		if st.NonceFloors, err = nonceFloors(tx); err != nil {
			return err
		}
		if st.Approvals, err = approvals(tx); err != nil {
			return err
		}
		st.Relations, err = s.relations(tx)
		return err
	})
	if err != nil {
		return kernel.State{}, s.readError(err, "read state of")
	}
	return st, nil
}

// treeState reads one tree's order records, checking that their keys run
// from 0 without a gap and that there are exactly count of them.
func (s *Store) treeState(tx *bolt.Tx, root entry.ID) (kernel.TreeState, error) {
	order, count, err := s.treeIndex(tx, root)
	if err != nil {
		return kernel.TreeState{}, err
	}
	ts := kernel.TreeState{Root: root, Entries: make([]kernel.IndexedEntry, 0, count)}
	var arena idArena
	var scratch []entry.ID
	var seq uint64
	c := order.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if seq >= count || len(k) != 8 || binary.BigEndian.Uint64(k) != seq {
			return kernel.TreeState{}, s.corruptTree(root, seq, fmt.Errorf("unexpected key %x", k))
		}
		var id entry.ID
		if id, scratch, err = decodeRecord(v, scratch); err != nil {
			return kernel.TreeState{}, s.corruptTree(root, seq, err)
		}
		ts.Entries = append(ts.Entries, kernel.IndexedEntry{ID: id, Parents: arena.clone(scratch)})
		seq++
	}
	if seq != count {
		return kernel.TreeState{}, s.corruptTree(root, seq, fmt.Errorf("%d records, count says %d", seq, count))
	}
	sb := tx.Bucket(bucketTrees).Bucket(root.Bytes()).Bucket(bucketSettings)
	if sb == nil {
		return ts, nil
	}
	err = sb.ForEach(func(k, v []byte) error {
		at, err := readU64(k)
		if err != nil || at >= count || len(v) < len(entry.PublicKey{}) {
			return s.corruptTree(root, at, fmt.Errorf("settings record %x", k))
		}
		ie := &ts.Entries[at]
		ie.Signer = entry.PublicKey(v[:len(ie.Signer)])
		ie.Settings = bytes.Clone(v[len(ie.Signer):])
		return nil
	})
	return ts, err
}

// treeIndex returns the order bucket and count of tree, or ErrCorrupt if
// the tree is listed but its index is missing or damaged.
func (s *Store) treeIndex(tx *bolt.Tx, tree entry.ID) (*bolt.Bucket, uint64, error) {
	tb := tx.Bucket(bucketTrees).Bucket(tree.Bytes())
	if tb == nil {
		return nil, 0, fail(ErrCorrupt, nil, fmt.Sprintf("store: %s: tree %s is listed but has no index", s.path, tree))
	}
	return openIndex(s.path, tree, tb)
}

// openIndex returns the order bucket and count held in tb, the bucket of
// tree.
func openIndex(path string, tree entry.ID, tb *bolt.Bucket) (*bolt.Bucket, uint64, error) {
	order := tb.Bucket(bucketOrder)
	count, err := readU64(tb.Get(keyCount))
	if order == nil || err != nil {
		return nil, 0, fail(ErrCorrupt, err, fmt.Sprintf("store: %s: tree %s: index damaged "+
			"(order bucket present: %t, count: %v)", path, tree, order != nil, err))
	}
	return order, count, nil
}

func (s *Store) corruptTree(tree entry.ID, seq uint64, err error) error {
	return fail(ErrCorrupt, err, fmt.Sprintf("store: %s: tree %s: index record %d: %v", s.path, tree, seq, err))
}

// entriesChunk is how many entries Entries reads per transaction: calls to
// fn run outside any transaction, so fn may call the store, even Apply.
const entriesChunk = 256

// indexed is one entry read by Entries, with its position.
type indexed struct {
	seq  uint64
	blob kernel.Blob
}

// Entries calls fn for each entry of tree in insertion order, starting at
// position from (the root is 0), with its Blob (Data a copy the caller owns,
// Entry decoded). It stops at the first error of fn and returns it. An
// unknown tree has no entries. Entries appended meanwhile may or may not be
// seen; none is seen twice.
func (s *Store) Entries(tree entry.ID, from uint64, fn func(seq uint64, b kernel.Blob) error) error {
	for {
		chunk, err := s.entryChunk(tree, from)
		if err != nil {
			return err
		}
		for _, c := range chunk {
			if err := fn(c.seq, c.blob); err != nil {
				return err
			}
		}
		if len(chunk) < entriesChunk {
			return nil
		}
		from = chunk[len(chunk)-1].seq + 1
	}
}

// entryChunk reads up to entriesChunk entries of tree from position from.
func (s *Store) entryChunk(tree entry.ID, from uint64) ([]indexed, error) {
	var out []indexed
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTrees).Bucket(tree.Bytes()) == nil {
			return nil
		}
		order, _, err := s.treeIndex(tx, tree)
		if err != nil {
			return err
		}
		entries := tx.Bucket(bucketEntries)
		c := order.Cursor()
		for k, v := c.Seek(u64(from)); k != nil && len(out) < entriesChunk; k, v = c.Next() {
			seq, err := readU64(k)
			if err != nil {
				return s.corruptTree(tree, from, fmt.Errorf("key %x: %w", k, err))
			}
			id, err := recordID(v)
			if err != nil {
				return s.corruptTree(tree, seq, err)
			}
			data := entries.Get(id.Bytes())
			if data == nil {
				return s.corruptTree(tree, seq, fmt.Errorf("entry %s is indexed but not stored", id))
			}
			out = append(out, indexed{seq: seq, blob: kernel.Blob{ID: id, Data: bytes.Clone(data)}})
		}
		return nil
	})
	if err != nil {
		return nil, s.readError(err, "read entries of")
	}
	for i := range out {
		if err := s.decode(&out[i].blob); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// relations reads every relation record, in key order.
func (s *Store) relations(tx *bolt.Tx) ([]kernel.RelationRecord, error) {
	bk := tx.Bucket(bucketRelations)
	if bk == nil {
		return nil, nil
	}
	var out []kernel.RelationRecord
	err := bk.ForEach(func(k, v []byte) error {
		peer, treeBytes, ok := bytes.Cut(k, []byte{0})
		tree, err := entry.IDFromBytes(treeBytes)
		var val relationValue
		if !ok || err != nil || json.Unmarshal(v, &val) != nil {
			return fmt.Errorf("%w: relation record %q", ErrCorrupt, k)
		}
		out = append(out, kernel.RelationRecord{Peer: kernel.PeerID(peer), Tree: tree, Dirty: val.Dirty, Attempts: val.Attempts, GaveUp: val.GaveUp})
		return nil
	})
	return out, err
}

// approvals reads the bootstrap-request records, oldest first (by the time
// they were made, then ID: the kernel forgets the oldest decided first).
func approvals(tx *bolt.Tx) ([]kernel.ApprovalRequest, error) {
	bk := tx.Bucket(bucketApprovals)
	if bk == nil {
		return nil, nil
	}
	var out []kernel.ApprovalRequest
	err := bk.ForEach(func(k, v []byte) error {
		r, err := kernel.DecodeApproval(v)
		if err != nil || r.ID != string(k) {
			return fmt.Errorf("%w: approval record %q: %v", ErrCorrupt, k, err)
		}
		out = append(out, r)
		return nil
	})
	slices.SortFunc(out, func(a, b kernel.ApprovalRequest) int {
		return cmp.Or(cmp.Compare(a.AtMs, b.AtMs), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// nonceFloors reads the kernel's nonce floors.
func nonceFloors(tx *bolt.Tx) ([]kernel.NonceFloor, error) {
	bk := tx.Bucket(bucketNonceFloors)
	if bk == nil {
		return nil, nil
	}
	var out []kernel.NonceFloor
	err := bk.ForEach(func(k, v []byte) error {
		ms, err := readU64(v)
		if err != nil || len(k) == 0 || k[0] != 'k' || (len(k) != 1 && len(k) != 33) || ms == 0 || ms > 1<<62 {
			return fmt.Errorf("%w: nonce floor record %x", ErrCorrupt, k)
		}
		var f kernel.NonceFloor
		copy(f.Key[:], k[1:])
		f.Ms = int64(ms)
		out = append(out, f)
		return nil
	})
	return out, err
}
