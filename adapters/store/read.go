package store

import (
	"bytes"
	"fmt"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	bolt "go.etcd.io/bbolt"
)

// Read returns the blobs asked for by r that are stored, in the order asked;
// an ID not stored is left out. r.Tree is not consulted: IDs name entries
// across trees. Each blob's Data is a copy the caller owns and its Entry is
// decoded from it. A body that does not decode, or does not hash to its ID,
// fails the whole read with ErrCorrupt naming the ID.
func (s *Store) Read(r kernel.Read) ([]kernel.Blob, error) {
	out := make([]kernel.Blob, 0, len(r.IDs))
	err := s.view(func(tx *bolt.Tx) error {
		entries := tx.Bucket(bucketEntries)
		for _, id := range r.IDs {
			if v := entries.Get(id.Bytes()); v != nil {
				out = append(out, kernel.Blob{ID: id, Data: bytes.Clone(v)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.readError(err, "read")
	}
	for i := range out {
		if err := s.decode(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decode fills b.Entry from b.Data, checking that the bytes are a canonical
// entry whose hash is b.ID.
func (s *Store) decode(b *kernel.Blob) error {
	e, id, err := entry.DecodeCBOR(b.Data)
	if err != nil {
		return fail(ErrCorrupt, err, fmt.Sprintf("store: %s: entry %s is corrupt on disk: %v", s.path, b.ID, err))
	}
	if id != b.ID {
		return fail(ErrCorrupt, nil, fmt.Sprintf("store: %s: entry %s is corrupt on disk: its bytes hash to %s",
			s.path, b.ID, id))
	}
	b.Entry = e
	return nil
}

// readError adds context to an error from bbolt itself; the store's own
// errors and ErrClosed already carry it.
func (s *Store) readError(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*failure); ok || err == ErrClosed {
		return err
	}
	return fmt.Errorf("store: %s %s: %w", what, s.path, err)
}

// Has reports whether the entry id is stored, in any tree.
func (s *Store) Has(id entry.ID) (bool, error) {
	var found bool
	err := s.view(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketEntries).Get(id.Bytes()) != nil
		return nil
	})
	return found, s.readError(err, "has")
}

// Trees returns the root IDs of the stored trees in creation order.
func (s *Store) Trees() ([]entry.ID, error) {
	var out []entry.ID
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = s.roots(tx)
		return err
	})
	if err != nil {
		return nil, s.readError(err, "list trees of")
	}
	return out, nil
}

func (s *Store) roots(tx *bolt.Tx) ([]entry.ID, error) {
	var out []entry.ID
	c := tx.Bucket(bucketRoots).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id, err := entry.IDFromBytes(v)
		if err != nil {
			return nil, fail(ErrCorrupt, err, fmt.Sprintf("store: %s: tree list entry %x: %v", s.path, k, err))
		}
		out = append(out, id)
	}
	return out, nil
}

// Count returns how many entries of tree are stored; 0 for an unknown tree.
func (s *Store) Count(tree entry.ID) (int, error) {
	var n uint64
	err := s.view(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTrees).Bucket(tree.Bytes())
		if tb == nil {
			return nil
		}
		var err error
		if n, err = readU64(tb.Get(keyCount)); err != nil {
			return fail(ErrCorrupt, err, fmt.Sprintf("store: %s: tree %s: bad count: %v", s.path, tree, err))
		}
		return nil
	})
	return int(n), s.readError(err, "count")
}

// Meta returns a copy of the node setting key, or nil and no error when it
// is absent.
func (s *Store) Meta(key string) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get([]byte(key)); v != nil {
			out = append(make([]byte, 0, len(v)), v...)
		}
		return nil
	})
	if err != nil {
		return nil, s.readError(err, "read setting "+key+" of")
	}
	return out, nil
}

// SetMeta durably sets the node setting key to value. The key must be
// non-empty and not "schema", which the store keeps for itself.
func (s *Store) SetMeta(key string, value []byte) error {
	if key == "" || key == string(keySchema) {
		return fmt.Errorf("store: set setting %q: the key is reserved or empty", key)
	}
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(key), bytes.Clone(value))
	})
	if err != nil {
		return s.readError(err, "set setting "+key+" in")
	}
	return nil
}
