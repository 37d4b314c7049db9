package dag_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// bytesPerEntryGoal is the memory goal of the index: a 1M-entry tree in at
// most 64 bytes per entry.
const bytesPerEntryGoal = 64

// benchIDs makes n distinct standard IDs.
func benchIDs(n int) []entry.ID {
	out := make([]entry.ID, n)
	var b [8]byte
	for i := range out {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		out[i] = entry.IDOf(b[:])
	}
	return out
}

// shape adds ids to d in order, with the parents the shape gives them, and
// calls each (if not nil) after every Add.
type shape func(tb testing.TB, d *dag.DAG, ids []entry.ID, each func())

// chainShape makes a linear history.
func chainShape(tb testing.TB, d *dag.DAG, ids []entry.ID, each func()) {
	parent := make([]entry.ID, 0, 1)
	for _, x := range ids {
		if _, _, err := d.Add(x, parent); err != nil {
			tb.Fatal(err)
		}
		if each != nil {
			each()
		}
		parent = append(parent[:0], x)
	}
}

// writersShape makes 8 writers taking turns, each extending its own branch
// from the last merge, and a merge of every branch after each 10 entries.
func writersShape(tb testing.TB, d *dag.DAG, ids []entry.ID, each func()) {
	const writers, mergeEvery = 8, 10
	var heads [writers]entry.ID // zero: the writer has not written since the merge
	base := ids[0]
	if _, _, err := d.Add(base, nil); err != nil {
		tb.Fatal(err)
	}
	ps := make([]entry.ID, 0, writers)
	for i := 1; i < len(ids); i++ {
		x, w := ids[i], i%writers
		ps = ps[:0]
		switch {
		case i%mergeEvery == 0:
			for j, h := range heads {
				if !h.IsZero() {
					ps = append(ps, h)
				}
				heads[j] = entry.ID{}
			}
		case !heads[w].IsZero():
			ps = append(ps, heads[w])
			heads[w] = x
		default:
			ps = append(ps, base)
			heads[w] = x
		}
		if _, _, err := d.Add(x, ps); err != nil {
			tb.Fatal(err)
		}
		if each != nil {
			each()
		}
		if i%mergeEvery == 0 {
			base = x
		}
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkBytesPerEntry builds 1M-entry DAGs and reports the index's memory
// per entry, both as counted by MemoryBytes and as measured by the heap.
func BenchmarkBytesPerEntry(b *testing.B) {
	const size = 1_000_000
	ids := benchIDs(size)
	for _, s := range []struct {
		name  string
		shape shape
	}{{"chain-1M", chainShape}, {"writers8-1M", writersShape}} {
		b.Run(s.name, func(b *testing.B) {
			var counted, heap float64
			for b.Loop() {
				before := heapAlloc()
				d := dag.New()
				s.shape(b, d, ids, nil)
				after := heapAlloc()
				if d.Len() != size {
					b.Fatalf("len %d", d.Len())
				}
				counted = float64(d.MemoryBytes()) / size
				heap = (float64(after) - float64(before)) / size
				runtime.KeepAlive(d)
			}
			b.ReportMetric(counted, "bytes/entry")
			b.ReportMetric(heap, "heap-bytes/entry")
			b.ReportMetric(max(counted, heap)/bytesPerEntryGoal, "x_of_goal")
		})
	}
	runtime.KeepAlive(ids)
}

// BenchmarkBytesPerEntryWorst grows DAGs from 0.5M to 1.5M entries and
// reports the highest MemoryBytes()/Len() seen, sampled every 997 entries:
// the slack of the columns and of the table peaks just after they grow, so
// one size alone can flatter the design.
func BenchmarkBytesPerEntryWorst(b *testing.B) {
	const lo, hi = 500_000, 1_500_000
	ids := benchIDs(hi)
	for _, s := range []struct {
		name  string
		shape shape
	}{{"chain-0.5M-1.5M", chainShape}, {"writers8-0.5M-1.5M", writersShape}} {
		b.Run(s.name, func(b *testing.B) {
			var worst float64
			for b.Loop() {
				d := dag.New()
				s.shape(b, d, ids, func() {
					if n := d.Len(); n >= lo && n%997 == 0 {
						worst = max(worst, float64(d.MemoryBytes())/float64(n))
					}
				})
			}
			b.ReportMetric(worst, "worst-bytes/entry")
			b.ReportMetric(worst/bytesPerEntryGoal, "x_of_goal")
		})
	}
}

var chains = map[int]*dag.DAG{}

// chainOf builds, once per size, a chain for the Missing benchmarks.
func chainOf(b *testing.B, size int) *dag.DAG {
	if d, ok := chains[size]; ok {
		return d
	}
	d := dag.New()
	chainShape(b, d, benchIDs(size), nil)
	chains[size] = d
	return d
}

var chainSizes = []int{10_000, 100_000, 1_000_000}

// BenchmarkMissingNoop diffs a chain's tip against itself: ns/op should be
// flat across sizes.
func BenchmarkMissingNoop(b *testing.B) {
	for _, size := range chainSizes {
		b.Run(fmt.Sprintf("chain-%d", size), func(b *testing.B) {
			d := chainOf(b, size)
			tip := []dag.Node{dag.Node(size - 1)}
			for b.Loop() {
				if out, _ := d.Missing(tip, tip, 0); len(out) != 0 {
					b.Fatal(out)
				}
			}
		})
	}
}

// BenchmarkMissingCatchup10 diffs a chain's tip against the entry 10 below
// it: ns/op should be flat across sizes.
func BenchmarkMissingCatchup10(b *testing.B) {
	for _, size := range chainSizes {
		b.Run(fmt.Sprintf("chain-%d", size), func(b *testing.B) {
			d := chainOf(b, size)
			tip, have := []dag.Node{dag.Node(size - 1)}, []dag.Node{dag.Node(size - 11)}
			for b.Loop() {
				if out, _ := d.Missing(tip, have, 0); len(out) != 10 {
					b.Fatal(out)
				}
			}
		})
	}
}

// BenchmarkAdd appends to a chain, one entry per op.
func BenchmarkAdd(b *testing.B) {
	ids := benchIDs(b.N)
	d := dag.New()
	parent := make([]entry.ID, 0, 1)
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := d.Add(ids[i], parent); err != nil {
			b.Fatal(err)
		}
		parent = append(parent[:0], ids[i])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkLookup looks up present IDs in a 1M-entry chain.
func BenchmarkLookup(b *testing.B) {
	d := chainOf(b, 1_000_000)
	ids := benchIDs(1024)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !d.Has(ids[i%len(ids)]) {
			b.Fatal("absent")
		}
	}
}

// BenchmarkTips lists the tips of a 1M-entry chain.
func BenchmarkTips(b *testing.B) {
	d := chainOf(b, 1_000_000)
	for b.Loop() {
		if len(d.Tips()) != 1 {
			b.Fatal("tips")
		}
	}
}
