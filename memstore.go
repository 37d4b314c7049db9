package eidsync

import (
	"fmt"
	"sync"

	"github.com/eidsync/eidsync/internal/memimage"
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
	mu   sync.RWMutex
	im   memimage.Image
	meta map[string][]byte
}

func newMemStore() *memStore {
	return &memStore{im: memimage.New(), meta: map[string][]byte{}}
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
		s.im.Apply(w, nil)
	}
	return nil
}

func (s *memStore) Read(r kernel.Read) ([]kernel.Blob, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.im.Read(r.IDs), nil
}

func (s *memStore) State() (kernel.State, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.im.State(), nil
}

func (s *memStore) Trees() ([]entry.ID, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]entry.ID(nil), s.im.Roots...), nil
}

func (s *memStore) Entries(tree entry.ID, from uint64, fn func(uint64, kernel.Blob) error) error {
	s.mu.RLock()
	ids := append([]entry.ID(nil), s.im.Order[tree]...)
	s.mu.RUnlock()
	for i := from; i < uint64(len(ids)); i++ {
		s.mu.RLock()
		b := s.im.Blobs[ids[i]]
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
	return len(s.im.Order[tree]), nil
}

func (s *memStore) Has(id entry.ID) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.im.Has(id), nil
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
