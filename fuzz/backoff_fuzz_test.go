package fuzz_test

import (
	"testing"

	"github.com/eidsync/eidsync/kernel"
)

// FuzzBackoff: for any limits and attempt, the backoff the kernel exposes
// for testing stays in [min, max] and its ceiling is monotone in the attempt.
func FuzzBackoff(f *testing.F) {
	f.Add(uint64(1), uint64(1), uint8(1), uint64(0))
	f.Add(uint64(10), uint64(600), uint8(7), uint64(42))
	f.Add(uint64(3), uint64(1)<<62, uint8(200), uint64(9))
	f.Fuzz(func(t *testing.T, lo, hi uint64, attempt uint8, seed uint64) {
		if lo == 0 || lo > hi || attempt == 0 {
			return
		}
		prev := uint64(0)
		for a := 1; a <= int(attempt); a++ {
			d, ceiling := kernel.BackoffForTest(seed, lo, hi, a)
			if d < lo || d > hi || d > ceiling || d < ceiling/2 {
				t.Fatalf("attempt %d: delay %d, ceiling %d, bounds [%d, %d]", a, d, ceiling, lo, hi)
			}
			if ceiling < prev {
				t.Fatalf("attempt %d: ceiling %d fell below %d", a, ceiling, prev)
			}
			prev = ceiling
		}
	})
}
