package dag_test

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// id returns the standard ID of a short name.
func id(name string) entry.ID { return entry.IDOf([]byte(name)) }

// fataler is what rawID needs of a testing.TB or a *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

// rawID returns a non-standard CID (codec raw, SHA-256) for a short name.
func rawID(t fataler, name string) entry.ID {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	out, err := entry.IDFromBytes(append([]byte{0x01, 0x55, 0x12, 0x20}, sum[:]...))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(names ...string) []entry.ID {
	out := make([]entry.ID, len(names))
	for i, n := range names {
		out[i] = id(n)
	}
	return out
}

// mustAdd adds name with parents and fails the test on error.
func mustAdd(t testing.TB, d *dag.DAG, name string, parents ...string) dag.Node {
	t.Helper()
	n, _, err := d.Add(id(name), ids(parents...))
	if err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return n
}

func TestAddErrors(t *testing.T) {
	many := ids("p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9")
	for _, tc := range []struct {
		name    string
		id      entry.ID
		parents []entry.ID
		want    error
	}{
		{name: "empty id", id: entry.ID{}, want: dag.ErrInvalid},
		{name: "empty parent", id: id("x"), parents: []entry.ID{id("a"), {}}, want: dag.ErrInvalid},
		{name: "self parent", id: id("x"), parents: ids("a", "x"), want: dag.ErrInvalid},
		{name: "duplicate parents", id: id("x"), parents: ids("a", "b", "a"), want: dag.ErrInvalid},
		{name: "duplicate among many", id: id("x"), parents: append(slices.Clone(many), id("p3")), want: dag.ErrInvalid},
		{name: "invalid before missing", id: id("x"), parents: ids("zz", "zz"), want: dag.ErrInvalid},
		{name: "missing parent", id: id("x"), parents: ids("a", "zz"), want: dag.ErrMissingParent},
		{name: "missing among many", id: id("x"), parents: append(ids("a"), many...), want: dag.ErrMissingParent},
		{name: "present with bad parents", id: id("a"), parents: ids("b", "b"), want: dag.ErrInvalid},
		{name: "ok", id: id("x"), parents: ids("b", "a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dag.New()
			mustAdd(t, d, "a")
			mustAdd(t, d, "b", "a")
			before, beforeTips := d.Len(), d.Tips()
			n, added, err := d.Add(tc.id, tc.parents)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil {
				if d.Len() != before || !slices.Equal(d.Tips(), beforeTips) || added || n != 0 {
					t.Fatalf("a refused Add changed the DAG or returned n=%d added=%v", n, added)
				}
				return
			}
			if !added || int(n) != before || d.Len() != before+1 || d.Depth(n) != 2 {
				t.Fatalf("n=%d added=%v len=%d depth=%d", n, added, d.Len(), d.Depth(n))
			}
		})
	}
}

func TestAddIdempotent(t *testing.T) {
	d := dag.New()
	a := mustAdd(t, d, "a")
	b := mustAdd(t, d, "b", "a")
	for _, tc := range []struct {
		name    string
		parents []string
		want    dag.Node
	}{
		{name: "root again", want: a},
		{name: "child again", parents: []string{"a"}, want: b},
		// The ID fixes the parents; a present ID is not checked again.
		{name: "child with other parents", parents: []string{"zz"}, want: b},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "a"
			if tc.want == b {
				name = "b"
			}
			mem := d.MemoryBytes()
			n, added, err := d.Add(id(name), ids(tc.parents...))
			if err != nil || added || n != tc.want {
				t.Fatalf("got n=%d added=%v err=%v, want n=%d added=false", n, added, err, tc.want)
			}
			if d.Len() != 2 || d.TipCount() != 1 || d.MemoryBytes() != mem {
				t.Fatalf("a repeated Add changed the DAG: len=%d tips=%d", d.Len(), d.TipCount())
			}
		})
	}
}

