package kernel

// prng is SplitMix64: small, fast, seedable, float-free and with a state of
// one word that is part of the machine's state. It is not cryptographic: it
// makes handshake challenges unpredictable enough per seed, and the driver
// seeds it from crypto/rand.
type prng struct{ state uint64 }

func newPRNG(seed uint64) prng { return prng{state: seed} }

// next returns the next 64 random bits.
func (p *prng) next() uint64 {
	p.state += 0x9e3779b97f4a7c15
	z := p.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fill fills b with random bytes.
func (p *prng) fill(b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := p.next()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// below returns a uniform value in [0, n) for n > 0, by rejection so there
// is no modulo bias.
func (p *prng) below(n uint64) uint64 {
	if n == 0 {
		panic("kernel: assertion failed: prng.below(0)")
	}
	limit := -n % n // (2^64 - n) mod n: draws under it would bias the result
	for {
		if v := p.next(); v >= limit {
			return v % n
		}
	}
}
