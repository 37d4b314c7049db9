package dag

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Errors returned by Add. When Add returns one the DAG is exactly as before
// the call.
var (
	// ErrMissingParent reports an entry whose parent is not in the DAG. The
	// caller keeps the entry aside and adds it once the parent is stored.
	ErrMissingParent = errors.New("dag: missing parent")
	// ErrInvalid reports an empty ID, an empty or duplicated parent ID, or an
	// entry listing itself as a parent.
	ErrInvalid = errors.New("dag: invalid entry")
	// ErrFull reports that the DAG holds the most nodes or parent links a
	// uint32 index can address.
	ErrFull = errors.New("dag: index full")
)

// Node is the dense index of an entry in one DAG, assigned from 0 in
// insertion order. Insertion order is a topological order because Add
// requires every parent to be present.
type Node uint32

const (
	digestBytes = 32
	// nodesMax keeps node+1, the table's slot value, within a uint32.
	nodesMax = math.MaxUint32 - 1
	linksMax = math.MaxUint32
)

// stdPrefix opens every standard ID: CIDv1, dag-cbor, BLAKE3, 32 bytes.
var stdPrefix = [4]byte{0x01, 0x71, 0x1e, digestBytes}

// DAG indexes the stored entries of one tree: their IDs and parent links.
// The zero DAG is not usable; use New or NewSeeded. A DAG is not safe for
// concurrent use.
type DAG struct {
	digests     []byte            // 32 bytes per node; zeros for a non-standard ID
	other       map[Node]entry.ID // the non-standard IDs
	parentStart []uint32          // parents of n: parents[parentStart[n]:parentStart[n+1]]
	parents     []uint32
	depth       []uint32
	childBits   []uint64 // bit n is set once a stored entry lists n as a parent
	tipFloor    int      // every word of childBits below this index is all ones
	tips        int
	slots       []uint32 // open addressing, linear probing: node+1, or 0 when free
	seed        uint64
	resolved    []Node // scratch for Add
	// sorted caches sortedTips while the DAG has not grown (tips change
	// only in Add): a node asks for its tips at every sync and every
	// status, and sorting them costs more than the rest of such a call.
	sorted    []tip
	sortedLen int
}

// New returns an empty DAG whose table hashes the digests as they are.
func New() *DAG { return NewSeeded(0) }

// NewSeeded returns an empty DAG whose table mixes every hash with seed.
// Digests are uniform unless someone grinds them to collide in the table;
// a secret seed (the machine's) makes that useless.
func NewSeeded(seed uint64) *DAG {
	return &DAG{
		other:       map[Node]entry.ID{},
		parentStart: []uint32{0},
		slots:       make([]uint32, 16),
		seed:        seed,
	}
}

// Len returns the number of entries in the DAG.
func (d *DAG) Len() int { return len(d.depth) }

// Lookup returns the Node of id, if id is in the DAG.
func (d *DAG) Lookup(id entry.ID) (Node, bool) {
	if id.IsZero() {
		return 0, false
	}
	return d.find(d.keyOf(id))
}

// Has reports whether id is in the DAG.
func (d *DAG) Has(id entry.ID) bool {
	_, ok := d.Lookup(id)
	return ok
}

// ID returns the ID of n.
func (d *DAG) ID(n Node) entry.ID {
	d.check(n)
	if len(d.other) > 0 {
		if id, ok := d.other[n]; ok {
			return id
		}
	}
	var b [len(stdPrefix) + digestBytes]byte
	copy(b[:], stdPrefix[:])
	copy(b[len(stdPrefix):], d.digest(n))
	id, err := entry.IDFromBytes(b[:])
	assert(err == nil, "a stored digest does not make an ID")
	return id
}

func (d *DAG) digest(n Node) []byte {
	return d.digests[int(n)*digestBytes : int(n+1)*digestBytes]
}

func (d *DAG) check(n Node) {
	if int(n) >= d.Len() {
		panic(fmt.Sprintf("kernel: assertion failed: node %d of a DAG of %d", n, d.Len()))
	}
}

