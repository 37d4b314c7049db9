package dag

import "github.com/eidsync/eidsync/kernel/entry"

// Frontier returns at most max IDs that summarise what this DAG holds, for a
// peer that cannot place our tips: it looks the IDs up and answers with the
// ones it knows, which bound the region that differs. The list is:
//
//  1. every tip, in ID order (only the first max when there are more);
//  2. samples taken in rounds: round k adds, for each tip in turn, the
//     ancestor at distance 2^k (1, 2, 4, 8, ...) along the tip's
//     first-parent chain (the first parent given to Add);
//  3. last, the root that ends each chain, when room allows: the deepest
//     sample, which any peer of the same tree knows.
//
// A chain that reaches a node another chain already walked stops there: the
// rest of its samples would nearly repeat the other chain's. The list has no
// duplicates, and it depends only on the DAG. The walk touches each node at
// most once.
func (d *DAG) Frontier(max int) []entry.ID {
	if max <= 0 || d.Len() == 0 {
		return nil
	}
	tips := d.sortedTips()
	out := make([]entry.ID, 0, max)
	for _, t := range tips[:min(len(tips), max)] {
		out = append(out, t.id)
	}
	room := max - len(out)
	if room == 0 {
		return out
	}
	f := sampler{d: d, walked: make([]uint64, (d.Len()+63)/64)}
	for _, t := range tips {
		f.visit(t.n)
		f.chains = append(f.chains, chain{tip: t.n, at: t.n, next: 1})
	}
	mid := f.samples(room)
	roots := f.roots()
	keep := min(len(roots), room)
	isRoot := make(map[Node]bool, len(roots))
	for _, r := range roots {
		isRoot[r] = true
	}
	for _, n := range mid {
		if len(out) < max-keep && !isRoot[n] {
			out = append(out, d.ID(n))
		}
	}
	for _, r := range roots[:keep] {
		out = append(out, d.ID(r))
	}
	assert(len(out) <= max, "the frontier is over its size")
	return out
}

// chain is one tip's first-parent walk.
type chain struct {
	tip, at Node
	dist    uint64 // steps from the tip to at
	next    uint64 // distance of the next sample
	ended   bool   // at has no parent: it is the root of the chain
	merged  bool   // the next step is a node another chain walked
}

func (c *chain) live() bool { return !c.ended && !c.merged }

// sampler walks the first-parent chains of the tips, marking every node it
// steps on.
type sampler struct {
	d      *DAG
	walked []uint64
	chains []chain
}

func (f *sampler) visit(n Node) { f.walked[n/64] |= 1 << (n % 64) }

// step moves c one parent down, or ends or merges it.
func (f *sampler) step(c *chain) {
	p, ok := f.d.firstParent(c.at)
	switch {
	case !ok:
		c.ended = true
	case f.walked[p/64]&(1<<(p%64)) != 0:
		c.merged = true
	default:
		f.visit(p)
		c.at, c.dist = p, c.dist+1
	}
}

// samples takes rounds over the live chains, each chain walking to its next
// sample distance, until room samples are taken or every chain has stopped.
func (f *sampler) samples(room int) []Node {
	var out []Node
	for progressed := true; progressed && len(out) < room; {
		progressed = false
		for i := range f.chains {
			c := &f.chains[i]
			for c.live() && c.dist < c.next {
				f.step(c)
			}
			if c.live() && len(out) < room {
				out = append(out, c.at)
				c.next *= 2
				progressed = true
			}
		}
	}
	return out
}

// roots walks every live chain to its end and returns the ends of the chains
// that did not merge, in tip order, leaving out a tip that is its own root.
func (f *sampler) roots() []Node {
	var out []Node
	for i := range f.chains {
		c := &f.chains[i]
		for c.live() {
			f.step(c)
		}
		if c.ended && c.at != c.tip {
			out = append(out, c.at)
		}
	}
	return out
}
