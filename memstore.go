package eidsync

import (
	"fmt"
	"sync"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// durable is what the driver needs of a store; adapters/store.Store is the
// on-disk one, memStore the in-memory one.
type durable interface {
	Apply(writes []kernel.Write) error
	Read(r kernel.Read) ([]kernel.Blob, error)
	State() (kernel.State, error)
	Trees() ([]entry.ID, error)
	Entries(tree entry.ID, from uint64, fn func(seq uint64, b kernel.Blob) error) error
	Count(tree entry.ID) (int, error)
	Has(id entry.ID) (bool, error)
	Meta(key string) ([]byte, error)
	SetMeta(key string, value []byte) error
	Close() error
}

// memStore keeps everything in memory, for Options.InMemory: the same
// contract as the bbolt store, gone when the process ends.
type memStore struct {
	mu        sync.RWMutex
	blobs     map[entry.ID]kernel.Blob
	order     map[entry.ID][]entry.ID
	roots     []entry.ID
	meta      map[string][]byte
	relations map[[2]string]kernel.RelationRecord
	relOrder  [][2]string
}

func newMemStore() *memStore {
	return &memStore{blobs: map[entry.ID]kernel.Blob{}, order: map[entry.ID][]entry.ID{}, meta: map[string][]byte{},
		relations: map[[2]string]kernel.RelationRecord{}}
}

func (s *memStore) Apply(writes []kernel.Write) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range writes {
		for _, b := range w.Blobs {
			if entry.IDOf(b.Data) != b.ID {
				return fmt.Errorf("memstore: entry %s does not hash to its ID", b.ID)
			}
		}
	}
	for _, w := range writes {
		for _, rec := range w.Relations {
			key := [2]string{string(rec.Peer), string(rec.Tree.Bytes())}
			if _, ok := s.relations[key]; !ok {
				s.relOrder = append(s.relOrder, key)
			}
			s.relations[key] = rec
		}
		if w.Tree.IsZero() {
			continue
		}
		if _, ok := s.order[w.Tree]; !ok {
			s.roots = append(s.roots, w.Tree)
		}
		for _, b := range w.Blobs {
			if _, dup := s.blobs[b.ID]; !dup {
				s.blobs[b.ID] = b
				s.order[w.Tree] = append(s.order[w.Tree], b.ID)
			}
		}
	}
	return nil
}

func (s *memStore) Read(r kernel.Read) ([]kernel.Blob, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]kernel.Blob, 0, len(r.IDs))
	for _, id := range r.IDs {
		if b, ok := s.blobs[id]; ok {
			out = append(out, b)
		}
	}
	return out, nil
}

func (s *memStore) State() (kernel.State, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var st kernel.State
	for _, root := range s.roots {
		ts := kernel.TreeState{Root: root}
		for _, id := range s.order[root] {
			ts.Entries = append(ts.Entries, kernel.IndexedEntry{ID: id, Parents: s.blobs[id].Entry.Tree.Parents})
		}
		st.Trees = append(st.Trees, ts)
	}
	for _, key := range s.relOrder {
		st.Relations = append(st.Relations, s.relations[key])
	}
	return st, nil
}

func (s *memStore) Trees() ([]entry.ID, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]entry.ID(nil), s.roots...), nil
}

func (s *memStore) Entries(tree entry.ID, from uint64, fn func(uint64, kernel.Blob) error) error {
	s.mu.RLock()
	ids := append([]entry.ID(nil), s.order[tree]...)
	s.mu.RUnlock()
	for i := from; i < uint64(len(ids)); i++ {
		s.mu.RLock()
		b := s.blobs[ids[i]]
		s.mu.RUnlock()
		if err := fn(i, b); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) Count(tree entry.ID) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.order[tree]), nil
}

func (s *memStore) Has(id entry.ID) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.blobs[id]
	return ok, nil
}

func (s *memStore) Meta(key string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta[key], nil
}

func (s *memStore) SetMeta(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[key] = append([]byte(nil), value...)
	return nil
}

func (s *memStore) Close() error { return nil }