// Add inserts id with its parent IDs and returns its Node. Every parent must
// already be in the DAG, else Add returns ErrMissingParent. An empty ID, an
// empty or duplicated parent or id among its own parents is ErrInvalid; these
// checks come first. Adding an ID already present returns its Node and
// added=false and changes nothing. The depth of the new node is computed from
// its parents, never taken from the entry's claimed height. Add does not keep
// parents.
func (d *DAG) Add(id entry.ID, parents []entry.ID) (n Node, added bool, err error) {
	if err := checkIDs(id, parents); err != nil {
		return 0, false, err
	}
	k := d.keyOf(id)
	if n, ok := d.find(k); ok {
		return n, false, nil
	}
	d.resolved = d.resolved[:0]
	for _, p := range parents {
		pn, ok := d.find(d.keyOf(p))
		if !ok {
			return 0, false, fmt.Errorf("%w: %s of %s", ErrMissingParent, p, id)
		}
		d.resolved = append(d.resolved, pn)
	}
	if d.Len() >= nodesMax || len(d.parents)+len(parents) > linksMax {
		return 0, false, ErrFull
	}
	n = d.insert(k, d.resolved)
	return n, true, nil
}

// checkIDs refuses empty IDs, a self-parent and duplicated parents.
func checkIDs(id entry.ID, parents []entry.ID) error {
	if id.IsZero() {
		return fmt.Errorf("%w: empty ID", ErrInvalid)
	}
	for _, p := range parents {
		if p.IsZero() {
			return fmt.Errorf("%w: empty parent ID of %s", ErrInvalid, id)
		}
		if p == id {
			return fmt.Errorf("%w: %s lists itself as a parent", ErrInvalid, id)
		}
	}
	dup := false
	if len(parents) <= 8 {
		for i := range parents {
			dup = dup || slices.Contains(parents[i+1:], parents[i])
		}
	} else {
		sorted := slices.SortedFunc(slices.Values(parents), entry.ID.Compare)
		dup = len(slices.Compact(sorted)) != len(parents)
	}
	if dup {
		return fmt.Errorf("%w: duplicated parent of %s", ErrInvalid, id)
	}
	return nil
}

// insert appends a node that is not present and whose parents are.
func (d *DAG) insert(k key, parents []Node) Node {
	n := Node(d.Len())
	if d.full() {
		d.grow()
	}
	d.place(k.hash, n)
	d.digests = grow(d.digests, digestBytes)
	if k.std {
		d.digests = append(d.digests, k.b[len(stdPrefix):]...)
	} else {
		d.digests = append(d.digests, make([]byte, digestBytes)...)
		d.other[n] = k.id
	}
	d.parents = grow(d.parents, len(parents))
	d.parentStart, d.depth = grow(d.parentStart, 1), grow(d.depth, 1)
	var depth uint32
	for _, p := range parents {
		d.parents = append(d.parents, uint32(p))
		depth = max(depth, d.depth[p]+1)
		d.markChild(p)
	}
	d.parentStart = append(d.parentStart, uint32(len(d.parents)))
	d.depth = append(d.depth, depth)
	if int(n)%64 == 0 {
		d.childBits = append(d.childBits, 0)
	}
	d.tips++
	for d.tipFloor < len(d.childBits) && d.childBits[d.tipFloor] == math.MaxUint64 {
		d.tipFloor++
	}
	got, ok := d.find(k)
	assert(ok && got == n, "an added node is not found under its ID")
	assert(len(d.parentStart) == d.Len()+1 && len(d.digests) == d.Len()*digestBytes, "columns out of step")
	return n
}

func (d *DAG) markChild(p Node) {
	w, bit := p/64, uint64(1)<<(p%64)
	if d.childBits[w]&bit == 0 {
		d.childBits[w] |= bit
		d.tips--
	}
}

// Parents appends the parents of n to buf, in the order Add was given them,
// and returns the extended slice.
func (d *DAG) Parents(n Node, buf []Node) []Node {
	d.check(n)
	for _, p := range d.parents[d.parentStart[n]:d.parentStart[n+1]] {
		buf = append(buf, Node(p))
	}
	return buf
}

// firstParent returns the first parent of n as given to Add.
func (d *DAG) firstParent(n Node) (Node, bool) {
	lo, hi := d.parentStart[n], d.parentStart[n+1]
	if lo == hi {
		return 0, false
	}
	return Node(d.parents[lo]), true
}

