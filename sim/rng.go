package sim

import (
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
)

// Every random choice of a run comes from one of these streams, each a PCG
// seeded from the master seed and the stream's label. A subsystem drawing
// one more number shifts only its own stream (SIMULATION.md P2), so a change
// to, say, the workload leaves network and storage decisions as they were.
// The package-level functions of math/rand/v2 are never used.
type stream uint8

const (
	streamSwarm    stream = iota // the per-seed fault and workload profile
	streamNet                    // delays, drops, duplicates, partitions
	streamNode                   // crashes, pauses, wipes, joins
	streamStorage                // latency, I/O errors, corruption, torn writes
	streamClock                  // offsets, drift, jumps, tick jitter
	streamWorkload               // commits, syncs, bad entries
	streamCheck                  // which node the purity replay checks
	streamAccess                 // which trees are private, and who may read and write them
	streamCount
)

var streamLabels = [streamCount]string{"swarm", "net", "node", "storage", "clock", "workload", "check", "access"}

// rng is one stream. Probabilities are integer ratios in basis points
// (1/10000), never floats (SIMULATION.md P12).
type rng struct{ *rand.Rand }

func newStreams(seed uint64) [streamCount]rng {
	var out [streamCount]rng
	for i := range out {
		out[i] = rng{rand.New(rand.NewPCG(seed, streamSeq(stream(i))))}
	}
	return out
}

// streamSeq is the PCG sequence of stream s: a hash of its label.
func streamSeq(s stream) uint64 {
	h := fnv.New64a()
	h.Write([]byte("eidsync/sim/" + streamLabels[s]))
	return h.Sum64()
}

// chance reports true with probability bp/10000. It always draws once, so
// that turning a fault off (bp 0) does not shift the stream.
func (r rng) chance(bp int) bool { return r.IntN(10000) < bp }

// between returns a uniform integer in [lo, hi], or lo when hi <= lo. It
// draws once either way, so that a range that collapses (a fault turned
// off, a rate of 0) does not shift the stream.
func (r rng) between(lo, hi int) int {
	x := r.Uint64()
	if hi <= lo {
		return lo
	}
	return lo + int(x%uint64(hi-lo+1))
}

// pick returns a uniform index below n (n > 0).
func (r rng) pick(n int) int { return r.IntN(n) }

// exp returns an exponentially distributed integer with the given mean,
// computed as mean·(-ln U) in fixed point: -ln U = ln2·(20 - log2(u)) for
// u uniform in [1, 2^20], log2 linearly interpolated between powers of two.
func (r rng) exp(mean int) int {
	u := r.Uint64N(1<<20) + 1
	hi := bits.Len64(u) - 1              // integer part of log2(u)
	frac := (u - 1<<hi) << 10 >> hi      // fractional part, 1/1024 units
	log2 := uint64(hi)<<10 + frac        // log2(u) in 1/1024 units
	negLn := (20<<10 - log2) * 710 >> 10 // ·ln2 (≈710/1024), 1/1024 units
	return int(uint64(mean) * negLn >> 10)
}