func TestTips(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edges [][]string // name, parents...
		want  []string
	}{
		{name: "empty"},
		{name: "root", edges: [][]string{{"a"}}, want: []string{"a"}},
		{name: "chain", edges: [][]string{{"a"}, {"b", "a"}, {"c", "b"}}, want: []string{"c"}},
		{name: "fork", edges: [][]string{{"a"}, {"b", "a"}, {"c", "a"}}, want: []string{"b", "c"}},
		{name: "merged", edges: [][]string{{"a"}, {"b", "a"}, {"c", "a"}, {"d", "b", "c"}}, want: []string{"d"}},
		{name: "two roots", edges: [][]string{{"a"}, {"b"}}, want: []string{"a", "b"}},
		{name: "out of order, parent later", edges: [][]string{{"a"}, {"c", "b"}, {"b", "a"}, {"c", "b"}}, want: []string{"c"}},
		{name: "re-added parent", edges: [][]string{{"a"}, {"b", "a"}, {"a"}}, want: []string{"b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dag.New()
			for _, e := range tc.edges {
				_, _, err := d.Add(id(e[0]), ids(e[1:]...))
				if err != nil && !errors.Is(err, dag.ErrMissingParent) {
					t.Fatal(err)
				}
			}
			want := entry.SortIDs(ids(tc.want...))
			if got := d.Tips(); !slices.Equal(got, want) || d.TipCount() != len(want) {
				t.Fatalf("Tips = %v (count %d), want %v", got, d.TipCount(), want)
			}
			for _, w := range want {
				if n, ok := d.Lookup(w); !ok || !d.IsTip(n) {
					t.Fatalf("IsTip(%s) is false", w)
				}
			}
		})
	}
}

// TestDepthIgnoresClaimedHeight builds real entries whose tree heights lie
// and checks that Depth comes from the parent links alone.
func TestDepthIgnoresClaimedHeight(t *testing.T) {
	root, err := entry.NewRoot(7).Height(1 << 40).Build()
	if err != nil {
		t.Fatal(err)
	}
	rootID := mustID(t, root)
	d := dag.New()
	prev, prevID := root, rootID
	for _, tc := range []struct {
		name    string
		claimed uint64
		want    uint32
	}{
		{name: "claims zero", claimed: 0, want: 1},
		{name: "claims huge", claimed: 1 << 60, want: 2},
		{name: "claims zero again", claimed: 0, want: 3},
	} {
		if d.Len() == 0 {
			if _, _, err := d.Add(rootID, prev.Tree.Parents); err != nil {
				t.Fatal(err)
			}
		}
		e, err := entry.NewBuilder(rootID).Parents(prevID).Height(tc.claimed).Build()
		if err != nil {
			t.Fatal(err)
		}
		eid := mustID(t, e)
		n, _, err := d.Add(eid, e.Tree.Parents)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Depth(n); got != tc.want {
			t.Errorf("%s: Depth = %d, want %d (claimed %d)", tc.name, got, tc.want, tc.claimed)
		}
		prev, prevID = e, eid
	}
	if r, _ := d.Lookup(rootID); d.Depth(r) != 0 {
		t.Errorf("root Depth = %d, want 0 (claimed %d)", d.Depth(r), root.Tree.Height)
	}
	// A lying height cannot hide history: the peer at the root misses all.
	top, _ := d.Lookup(prevID)
	r, _ := d.Lookup(rootID)
	if out, _ := d.Missing([]dag.Node{top}, []dag.Node{r}, 0); len(out) != 3 {
		t.Errorf("Missing from the top to the root = %v, want 3 nodes", out)
	}
}

func mustID(t *testing.T, e *entry.Entry) entry.ID {
	t.Helper()
	out, err := entry.ComputeID(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLookupAndID(t *testing.T) {
	for _, seed := range []uint64{0, 1, 0xdeadbeef} {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			d := dag.NewSeeded(seed)
			var all []entry.ID
			for i := range 3000 {
				x := id(strconv.Itoa(i))
				if i%7 == 3 {
					x = rawID(t, strconv.Itoa(i))
				}
				var ps []entry.ID
				if i > 0 {
					ps = all[i-1 : i]
				}
				if _, _, err := d.Add(x, ps); err != nil {
					t.Fatal(err)
				}
				all = append(all, x)
			}
			for i, x := range all {
				n, ok := d.Lookup(x)
				if !ok || int(n) != i || d.ID(n) != x || !d.Has(x) {
					t.Fatalf("Lookup(%d) = %d, %v; ID round trip %v", i, n, ok, d.ID(n) == x)
				}
			}
			for _, x := range []entry.ID{{}, id("absent"), rawID(t, "absent")} {
				if d.Has(x) {
					t.Fatalf("Has(%s) is true", x)
				}
			}
		})
	}
}

