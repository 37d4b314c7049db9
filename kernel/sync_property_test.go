package kernel_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/sim"
)

// randomDAG is a tree's history as parent lists over indices; index order is
// a topological order and index 0 is the root.
type randomDAG struct{ parents [][]int }

func drawDAG(t *rapid.T) randomDAG {
	n := rapid.IntRange(1, 40).Draw(t, "entries")
	d := randomDAG{parents: make([][]int, n)}
	for i := 1; i < n; i++ {
		k := rapid.IntRange(1, min(3, i)).Draw(t, fmt.Sprintf("parents%d", i))
		set := map[int]bool{}
		for range k {
			// Favour recent parents, as real writers do, but reach back.
			set[i-1-rapid.IntRange(0, i-1).Draw(t, "back")] = true
		}
		for p := range set {
			d.parents[i] = append(d.parents[i], p)
		}
		slices.Sort(d.parents[i])
	}
	return d
}

// closure is the naive oracle: every ancestor of the seeds, seeds included.
func (d randomDAG) closure(seeds []int) map[int]bool {
	out := map[int]bool{}
	stack := slices.Clone(seeds)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !out[i] {
			out[i] = true
			stack = append(stack, d.parents[i]...)
		}
	}
	return out
}

func (d randomDAG) drawHeld(t *rapid.T, label string) map[int]bool {
	seeds := rapid.SliceOfNDistinct(rapid.IntRange(0, len(d.parents)-1), 0, 4, rapid.ID[int]).Draw(t, label)
	return d.closure(seeds)
}

func (d randomDAG) line(i int) string {
	if i == 0 {
		return "t1"
	}
	names := make([]string, len(d.parents[i]))
	for j, p := range d.parents[i] {
		names[j] = d.name(p)
	}
	return d.name(i) + ": " + strings.Join(names, " ")
}

func (d randomDAG) name(i int) string {
	if i == 0 {
		return "t1"
	}
	return fmt.Sprintf("e%d", i)
}

// tips is the oracle's tip set of a held set, as names, sorted.
func (d randomDAG) tips(held map[int]bool) []string {
	hasChild := map[int]bool{}
	for i := range held {
		for _, p := range d.parents[i] {
			hasChild[p] = true
		}
	}
	var out []string
	for i := range held {
		if !hasChild[i] {
			out = append(out, d.name(i))
		}
	}
	slices.Sort(out)
	return out
}

type syncOutcome struct {
	stats  kernel.SyncStats
	wire   sim.WireStats
	missAB int // entries a held that b lacked
	missBA int
}

// runSync builds the env, commits each side's share, syncs b with a and
// checks both end with the union, exactly as the oracle says.
func runSync(t *rapid.T, d randomDAG, heldA, heldB map[int]bool) syncOutcome {
	env := sim.NewQuietEnv()
	a, _ := env.AddMachine("a", nil)
	b, _ := env.AddMachine("b", nil)
	blobs := make([]kernel.Blob, len(d.parents))
	for i := range d.parents {
		var err error
		if blobs[i], err = env.Entry(a, d.line(i)); err != nil {
			t.Fatal(err)
		}
		if heldA[i] {
			env.Commit(a, blobs[i])
		}
		if heldB[i] {
			env.Commit(b, blobs[i])
		}
	}
	out := syncOutcome{}
	for i := range d.parents {
		out.missAB += boolToInt(heldA[i] && !heldB[i])
		out.missBA += boolToInt(heldB[i] && !heldA[i])
	}
	ref := env.Sync(b, a, blobs[0].ID)
	if err := env.Stabilize(500); err != nil {
		t.Fatal(err)
	}
	res, err := env.SyncResult(ref)
	if err != nil || res.Kind != kernel.NoticeSyncDone || len(env.Refusals) > 0 {
		t.Fatalf("sync did not finish: %v %+v refusals %v", err, res, env.Refusals)
	}
	union := map[int]bool{}
	for i := range d.parents {
		union[i] = heldA[i] || heldB[i]
		for _, n := range []*sim.Node{a, b} {
			if n.Store.Has(blobs[i].ID) != union[i] {
				t.Fatalf("%s holds %s: %t, oracle says %t", n.ID, d.name(i), n.Store.Has(blobs[i].ID), union[i])
			}
		}
	}
	if len(union) > 0 && (heldA[0] || heldB[0]) {
		checkTips(t, env, d, union, a, b)
	}
	out.stats, out.wire = res.Stats, env.Wire
	return out
}

func checkTips(t *rapid.T, env *sim.Env, d randomDAG, union map[int]bool, nodes ...*sim.Node) {
	held := map[int]bool{}
	for i, ok := range union {
		if ok {
			held[i] = true
		}
	}
	want := d.tips(held)
	for _, n := range nodes {
		st := n.M.Status()
		if len(st.Trees) != 1 {
			t.Fatalf("%s holds %d trees", n.ID, len(st.Trees))
		}
		var got []string
		for _, id := range st.Trees[0].Tips {
			got = append(got, env.Name(id))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s tips %v, oracle %v", n.ID, got, want)
		}
	}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSyncPullOnlyIsExact: when b holds a subset of a's history, one sync
// sends b exactly the entries it lacks, none twice, and pushes nothing.
func TestSyncPullOnlyIsExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := drawDAG(t)
		all := d.closure([]int{len(d.parents) - 1})
		for i := range d.parents {
			all[i] = true
		}
		heldB := d.drawHeld(t, "b")
		out := runSync(t, d, all, heldB)
		if out.stats.Pulled != out.missAB || out.stats.Redundant != 0 || out.stats.Pushed != 0 {
			t.Fatalf("pull-only: %+v, missing %d", out.stats, out.missAB)
		}
		if out.wire.EntriesSent != out.missAB {
			t.Fatalf("pull-only: %d entries on the wire for %d missing", out.wire.EntriesSent, out.missAB)
		}
	})
}

// TestSyncRandomSplitConverges: for any two ancestor-closed shares of one
// history, one sync gives both the union. Entries sent that the receiver
// already held are counted and reported.
func TestSyncRandomSplitConverges(t *testing.T) {
	var sent, needed, redundant, runs int
	rapid.Check(t, func(t *rapid.T) {
		d := drawDAG(t)
		heldA := d.drawHeld(t, "a")
		heldA[0] = true
		out := runSync(t, d, heldA, d.drawHeld(t, "b"))
		if out.stats.Pushed != out.missBA {
			t.Fatalf("pushed %d, b held %d that a lacked", out.stats.Pushed, out.missBA)
		}
		sent += out.wire.EntriesSent
		needed += out.missAB + out.missBA
		redundant += out.wire.EntriesSent - out.missAB - out.missBA
		runs++
	})
	t.Logf("random splits: %d runs, %d entries needed, %d sent, %d redundant (%.2f%% of sent)",
		runs, needed, sent, redundant, 100*float64(redundant)/float64(max(sent, 1)))
}
