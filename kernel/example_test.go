package kernel_test

import (
	"fmt"

	"github.com/eidsync/eidsync/sim"
)

// ExampleMachine drives two machines to convergence through the sim
// harness, which plays store and network: p1 writes a chain, p2 starts
// empty, and one sync bootstraps p2.
func ExampleMachine() {
	env := sim.NewQuietEnv()
	p1, _ := env.AddMachine("p1", nil)
	p2, _ := env.AddMachine("p2", nil)
	for _, line := range []string{"t1", "e1: t1", "e2: e1", "e3: e2"} {
		b, _ := env.Entry(p1, line)
		env.Commit(p1, b)
	}
	tree, _ := env.Entry(p1, "t1")
	ref := env.Sync(p2, p1, tree.ID)
	if err := env.Stabilize(100); err != nil {
		fmt.Println(err)
	}
	res, _ := env.SyncResult(ref)
	fmt.Println(res.Kind, "pulled", res.Stats.Pulled)
	for _, n := range []*sim.Node{p1, p2} {
		st := n.M.Status().Trees[0]
		fmt.Println(n.ID, "entries", st.Entries, "tips", env.Name(st.Tips[0]))
	}
	// Output:
	// SyncDone pulled 4
	// p1 entries 4 tips e3
	// p2 entries 4 tips e3
}
