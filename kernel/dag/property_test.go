package dag_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// model is the naive oracle: the same DAG as plain parent lists by Node.
type model struct {
	ids     []entry.ID
	parents [][]dag.Node
}

// reach returns the set of nodes reachable from ns, inclusive.
func (m *model) reach(ns []dag.Node) map[dag.Node]bool {
	seen := map[dag.Node]bool{}
	stack := slices.Clone(ns)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[x] {
			seen[x] = true
			stack = append(stack, m.parents[x]...)
		}
	}
	return seen
}

// depth computes the depth of n from the parent lists, nodes being in a
// topological order.
func (m *model) depth(n dag.Node) uint32 {
	depths := make([]uint32, n+1)
	for x := range n + 1 {
		for _, p := range m.parents[x] {
			depths[x] = max(depths[x], depths[p]+1)
		}
	}
	return depths[n]
}

// tips returns the nodes no node lists as a parent, in ID order.
func (m *model) tips() []entry.ID {
	child := map[dag.Node]bool{}
	for _, ps := range m.parents {
		for _, p := range ps {
			child[p] = true
		}
	}
	var out []entry.ID
	for n, x := range m.ids {
		if !child[dag.Node(n)] {
			out = append(out, x)
		}
	}
	return entry.SortIDs(out)
}

// genDAG draws a DAG of up to maxNodes entries, each with distinct parents
// among earlier entries, some with non-standard IDs, and adds it; it also
// tries refused Adds on the way and checks they change nothing.
func genDAG(t *rapid.T, maxNodes int) (*dag.DAG, *model) { return genDAGEach(t, maxNodes, nil) }

// genDAGEach is genDAG calling each, when set, after every entry added.
func genDAGEach(t *rapid.T, maxNodes int, each func(*dag.DAG, *model)) (*dag.DAG, *model) {
	size := rapid.IntRange(1, maxNodes).Draw(t, "size")
	d := dag.NewSeeded(rapid.Uint64().Draw(t, "seed"))
	m := &model{}
	for i := range size {
		name := strconv.Itoa(i)
		x := entry.IDOf([]byte(name))
		if rapid.IntRange(0, 7).Draw(t, "raw") == 0 {
			x = rawID(t, name)
		}
		var ps []int
		if i > 0 {
			k := rapid.IntRange(0, min(i, 4)).Draw(t, "parents")
			ps = rapid.SliceOfNDistinct(rapid.IntRange(0, i-1), k, k, func(v int) int { return v }).Draw(t, "which")
		}
		var pids []entry.ID
		for _, p := range ps {
			pids = append(pids, m.ids[p])
		}
		if i > 0 && rapid.IntRange(0, 9).Draw(t, "orphan") == 0 {
			// A child of the entry about to be added is refused for now.
			orphan := entry.IDOf([]byte("orphan" + name))
			if _, _, err := d.Add(orphan, []entry.ID{x}); !errors.Is(err, dag.ErrMissingParent) || d.Len() != i {
				t.Fatalf("orphan: err %v, len %d", err, d.Len())
			}
		}
		n, added, err := d.Add(x, pids)
		if err != nil || !added || int(n) != i {
			t.Fatalf("add %d: n=%d added=%v err=%v", i, n, added, err)
		}
		m.ids = append(m.ids, x)
		m.parents = append(m.parents, nodesOf(ps))
		if each != nil {
			each(d, m)
		}
	}
	return d, m
}

func nodesOf(vs []int) []dag.Node {
	out := make([]dag.Node, len(vs))
	for i, v := range vs {
		out[i] = dag.Node(v)
	}
	return out
}

func drawNodes(t *rapid.T, d *dag.DAG, label string) []dag.Node {
	return nodesOf(rapid.SliceOfN(rapid.IntRange(0, d.Len()-1), 0, 5).Draw(t, label))
}

// checkMissing compares Missing with the set difference of plain
// reachability and checks the order. It is shared with the fuzz target's
// intent; the fuzz target keeps its own copy.
func checkMissing(t *rapid.T, d *dag.DAG, m *model, from, have []dag.Node, limit int) {
	want := m.reach(from)
	for n := range m.reach(have) {
		delete(want, n)
	}
	got, more := d.Missing(from, have, limit)
	full, _ := d.Missing(from, have, 0)
	if len(full) != len(want) {
		t.Fatalf("Missing(%v, %v) = %v, want the %d nodes of %v", from, have, full, len(want), want)
	}
	pos := map[dag.Node]int{}
	for i, n := range full {
		if !want[n] {
			t.Fatalf("Missing returned %d, not in reach(from) - reach(have)", n)
		}
		if d.Depth(n) != m.depth(n) {
			t.Fatalf("Depth(%d) = %d, want %d", n, d.Depth(n), m.depth(n))
		}
		if i > 0 {
			a, b := full[i-1], n
			if d.Depth(a) > d.Depth(b) || d.Depth(a) == d.Depth(b) && a >= b {
				t.Fatalf("not ascending (depth, node) at %d: %v", i, full)
			}
		}
		for _, p := range m.parents[n] {
			if j, ok := pos[p]; want[p] && !ok || ok && j >= i {
				t.Fatalf("parent %d of %d is missing but does not come before it", p, n)
			}
		}
		pos[n] = i
	}
	cut := len(full)
	if limit > 0 {
		cut = min(limit, len(full))
	}
	if !slices.Equal(got, full[:cut]) || more != (cut < len(full)) {
		t.Fatalf("limit %d: got %v more=%v, full %v", limit, got, more, full)
	}
}

