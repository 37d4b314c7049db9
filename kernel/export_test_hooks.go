package kernel

// BackoffForTest exposes backoffTicks to the fuzz package: the delay for
// attempt, drawn from a PRNG seeded with seed, and its ceiling. It is not
// part of the kernel's API and may change.
func BackoffForTest(seed, ticksMin, ticksMax uint64, attempt int) (delay, ceiling uint64) {
	rng := newPRNG(seed)
	ceiling = ticksMax
	if shift := attempt; shift < 63 && ticksMin<<shift>>shift == ticksMin {
		ceiling = min(ticksMax, ticksMin<<shift)
	}
	return backoffTicks(&rng, ticksMin, ticksMax, attempt), ceiling
}
