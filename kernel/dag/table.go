package dag

import (
	"encoding/binary"
	"math/bits"

	"github.com/eidsync/eidsync/kernel/entry"
)

// The ID table is open addressing with linear probing over a slice of uint32
// slots. A slot holds node+1, or 0 when free; the table never deletes, so
// probing stops at the first free slot. A hash picks its first slot by
// multiply-shift (Lemire's fastrange), so the table can have any size: it
// grows by half when its load would pass 3/4, and so its load stays between
// 1/2 and 3/4 and it costs 5.3 to 8 bytes per entry. Doubling would let it
// reach 10.7.

// key is an ID prepared for the table.
type key struct {
	id   entry.ID
	b    string // the binary CID (entry.ID.Binary: no copy per lookup)
	std  bool   // a standard ID: its digest is b[4:]
	hash uint64
}

func (d *DAG) keyOf(id entry.ID) key {
	b := id.Binary()
	k := key{id: id, b: b, std: isStandard(b)}
	k.hash = d.hashBytes(b, k.std)
	return k
}

func isStandard(b string) bool {
	return len(b) == len(stdPrefix)+digestBytes && b[:4] == string(stdPrefix[:])
}

// hashBytes hashes a binary CID. A standard ID's digest is uniformly random,
// so its first 8 bytes are the hash (mixed with the seed when there is one).
// Any other CID goes through FNV-1a and a finaliser.
func (d *DAG) hashBytes(b string, std bool) uint64 {
	if std {
		h := leUint64(b[len(stdPrefix):])
		if d.seed != 0 {
			h = mix64(h ^ d.seed)
		}
		return h
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * 1099511628211
	}
	return mix64(h ^ d.seed)
}

// leUint64 is binary.LittleEndian.Uint64 of the first 8 bytes of s.
func leUint64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// mix64 is the splitmix64 finaliser: a bijection that spreads every input
// bit over the output.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// nodeHash recomputes the hash of a stored node, for growing the table.
func (d *DAG) nodeHash(n Node) uint64 {
	if len(d.other) > 0 {
		if id, ok := d.other[n]; ok {
			return d.hashBytes(id.Binary(), false)
		}
	}
	h := binary.LittleEndian.Uint64(d.digest(n))
	if d.seed != 0 {
		h = mix64(h ^ d.seed)
	}
	return h
}

// matches reports whether node n holds the ID of k.
func (d *DAG) matches(n Node, k key) bool {
	if !k.std {
		id, ok := d.other[n]
		return ok && id == k.id
	}
	if string(d.digest(n)) != k.b[len(stdPrefix):] {
		return false
	}
	// NB: a non-standard node keeps zeros in the arena, which a standard
	// digest of zeros would match.
	if len(d.other) == 0 {
		return true
	}
	_, nonStandard := d.other[n]
	return !nonStandard
}

// slot returns the first slot of hash's probe sequence.
func (d *DAG) slot(hash uint64) int {
	hi, _ := bits.Mul64(hash, uint64(len(d.slots)))
	return int(hi)
}

// find returns the node holding k's ID.
func (d *DAG) find(k key) (Node, bool) {
	for i, probes := d.slot(k.hash), 0; ; probes++ {
		assert(probes < len(d.slots), "the ID table has no free slot")
		s := d.slots[i]
		if s == 0 {
			return 0, false
		}
		if d.matches(Node(s-1), k) {
			return Node(s - 1), true
		}
		if i++; i == len(d.slots) {
			i = 0
		}
	}
}

// place puts n in the first free slot of its probe sequence.
func (d *DAG) place(hash uint64, n Node) {
	i := d.slot(hash)
	for d.slots[i] != 0 {
		if i++; i == len(d.slots) {
			i = 0
		}
	}
	d.slots[i] = uint32(n) + 1
}

// full reports whether one more node would take the load past 3/4.
func (d *DAG) full() bool { return (d.Len()+1)*4 > len(d.slots)*3 }

// grow enlarges the table by half and places every node again.
func (d *DAG) grow() {
	before := len(d.slots)
	d.slots = make([]uint32, before+before/2)
	for n := range Node(d.Len()) {
		d.place(d.nodeHash(n), n)
	}
	assert(len(d.slots) > before && !d.full(), "the ID table did not grow enough")
}