func TestPropertyMissing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d, m := genDAG(t, 60)
		for range 4 {
			from, have := drawNodes(t, d, "from"), drawNodes(t, d, "have")
			checkMissing(t, d, m, from, have, rapid.IntRange(0, 5).Draw(t, "limit"))
		}
		// Our own tips against themselves: nothing.
		var tips []dag.Node
		for _, x := range d.Tips() {
			n, _ := d.Lookup(x)
			tips = append(tips, n)
		}
		if out, _ := d.Missing(tips, tips, 0); len(out) != 0 {
			t.Fatalf("Missing(tips, tips) = %v", out)
		}
		if out, _ := d.Missing(tips, nil, 0); len(out) != d.Len() {
			t.Fatalf("Missing(tips, nil) has %d of %d nodes", len(out), d.Len())
		}
	})
}

func TestPropertyTips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d, m := genDAG(t, 60)
		want := m.tips()
		if got := d.Tips(); !slices.Equal(got, want) || d.TipCount() != len(want) {
			t.Fatalf("Tips = %v (count %d), want %v", got, d.TipCount(), want)
		}
		for n := range dag.Node(d.Len()) {
			if d.IsTip(n) != slices.Contains(want, m.ids[n]) {
				t.Fatalf("IsTip(%d) = %v", n, d.IsTip(n))
			}
		}
	})
}

// TestPropertyTipsAsGrown asks for the tips while the DAG grows: the
// sorted tips are cached until the next Add, which must never serve a
// stale set (nor let a caller's copy alias the cache).
func TestPropertyTipsAsGrown(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		genDAGEach(t, 40, func(d *dag.DAG, m *model) {
			if !rapid.Bool().Draw(t, "ask") {
				return
			}
			got := d.Tips()
			if want := m.tips(); !slices.Equal(got, want) {
				t.Fatalf("after %d entries: Tips = %v, want %v", d.Len(), got, want)
			}
			if len(got) > 0 {
				got[0] = entry.ID{} // the caller's slice: the cache must not see this
				if again := d.Tips(); again[0].IsZero() {
					t.Fatalf("Tips returned the cache itself")
				}
			}
			if f := d.Frontier(3); len(f) == 0 {
				t.Fatalf("no frontier of a DAG of %d entries", d.Len())
			}
		})
	})
}

func TestPropertyRange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d, m := genDAG(t, 60)
		seen := map[dag.Node]bool{}
		cursor := dag.Node(0)
		for cursor < dag.Node(d.Len()) {
			out, next := d.Range(cursor, rapid.IntRange(1, 7).Draw(t, "batch"))
			if len(out) == 0 || next != cursor+dag.Node(len(out)) {
				t.Fatalf("Range(%d) = %v, next %d", cursor, out, next)
			}
			for _, n := range out {
				for _, p := range m.parents[n] {
					if !seen[p] {
						t.Fatalf("Range gives %d before its parent %d", n, p)
					}
				}
				if seen[n] {
					t.Fatalf("Range gives %d twice", n)
				}
				seen[n] = true
			}
			cursor = next
		}
		if len(seen) != d.Len() {
			t.Fatalf("Range visited %d of %d nodes", len(seen), d.Len())
		}
	})
}

func TestPropertyFrontier(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d, m := genDAG(t, 60)
		limit := rapid.IntRange(1, 30).Draw(t, "max")
		got := d.Frontier(limit)
		tips := d.Tips()
		if len(got) > limit || !slices.Equal(got[:min(len(tips), limit)], tips[:min(len(tips), limit)]) {
			t.Fatalf("Frontier(%d) = %v does not open with the tips %v", limit, got, tips)
		}
		if len(slices.Compact(entry.SortIDs(slices.Clone(got)))) != len(got) {
			t.Fatalf("Frontier(%d) has duplicates", limit)
		}
		deep := false
		for _, x := range tips {
			n, _ := d.Lookup(x)
			deep = deep || len(m.parents[n]) > 0
		}
		if last, ok := d.Lookup(got[len(got)-1]); deep && limit > len(tips) && (!ok || len(m.parents[last]) != 0) {
			t.Fatalf("Frontier(%d) = %v does not end with a root", limit, got)
		}
		// The result depends only on the DAG, not on the table's seed.
		again := dag.New()
		for n, x := range m.ids {
			var ps []entry.ID
			for _, p := range m.parents[n] {
				ps = append(ps, m.ids[p])
			}
			if _, _, err := again.Add(x, ps); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(again.Frontier(limit), got) {
			t.Fatalf("Frontier differs between two equal DAGs")
		}
	})
}
