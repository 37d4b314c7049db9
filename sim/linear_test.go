package sim

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

// A hand-made DAG for the model tests: root t; a and f on t; b on a (f and
// b are written by other nodes and arrive by sync); c on a.
type linDAG struct {
	ids     map[string]entry.ID
	names   map[entry.ID]string
	parents map[entry.ID][]entry.ID
}

func newLinDAG() *linDAG {
	d := &linDAG{ids: map[string]entry.ID{}, names: map[entry.ID]string{}, parents: map[entry.ID][]entry.ID{}}
	for _, e := range []struct{ name, parent string }{{"t", ""}, {"a", "t"}, {"f", "t"}, {"b", "a"}, {"c", "a"}} {
		id := entry.IDOf([]byte("linear test " + e.name))
		d.ids[e.name], d.names[id] = id, e.name
		if e.parent != "" {
			d.parents[id] = []entry.ID{d.ids[e.parent]}
		}
	}
	return d
}

func (d *linDAG) put(name string, call, ret int64, ok bool) Op {
	return Op{Node: "n1", Kind: OpPut, Tree: d.ids["t"], ID: d.ids[name], Call: call, Return: ret, Ok: ok}
}

func (d *linDAG) unknown(name string, call, settled int64) Op {
	return Op{Node: "n1", Kind: OpPut, Tree: d.ids["t"], ID: d.ids[name], Call: call, Return: settled, Unknown: true}
}

func (d *linDAG) has(name string, at int64, held bool) Op {
	return Op{Node: "n1", Kind: OpHas, Tree: d.ids["t"], ID: d.ids[name], Call: at, Return: at, Ok: held}
}

func (d *linDAG) tips(at int64, names ...string) Op {
	var tips []entry.ID
	for _, n := range names {
		tips = append(tips, d.ids[n])
	}
	return Op{Node: "n1", Kind: OpTips, Tree: d.ids["t"], Call: at, Return: at, Ok: true, Tips: tips}
}

func (d *linDAG) check(ops []Op, vizDir string) (LinearStats, error) {
	return CheckLinear(ops, func(id entry.ID) []entry.ID { return d.parents[id] }, func(id entry.ID) string { return d.names[id] }, vizDir)
}

// TestLinearGood: histories a correct node can produce pass, including
// entries arriving from peers, a put seen before it returns, concurrent
// puts, and unknown puts that a crash kept or lost.
func TestLinearGood(t *testing.T) {
	d := newLinDAG()
	cases := map[string][]Op{
		"read-your-writes": {d.put("t", 1, 2, true), d.put("a", 3, 4, true), d.has("a", 5, true), d.tips(6, "a")},
		"seen before its return": {d.put("t", 1, 2, true), d.put("a", 3, 6, true), d.has("a", 4, true), d.tips(5, "a"),
			d.tips(7, "a")},
		"arrivals": {d.tips(1), d.has("f", 2, true), d.tips(3, "f"), d.has("b", 4, false), d.tips(5, "b", "f"),
			d.has("a", 6, true)},
		"failed put stays out": {d.put("t", 1, 2, true), d.put("a", 3, 4, false), d.has("a", 5, false), d.tips(6, "t"),
			d.has("f", 7, true), d.tips(8, "f")},
		"unknown put kept by the crash": {d.put("t", 1, 2, true), d.unknown("a", 3, 5), d.has("a", 4, false), d.has("a", 6, true),
			d.tips(7, "a")},
		"unknown put lost by the crash": {d.put("t", 1, 2, true), d.unknown("a", 3, 5), d.has("a", 6, false), d.tips(7, "t")},
		"unknown put never settled": {d.put("t", 1, 2, true), d.put("a", 3, 4, true), d.unknown("c", 5, -1),
			d.tips(6, "a"), d.tips(7, "c")},
		"unknown chain both kept": {d.put("t", 1, 2, true), d.unknown("a", 3, 6), d.unknown("c", 4, 6), d.has("c", 7, true),
			d.tips(8, "c")},
		"unknown chain both lost": {d.put("t", 1, 2, true), d.unknown("a", 3, 6), d.unknown("c", 4, 6), d.has("c", 7, false),
			d.has("a", 8, false), d.tips(9, "t")},
		"unknown chain, parent kept": {d.put("t", 1, 2, true), d.unknown("a", 3, 6), d.unknown("c", 4, 6), d.tips(7, "a"),
			d.has("c", 8, false)},
		"concurrent chain": {d.put("t", 1, 2, true), d.put("a", 3, 6, true), d.put("c", 3, 5, true), d.tips(7, "c")},
	}
	for name, ops := range cases {
		st, err := d.check(ops, "")
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if st.Partitions != 1 || st.Ops != len(ops) || st.Inconclusive != 0 {
			t.Errorf("%s: %+v", name, st)
		}
	}
}