// TestZeroDigest checks that a non-standard ID, whose arena slot holds zeros,
// is never confused with a standard ID whose digest is zeros.
func TestZeroDigest(t *testing.T) {
	zero, err := entry.IDFromBytes(append([]byte{0x01, 0x71, 0x1e, 0x20}, make([]byte, 32)...))
	if err != nil {
		t.Fatal(err)
	}
	d := dag.New()
	raw := rawID(t, "r")
	if _, _, err := d.Add(raw, nil); err != nil {
		t.Fatal(err)
	}
	if d.Has(zero) {
		t.Fatal("the zero digest matches a non-standard node")
	}
	n, added, err := d.Add(zero, []entry.ID{raw})
	if err != nil || !added || d.ID(n) != zero {
		t.Fatalf("add zero digest: n=%d added=%v err=%v", n, added, err)
	}
	if got := d.Tips(); !slices.Equal(got, []entry.ID{zero}) {
		t.Fatalf("Tips = %v", got)
	}
}

func TestParentsKeepOrder(t *testing.T) {
	d := dag.New()
	a, b, c := mustAdd(t, d, "a"), mustAdd(t, d, "b"), mustAdd(t, d, "c")
	x := mustAdd(t, d, "x", "c", "a", "b")
	if got := d.Parents(x, []dag.Node{99}); !slices.Equal(got, []dag.Node{99, c, a, b}) {
		t.Fatalf("Parents = %v", got)
	}
	if got := d.Parents(a, nil); len(got) != 0 {
		t.Fatalf("Parents(root) = %v", got)
	}
}

func TestRange(t *testing.T) {
	d := dag.New()
	mustAdd(t, d, "a")
	mustAdd(t, d, "b", "a")
	mustAdd(t, d, "c", "b")
	for _, tc := range []struct {
		name         string
		start        dag.Node
		limit        int
		want         []dag.Node
		wantNext     dag.Node
		wantNilSlice bool
	}{
		{name: "first batch", start: 0, limit: 2, want: []dag.Node{0, 1}, wantNext: 2},
		{name: "last batch", start: 2, limit: 2, want: []dag.Node{2}, wantNext: 3},
		{name: "at end", start: 3, limit: 2, wantNext: 3},
		{name: "past end", start: 9, limit: 2, wantNext: 3},
		{name: "no limit", start: 1, limit: 0, want: []dag.Node{1, 2}, wantNext: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, next := d.Range(tc.start, tc.limit)
			if !slices.Equal(out, tc.want) || next != tc.wantNext {
				t.Fatalf("Range(%d, %d) = %v, %d", tc.start, tc.limit, out, next)
			}
		})
	}
}

func TestUnknownNodePanics(t *testing.T) {
	d := dag.New()
	mustAdd(t, d, "a")
	for name, f := range map[string]func(){
		"ID":      func() { d.ID(1) },
		"Depth":   func() { d.Depth(5) },
		"Missing": func() { d.Missing([]dag.Node{0}, []dag.Node{1}, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r, _ := recover().(string); len(r) < 26 || r[:26] != "kernel: assertion failed: " {
					t.Fatalf("recovered %q, want an assertion", r)
				}
			}()
			f()
		})
	}
}

func TestFrontierEmpty(t *testing.T) {
	d := dag.New()
	if got := d.Frontier(4); got != nil {
		t.Fatalf("empty DAG: %v", got)
	}
	mustAdd(t, d, "a")
	if got := d.Frontier(0); got != nil {
		t.Fatalf("max 0: %v", got)
	}
}
