package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel"
	bolt "go.etcd.io/bbolt"
)

// Bulk-load benchmarks: a chain of 100k entries with 192-byte payloads, as
// the kernel benchmarks use (unsigned, so ~360 bytes of CBOR each), applied 1000 entries per
// transaction with fsync on, as a node catching up on a large tree does.
const (
	benchEntries = 100_000
	benchBatch   = 1000
)

var benchChain []kernel.Blob

func benchBlobs(b *testing.B) []kernel.Blob {
	b.Helper()
	if benchChain == nil {
		benchChain = chain(b, 42, benchEntries, 192)
	}
	return benchChain
}

// BenchmarkBulkApply loads the chain through Store.Apply.
func BenchmarkBulkApply(b *testing.B) {
	c := benchBlobs(b)
	rate := runStore(b, c)
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(float64(len(c[1].Data)), "bytes/entry")
}

// BenchmarkRawBboltInsert is the floor: the same bytes put by ID into one
// bare bbolt bucket, in the same transactions, with the same options.
func BenchmarkRawBboltInsert(b *testing.B) {
	b.ReportMetric(runRaw(b, benchBlobs(b)), "entries/s")
}

// BenchmarkStoreRatio runs the floor, then the store, and reports the store's
// time per entry as a multiple of the floor's (x_of_raw_bbolt, lower is
// better). NB: testing.Benchmark inside a benchmark deadlocks, so the floor
// runs as the first sub-benchmark and leaves its rate in a variable.
func BenchmarkStoreRatio(b *testing.B) {
	c := benchBlobs(b)
	var floor float64
	b.Run("raw_bbolt", func(b *testing.B) {
		floor = runRaw(b, c)
		b.ReportMetric(floor, "entries/s")
	})
	b.Run("store", func(b *testing.B) {
		rate := runStore(b, c)
		b.ReportMetric(rate, "entries/s")
		if floor > 0 {
			b.ReportMetric(floor/rate, "x_of_raw_bbolt")
			b.Logf("store at %.0f entries/s is %.2fx the raw bbolt floor (%.0f entries/s)", rate, floor/rate, floor)
		}
	})
}

// runStore loads c into a new store b.N times and returns entries per
// second; opening and closing are not timed.
func runStore(b *testing.B, c []kernel.Blob) float64 {
	b.Helper()
	var busy time.Duration
	for range b.N {
		b.StopTimer()
		s, err := store.Open(filepath.Join(b.TempDir(), "eidsync.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for i := 0; i < len(c); i += benchBatch {
			w := kernel.Write{Seq: kernel.Seq(i), Tree: c[0].ID, Blobs: c[i:min(i+benchBatch, len(c))]}
			if err := s.Apply([]kernel.Write{w}); err != nil {
				b.Fatal(err)
			}
		}
		busy += time.Since(start)
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	return float64(b.N*len(c)) / busy.Seconds()
}

// runRaw puts c's bytes into a bare bbolt bucket b.N times and returns
// entries per second.
func runRaw(b *testing.B, c []kernel.Blob) float64 {
	b.Helper()
	name := []byte("entries")
	var busy time.Duration
	for range b.N {
		b.StopTimer()
		db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
		if err == nil {
			err = db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(name); return err })
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for i := 0; i < len(c); i += benchBatch {
			err := db.Update(func(tx *bolt.Tx) error {
				bucket := tx.Bucket(name)
				for _, blob := range c[i:min(i+benchBatch, len(c))] {
					if err := bucket.Put(blob.ID.Bytes(), blob.Data); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		busy += time.Since(start)
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	return float64(b.N*len(c)) / busy.Seconds()
}

// BenchmarkState reads back the 100k-entry index, as a restart does.
// Entries are ~360 bytes of CBOR: they are unsigned.
func BenchmarkState(b *testing.B) {
	c := benchBlobs(b)
	s, err := store.Open(filepath.Join(b.TempDir(), "eidsync.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for i := 0; i < len(c); i += benchBatch {
		if err := s.Apply([]kernel.Write{{Tree: c[0].ID, Blobs: c[i:min(i+benchBatch, len(c))]}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		st, err := s.State()
		if err != nil || len(st.Trees[0].Entries) != len(c) {
			b.Fatalf("state: %v", err)
		}
	}
	// NB: ns per entry is also ms per million entries, the restart goal's unit.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c)), "ns/entry")
}
