package dag

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/eidsync/eidsync/kernel/entry"
)

func buildChain(t testing.TB, n int) *DAG {
	t.Helper()
	d := New()
	var prev []entry.ID
	for i := range n {
		x := entry.IDOf([]byte("chain" + strconv.Itoa(i)))
		if _, _, err := d.Add(x, prev); err != nil {
			t.Fatal(err)
		}
		prev = []entry.ID{x}
	}
	return d
}

// TestWalkIsNotHistory checks the cost claim: on a long chain a no-op pops
// nothing and a k-entry catch-up pops k nodes, whatever the length.
func TestWalkIsNotHistory(t *testing.T) {
	const size = 200_000
	d := buildChain(t, size)
	tip := Node(size - 1)
	for _, tc := range []struct {
		name       string
		from, have []Node
		wantOut    int
		wantWalked int
	}{
		{name: "no-op", from: []Node{tip}, have: []Node{tip}, wantOut: 0, wantWalked: 0},
		{name: "one behind", from: []Node{tip}, have: []Node{tip - 1}, wantOut: 1, wantWalked: 1},
		{name: "ten behind", from: []Node{tip}, have: []Node{tip - 10}, wantOut: 10, wantWalked: 10},
		{name: "peer ahead by ten", from: []Node{tip - 10}, have: []Node{tip}, wantOut: 0, wantWalked: 10},
		{name: "unknown have", from: []Node{tip}, wantOut: size, wantWalked: size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, walked := d.missing(tc.from, tc.have)
			if len(out) != tc.wantOut || walked != tc.wantWalked {
				t.Fatalf("got %d nodes, walked %d; want %d, %d", len(out), walked, tc.wantOut, tc.wantWalked)
			}
			for i, n := range out {
				if i > 0 && n != out[i-1]+1 {
					t.Fatalf("out of order at %d", i)
				}
			}
		})
	}
}

// TestWalkDense runs walks large enough to switch the marks to the dense
// form and compares them with plain reachability on a random DAG.
func TestWalkDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const size = 20_000
	d := New()
	parents := make([][]Node, size)
	for i := range size {
		var ps []entry.ID
		for k := 1 + rng.IntN(2); i > 0 && k > 0; k-- {
			// Mostly recent parents, so the DAG is deep.
			p := Node(max(0, i-1-rng.IntN(min(i, 20))))
			if !contains(parents[i], p) {
				parents[i] = append(parents[i], p)
				ps = append(ps, d.ID(p))
			}
		}
		if _, _, err := d.Add(entry.IDOf([]byte("dense"+strconv.Itoa(i))), ps); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 20 {
		from := []Node{Node(size - 1 - rng.IntN(100)), Node(rng.IntN(size))}
		have := []Node{Node(rng.IntN(size))}
		if round%4 == 0 {
			have = nil
		}
		got, _ := d.missing(from, have)
		want := reach(parents, from)
		for n := range reach(parents, have) {
			delete(want, n)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: got %d nodes, want %d", round, len(got), len(want))
		}
		for i, n := range got {
			if !want[n] || i > 0 && (d.depth[got[i-1]] > d.depth[n] || d.depth[got[i-1]] == d.depth[n] && got[i-1] >= n) {
				t.Fatalf("round %d: bad node %d at %d", round, n, i)
			}
		}
	}
}

func contains(ns []Node, n Node) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

func reach(parents [][]Node, from []Node) map[Node]bool {
	seen := map[Node]bool{}
	stack := append([]Node(nil), from...)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[x] {
			seen[x] = true
			stack = append(stack, parents[x]...)
		}
	}
	return seen
}

// TestTipFloor checks that the scan floor only passes fully merged words.
func TestTipFloor(t *testing.T) {
	d := buildChain(t, 1000)
	if d.tipFloor != 999/64 {
		t.Fatalf("tipFloor = %d on a 1000-chain, want %d", d.tipFloor, 999/64)
	}
	// A fork low in the history holds the floor down.
	if _, _, err := d.Add(entry.IDOf([]byte("side")), []entry.ID{d.ID(3)}); err != nil {
		t.Fatal(err)
	}
	if got := len(d.Tips()); got != 2 || d.tipFloor != 999/64 {
		t.Fatalf("tips %d, floor %d", got, d.tipFloor)
	}
}
