package sim

import (
	"github.com/eidsync/eidsync/internal/memimage"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// MemStore is a durable store in memory: what a machine gets back after a
// restart. Writes apply atomically, in order.
type MemStore struct {
	im memimage.Image
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{im: memimage.New()} }

// Apply makes a write durable. Entries already stored are skipped, so a
// write applied twice changes nothing the second time.
func (s *MemStore) Apply(w kernel.Write) { s.im.Apply(w, nil) }

// Read returns the blobs asked for that the store holds, in the order asked.
func (s *MemStore) Read(r kernel.Read) []kernel.Blob { return s.im.Read(r.IDs) }

// State is what a restarted machine is given: every tree, entries in the
// order persisted, and the latest record of every relation.
func (s *MemStore) State() kernel.State { return s.im.State() }

// Has reports whether id is stored.
func (s *MemStore) Has(id entry.ID) bool { return s.im.Has(id) }