// TestLinearBad: each bug the model exists for is caught, and the
// violation comes with porcupine's visualization.
func TestLinearBad(t *testing.T) {
	d := newLinDAG()
	cases := map[string][]Op{
		"put ok, then not held (no read-your-writes)":    {d.put("t", 1, 2, true), d.put("a", 3, 4, true), d.has("a", 5, false)},
		"put ok, then not in the tips":                   {d.put("t", 1, 2, true), d.put("a", 3, 4, true), d.tips(5, "t")},
		"an arrival disappears":                          {d.tips(1), d.has("f", 2, true), d.tips(3, "t")},
		"held, then not held":                            {d.put("t", 1, 2, true), d.has("f", 3, true), d.has("f", 4, false)},
		"failed put shows up":                            {d.put("t", 1, 2, true), d.put("a", 3, 4, false), d.has("a", 5, true)},
		"own entry seen before its put":                  {d.put("t", 1, 2, true), d.has("a", 3, true), d.put("a", 4, 5, true)},
		"unknown put shows up after the crash settled":   {d.put("t", 1, 2, true), d.unknown("a", 3, 4), d.has("a", 5, false), d.has("a", 6, true)},
		"unknown put seen, then gone":                    {d.put("t", 1, 2, true), d.unknown("a", 3, 5), d.has("a", 4, true), d.tips(6, "t")},
		"unknown child kept, its parent lost":            {d.put("t", 1, 2, true), d.unknown("a", 3, 6), d.unknown("c", 4, 6), d.has("c", 7, true), d.has("a", 8, false)},
		"tips not an antichain":                          {d.put("t", 1, 2, true), d.put("a", 3, 4, true), d.tips(5, "t", "a")},
		"child acknowledged, its own parent failed":      {d.put("t", 1, 2, true), d.put("a", 3, 4, false), d.put("c", 5, 6, true)},
		"tips miss a held entry reached by another path": {d.tips(1, "b", "f"), d.tips(2, "b")},
	}
	dir := t.TempDir()
	for name, ops := range cases {
		_, err := d.check(ops, dir)
		var v *LinearViolation
		if !errors.As(err, &v) {
			t.Errorf("%s: accepted (err %v)", name, err)
			continue
		}
		if v.Node != "n1" || v.Viz == "" {
			t.Errorf("%s: %+v", name, v)
			continue
		}
		if fi, err := os.Stat(v.Viz); err != nil || fi.Size() == 0 {
			t.Errorf("%s: visualization %s: %v", name, v.Viz, err)
		}
	}
}

// TestLinearPartitions: histories are checked per node and per wipe
// epoch, and a long one is cut at lone tips reads into pieces of at most
// linChunkOps operations that still catch a violation at the end.
func TestLinearPartitions(t *testing.T) {
	d := newLinDAG()
	var ops []Op
	for epoch := range 2 {
		for _, node := range []string{"n1", "n2"} {
			for _, op := range []Op{d.put("t", 1, 2, true), d.has("t", 3, true)} {
				op.Node, op.Epoch = "n1", epoch
				if node == "n2" {
					op.Node = "n2"
				}
				ops = append(ops, op)
			}
		}
	}
	st, err := d.check(ops, "")
	if err != nil || st.Partitions != 4 {
		t.Fatalf("%+v %v", st, err)
	}
	// After a wipe (a new epoch), a node may not hold what it held before.
	wiped := []Op{d.put("t", 1, 2, true), d.has("t", 3, false)}
	wiped[1].Epoch = 1
	if _, err := d.check(wiped, ""); err != nil {
		t.Fatal(err)
	}
	long := []Op{d.put("t", 1, 2, true), d.put("a", 3, 4, true)}
	at := int64(5)
	for range 3 * linChunkOps {
		long = append(long, d.has("a", at, true), d.tips(at+1, "a"))
		at += 2
	}
	st, err = d.check(long, "")
	if err != nil || st.Partitions < 6 || st.MaxOps > linChunkOps {
		t.Fatalf("%+v %v", st, err)
	}
	long = append(long, d.has("a", at, false))
	if _, err := d.check(long, ""); err == nil {
		t.Fatal("a violation in the last piece of a long history was accepted")
	}
}

// TestLinearMutatedRuns: real recorded histories pass, and each turns
// into a violation when one read is falsified: a has that saw the node's
// own acknowledged put answers false instead (lost read-your-writes).
func TestLinearMutatedRuns(t *testing.T) {
	mutated := 0
	for seed := uint64(1); seed <= 40; seed++ {
		res := Run(Options{Seed: seed, RecordOps: true})
		if res.Failure != nil {
			t.Fatalf("seed %d: %s", seed, res.Failure)
		}
		acked := map[linKey]map[entry.ID]int64{} // own acknowledged puts: return
		for i, op := range res.Ops {
			k := linKey{node: op.Node, epoch: op.Epoch, tree: op.Tree}
			switch {
			case op.Kind == OpPut && op.Ok && !op.Unknown:
				if acked[k] == nil {
					acked[k] = map[entry.ID]int64{}
				}
				acked[k][op.ID] = op.Return
			case op.Kind == OpHas && op.Ok:
				ret, own := acked[k][op.ID]
				if !own || ret >= op.Call {
					continue
				}
				bad := slices.Clone(res.Ops)
				bad[i].Ok = false
				if _, err := CheckLinear(bad, res.reg.parents, res.reg.tr.namer, ""); err == nil {
					t.Errorf("seed %d: has(%s) falsified to false after its put returned: accepted", seed, res.reg.tr.namer(op.ID))
				}
				mutated++
			}
		}
	}
	t.Logf("%d falsified reads, each caught", mutated)
	if mutated < 10 {
		t.Fatalf("only %d reads to falsify in 40 seeds", mutated)
	}
}
