package http

import (
	"sync/atomic"
	"testing"
)

// TestParallelCallsEachOnce: parallel calls fn exactly once for every index,
// whatever n is next to the chunk size and the worker count.
func TestParallelCallsEachOnce(t *testing.T) {
	for _, n := range []int{0, 1, parallelChunk - 1, parallelChunk, parallelChunk + 1, parallelMin, parallelMin + 1, 1000, 10007} {
		calls := make([]atomic.Int32, n)
		parallel(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: fn(%d) called %d times", n, i, c)
			}
		}
	}
}
