package fuzz_test

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// FuzzDiff turns bytes into a DAG and two node sets, and checks dag.Missing
// against a naive reachability oracle (raft's quorum/quick_test.go), Tips
// against the "no child" set, and that Range and Frontier stay in bounds.
// Input layout, every missing byte reading as 0:
//
//	size-1 (mod 64), then per node after the first: a control byte (low 2
//	bits: parent count; 0x40: try an orphan child first; 0x80: a non-standard
//	CID) and one byte per parent (mod the node's index); then the from set
//	(count mod 6, then nodes mod size), the have set likewise, and the limit
//	(mod 8).
func FuzzDiff(f *testing.F) {
	for _, seed := range dagSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := dagInput{data: data}
		d, m := dagBuild(t, &in)
		from, have := in.nodes(d.Len()), in.nodes(d.Len())
		limit := int(in.byte() % 8)
		dagCheckMissing(t, d, m, from, have, limit)
		dagCheckTips(t, d, m)
		if out, next := d.Range(0, 0); len(out) != d.Len() || int(next) != d.Len() {
			t.Fatalf("Range(0, 0) = %d nodes, next %d, of %d", len(out), next, d.Len())
		}
		if fr := d.Frontier(limit + 1); len(fr) > limit+1 || len(fr) == 0 {
			t.Fatalf("Frontier(%d) has %d IDs", limit+1, len(fr))
		}
	})
}

// dagSeeds are the shapes of the golden kernel/dag/testdata/diff.txt, also
// committed under testdata/fuzz/FuzzDiff/.
var dagSeeds = [][]byte{
	{},
	// diamond a, b: a, c: a, d: b c; from d, have b
	{3, 1, 0, 1, 0, 2, 1, 2, 1, 3, 1, 1, 0},
	// fork: b: a (tried as an orphan's parent first), c: a (non-standard),
	// x: c, y: b; from x, have y
	{4, 0x41, 0, 0x81, 0, 1, 2, 1, 1, 1, 3, 1, 4, 0},
	// criss-cross: b: a, c: a, d: b c, e: c b, f: d, g: e; from f g, have b d;
	// limit 2
	{6, 1, 0, 1, 0, 2, 1, 2, 2, 2, 1, 1, 3, 1, 4, 2, 5, 6, 2, 1, 3, 2},
}

// dagInput reads the fuzz bytes; past the end every byte is 0.
type dagInput struct {
	data []byte
	pos  int
}

func (in *dagInput) byte() byte {
	if in.pos >= len(in.data) {
		return 0
	}
	in.pos++
	return in.data[in.pos-1]
}

func (in *dagInput) nodes(size int) []dag.Node {
	var out []dag.Node
	for k := in.byte() % 6; k > 0; k-- {
		out = append(out, dag.Node(int(in.byte())%size))
	}
	return out
}

// dagModel is the oracle's view: plain parent lists by node.
type dagModel struct {
	ids     []entry.ID
	parents [][]dag.Node
}

func dagBuild(t *testing.T, in *dagInput) (*dag.DAG, *dagModel) {
	size := 1 + int(in.byte()%64)
	d, m := dag.New(), &dagModel{}
	for i := range size {
		var ctl byte
		var ps []dag.Node
		if i > 0 {
			ctl = in.byte()
			for k := ctl & 3; k > 0; k-- {
				if p := dag.Node(int(in.byte()) % i); !slices.Contains(ps, p) {
					ps = append(ps, p)
				}
			}
		}
		id := dagID(t, i, ctl&0x80 != 0)
		if ctl&0x40 != 0 {
			orphan := dagID(t, 1000+i, false)
			if _, _, err := d.Add(orphan, []entry.ID{id}); !errors.Is(err, dag.ErrMissingParent) || d.Len() != i {
				t.Fatalf("orphan of %d: err %v, len %d", i, err, d.Len())
			}
		}
		var pids []entry.ID
		for _, p := range ps {
			pids = append(pids, m.ids[p])
		}
		if n, added, err := d.Add(id, pids); err != nil || !added || int(n) != i {
			t.Fatalf("add %d: n=%d added=%v err=%v", i, n, added, err)
		}
		if n, added, err := d.Add(id, pids); err != nil || added || int(n) != i {
			t.Fatalf("re-add %d: n=%d added=%v err=%v", i, n, added, err)
		}
		m.ids, m.parents = append(m.ids, id), append(m.parents, ps)
	}
	return d, m
}

// dagID returns the ID of node i: standard, or a non-standard CID (codec raw,
// SHA-256).
func dagID(t *testing.T, i int, raw bool) entry.ID {
	name := []byte("fuzz" + strconv.Itoa(i))
	if !raw {
		return entry.IDOf(name)
	}
	sum := sha256.Sum256(name)
	id, err := entry.IDFromBytes(append([]byte{0x01, 0x55, 0x12, 0x20}, sum[:]...))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (m *dagModel) reach(ns []dag.Node) map[dag.Node]bool {
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

func (m *dagModel) depths() []uint32 {
	out := make([]uint32, len(m.parents))
	for n, ps := range m.parents {
		for _, p := range ps {
			out[n] = max(out[n], out[p]+1)
		}
	}
	return out
}

func dagCheckMissing(t *testing.T, d *dag.DAG, m *dagModel, from, have []dag.Node, limit int) {
	want := m.reach(from)
	for n := range m.reach(have) {
		delete(want, n)
	}
	depth := m.depths()
	full, more := d.Missing(from, have, 0)
	if len(full) != len(want) || more {
		t.Fatalf("Missing(%v, %v) = %v more=%v, want %d nodes", from, have, full, more, len(want))
	}
	for i, n := range full {
		if !want[n] || d.Depth(n) != depth[n] {
			t.Fatalf("Missing returned %d (depth %d, want %d), not in the difference", n, d.Depth(n), depth[n])
		}
		if i > 0 && (depth[full[i-1]] > depth[n] || depth[full[i-1]] == depth[n] && full[i-1] >= n) {
			t.Fatalf("Missing is not in ascending (depth, node) order: %v", full)
		}
	}
	got, more := d.Missing(from, have, limit)
	cut := len(full)
	if limit > 0 {
		cut = min(limit, len(full))
	}
	if !slices.Equal(got, full[:cut]) || more != (cut < len(full)) {
		t.Fatalf("limit %d: got %v more=%v of %v", limit, got, more, full)
	}
}

func dagCheckTips(t *testing.T, d *dag.DAG, m *dagModel) {
	child := make([]bool, len(m.ids))
	for _, ps := range m.parents {
		for _, p := range ps {
			child[p] = true
		}
	}
	var want []entry.ID
	for n, id := range m.ids {
		if !child[n] {
			want = append(want, id)
		}
	}
	want = entry.SortIDs(want)
	if got := d.Tips(); !slices.Equal(got, want) || d.TipCount() != len(want) {
		t.Fatalf("Tips = %v (count %d), want %v", got, d.TipCount(), want)
	}
}