// Depth returns 0 for a node without parents, else one more than the
// deepest parent.
func (d *DAG) Depth(n Node) uint32 {
	d.check(n)
	return d.depth[n]
}

// IsTip reports whether no stored entry lists n as a parent.
func (d *DAG) IsTip(n Node) bool {
	d.check(n)
	return d.childBits[n/64]&(1<<(n%64)) == 0
}

// TipCount returns the number of tips.
func (d *DAG) TipCount() int { return d.tips }

// Tips returns the tips in ID order (PROTOCOL.md 1.3), without duplicates:
// the reference's Snapshot. The slice belongs to the caller. It scans the
// child bitset from the lowest word that still holds a tip, so a DAG whose
// old branches are all merged pays only for its recent entries.
func (d *DAG) Tips() []entry.ID {
	tips := d.sortedTips()
	ids := make([]entry.ID, len(tips))
	for i, t := range tips {
		ids[i] = t.id
	}
	return ids
}

// tip is a tip with its ID, for sorting.
type tip struct {
	n  Node
	id entry.ID
}

// sortedTips returns the tips ordered by their IDs. The slice is shared:
// callers must not change it.
func (d *DAG) sortedTips() []tip {
	if d.sorted != nil && d.sortedLen == d.Len() {
		return d.sorted
	}
	out := make([]tip, 0, d.tips)
	for w := d.tipFloor; w < len(d.childBits); w++ {
		free := ^d.childBits[w]
		if rest := d.Len() - w*64; rest < 64 {
			free &= 1<<rest - 1
		}
		for ; free != 0; free &= free - 1 {
			n := Node(w*64 + bits.TrailingZeros64(free))
			out = append(out, tip{n: n, id: d.ID(n)})
		}
	}
	assert(len(out) == d.tips, "tip count out of step with the child bitset")
	slices.SortFunc(out, func(a, b tip) int { return a.id.Compare(b.id) })
	d.sorted, d.sortedLen = out, d.Len()
	return out
}

// Range returns the nodes [start, start+limit) in insertion order, which is
// topological, and the cursor to resume from. It streams a bootstrap in
// bounded batches. limit <= 0 means no limit. A start at or past Len gives
// no nodes and next = Len.
func (d *DAG) Range(start Node, limit int) (out []Node, next Node) {
	total := Node(d.Len())
	if start >= total {
		return nil, total
	}
	end := total
	if limit > 0 && int(total-start) > limit {
		end = start + Node(limit)
	}
	out = make([]Node, 0, end-start)
	for n := start; n < end; n++ {
		out = append(out, n)
	}
	return out, end
}

// sortedTipBytes estimates one cached sorted tip: the Node, the ID's string
// header and the string itself (a 36-byte CID in a 48-byte allocation).
const sortedTipBytes = 24 + 48

// MemoryBytes returns the bytes held by the index's slices and tables,
// counted by capacity; the side map of non-standard IDs is estimated.
func (d *DAG) MemoryBytes() int {
	const otherEntryBytes = 64 // key, string header, map overhead
	total := cap(d.digests) + 4*(cap(d.parentStart)+cap(d.parents)+cap(d.depth)+cap(d.slots))
	total += 8*cap(d.childBits) + 4*cap(d.resolved)
	total += cap(d.sorted) * sortedTipBytes
	for _, id := range d.other {
		total += otherEntryBytes + len(id.Bytes())
	}
	return total
}

// slowGrowthAfter is the capacity, in elements, past which grow adds an
// eighth instead of doubling.
const slowGrowthAfter = 1 << 18

// grow returns s with room for extra more elements. A small slice doubles;
// a large one grows by an eighth, so that the index's columns waste at most
// 12.5% where append would waste up to 25%: that margin is what keeps a
// 1M-entry DAG under 64 bytes per entry whatever its exact size.
func grow[T any](s []T, extra int) []T {
	need := len(s) + extra
	if need <= cap(s) {
		return s
	}
	c := 2 * cap(s)
	if cap(s) >= slowGrowthAfter {
		c = cap(s) + cap(s)/8
	}
	out := make([]T, len(s), max(c, need, 16))
	copy(out, s)
	return out
}

// assert panics with the kernel's assertion prefix when ok is false.
func assert(ok bool, msg string) {
	if !ok {
		panic("kernel: assertion failed: " + msg)
	}
}
