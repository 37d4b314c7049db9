package dag

import "slices"

// Flags painted on the nodes a Missing walk touches.
const (
	flagFrom uint8 = 1 << iota // reachable from the from set
	flagHave                   // reachable from the have set
	flagDone                   // popped from the heap
)

// denseAfter is the number of marked nodes past which a walk trades its map
// for one byte per node of the DAG: by then the walk costs more than the
// allocation.
const denseAfter = 4096

// Missing returns the nodes reachable from `from` (inclusive) that are not
// reachable from `have` (inclusive), in ascending (Depth, Node) order, which
// is topological: a node's parents come before it or are not in the output.
// Both sets may repeat nodes; every node must belong to this DAG (the caller
// drops peer tips it cannot Lookup). An empty have gives everything reachable
// from `from`. limit > 0 keeps only the first limit nodes and reports
// more=true when it cut any.
//
// The walk is a height-ordered paint-down (git's paint_down_to_common): it
// pops nodes deepest first and stops once every node left carries HAVE, so
// its cost is proportional to the region between the two frontiers, not to
// the history. NB: the limit cuts the output, not the walk: the nodes come
// out deepest first, so the shallowest limit are known only at the end. To
// stream a whole tree in bounded batches use Range.
func (d *DAG) Missing(from, have []Node, limit int) (out []Node, more bool) {
	out, _ = d.missing(from, have)
	if limit > 0 && len(out) > limit {
		return out[:limit:limit], true
	}
	return out, false
}

// missing is Missing without the limit; it also returns how many nodes the
// walk popped, for the tests that check the walk is not O(history).
func (d *DAG) missing(from, have []Node) ([]Node, int) {
	w := walk{d: d, marks: marks{small: map[Node]uint8{}, size: d.Len()}}
	for _, n := range from {
		d.check(n)
		w.mark(n, flagFrom)
	}
	for _, n := range have {
		d.check(n)
		w.mark(n, flagHave)
	}
	var out []Node
	popped := 0
	// canaryDiffLeft is 0 outside make sim-canary (canary_offbyone_diff.go).
	for len(w.heap) > 0 && w.fromOnly > canaryDiffLeft {
		n := w.pop()
		popped++
		f := w.marks.get(n)
		w.marks.set(n, f|flagDone)
		if f == flagFrom {
			w.fromOnly--
			out = append(out, n)
		} else {
			f = flagHave // below a HAVE node only HAVE matters
		}
		w.parents = d.Parents(n, w.parents[:0])
		for _, p := range w.parents {
			w.mark(p, f)
		}
	}
	assert(w.fromOnly <= canaryDiffLeft, "the walk stopped with FROM-only nodes left")
	slices.Reverse(out)
	return out, popped
}

// walk is the state of one Missing call.
type walk struct {
	d        *DAG
	heap     []Node // max-heap by (depth, node)
	marks    marks
	fromOnly int // nodes in the heap flagged FROM and not HAVE
	parents  []Node
}

// mark adds flag f to n, pushing n when it is new.
func (w *walk) mark(n Node, f uint8) {
	old := w.marks.get(n)
	if old == 0 {
		w.marks.set(n, f)
		w.push(n)
		if f == flagFrom {
			w.fromOnly++
		}
		return
	}
	if old|f == old {
		return
	}
	// NB: parents are shallower than the node being popped and the heap pops
	// deepest first, so a node's flags are final once it is popped.
	assert(old&flagDone == 0, "a popped node gained a flag")
	if old == flagFrom {
		w.fromOnly--
	}
	w.marks.set(n, old|f)
}

// above orders the heap: deeper first, then the higher node.
func (w *walk) above(a, b Node) bool {
	da, db := w.d.depth[a], w.d.depth[b]
	return da > db || da == db && a > b
}

func (w *walk) push(n Node) {
	w.heap = append(w.heap, n)
	for i := len(w.heap) - 1; i > 0; {
		up := (i - 1) / 2
		if !w.above(w.heap[i], w.heap[up]) {
			break
		}
		w.heap[i], w.heap[up] = w.heap[up], w.heap[i]
		i = up
	}
}

func (w *walk) pop() Node {
	h := w.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		best, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && w.above(h[l], h[best]) {
			best = l
		}
		if r < len(h) && w.above(h[r], h[best]) {
			best = r
		}
		if best == i {
			break
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
	w.heap = h
	assert(len(h) == 0 || !w.above(h[0], top), "the heap popped a node above its top")
	return top
}

// marks holds the flags of the nodes a walk touched: a map while the walk is
// small, one byte per DAG node once it is not. The switch copies values and
// so does not depend on map iteration order.
type marks struct {
	small map[Node]uint8
	dense []uint8
	size  int
}

func (m *marks) get(n Node) uint8 {
	if m.dense != nil {
		return m.dense[n]
	}
	return m.small[n]
}

func (m *marks) set(n Node, f uint8) {
	if m.dense != nil {
		m.dense[n] = f
		return
	}
	m.small[n] = f
	if len(m.small) > denseAfter && m.size > denseAfter {
		m.dense = make([]uint8, m.size)
		for k, v := range m.small {
			m.dense[k] = v
		}
		m.small = nil
	}
}
