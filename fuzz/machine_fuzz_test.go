package fuzz_test

import (
	"fmt"
	"testing"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"github.com/eidsync/eidsync/sim"
)

// FuzzMachine turns bytes into a run of three machines: local commits on
// forking histories, syncs, message delivery, loss, duplication and
// reordering, ticks, restarts, and crafted peer messages (requests and
// replies naming real and made-up entries and sequence numbers). It checks
// that no input panics the kernel (with -tags invariants, checkInvariants
// runs after every Step), that every store stays parent-closed, and that
// the same bytes give the same trace twice.
func FuzzMachine(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 1, 3, 3, 3, 3, 3})
	f.Add([]byte{0, 1, 0, 2, 2, 0, 1, 5, 3, 4, 3, 6, 7, 1, 3, 3})
	f.Add([]byte{8, 0, 9, 1, 2, 1, 0, 3, 10, 2, 3, 3, 3})
	f.Add([]byte("\x00\x00\x00\x01\x01\x02\x02\x00\x01\x03\x03\x05\x03\x09\x09\x0a\x0b"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			ops = ops[:400]
		}
		first := runMachineFuzz(t, ops)
		if second := runMachineFuzz(t, ops); first != second {
			t.Fatalf("same input, different traces: %x vs %x", first, second)
		}
	})
}

type machineFuzz struct {
	t     *testing.T
	env   *sim.Env
	nodes []*sim.Node
	names []string // entries made so far, root first
	ops   []byte
	pos   int
}

func (r *machineFuzz) next() int {
	if r.pos >= len(r.ops) {
		return 0
	}
	r.pos++
	return int(r.ops[r.pos-1])
}

func runMachineFuzz(t *testing.T, ops []byte) [32]byte {
	r := &machineFuzz{t: t, env: sim.NewQuietEnv(), ops: ops}
	r.env.TraceOn()
	for _, name := range []string{"p1", "p2", "p3"} {
		n, err := r.env.AddMachine(name, func(c *kernel.Config) {
			c.Wire.EntriesMax, c.OrphanTicksMax, c.RequestTicksMax, c.OrphansMax = 4, 5, 8, 8
		})
		if err != nil {
			t.Fatal(err)
		}
		r.nodes = append(r.nodes, n)
	}
	root, err := r.env.Entry(r.nodes[0], "t1")
	if err != nil {
		t.Fatal(err)
	}
	r.names = []string{"t1"}
	r.env.Commit(r.nodes[0], root)
	for r.pos < len(r.ops) {
		r.step(root.ID)
	}
	if err := r.env.Stabilize(2000); err != nil {
		t.Fatal(err)
	}
	r.checkStores()
	return r.env.TraceHash()
}

func (r *machineFuzz) step(tree entry.ID) {
	n := r.nodes[r.next()%3]
	switch r.next() % 12 {
	case 0, 1:
		r.commit(n)
	case 2:
		r.env.Sync(n, r.nodes[(r.next()%2+1+indexOf(r.nodes, n))%3], tree)
	case 3:
		r.env.Deliver(1, false)
	case 4:
		r.env.Drop(1)
	case 5:
		r.env.Deliver(r.next()%4, true)
	case 6:
		r.env.Tick(1 + r.next()%4)
	case 7:
		if err := r.env.Restart(n); err != nil {
			r.t.Fatal(err)
		}
	case 8, 9:
		r.craft(n, tree)
	default:
		r.env.Process()
	}
}

// commit makes a new entry on n whose parents are one or two entries n holds.
func (r *machineFuzz) commit(n *sim.Node) {
	var held []string
	for _, name := range r.names {
		if b, _ := r.env.Entry(n, name); n.Store.Has(b.ID) {
			held = append(held, name)
		}
	}
	if len(held) == 0 {
		return
	}
	parents := held[r.next()%len(held)]
	if other := held[r.next()%len(held)]; other != parents {
		parents += " " + other
	}
	name := fmt.Sprintf("e%d", len(r.names))
	b, err := r.env.Entry(n, name+": "+parents)
	if err != nil {
		r.t.Fatal(err)
	}
	r.names = append(r.names, name)
	r.env.Commit(n, b)
}

// craft delivers a made-up peer message to n: requests naming real or
// unknown entries, or replies to real or made-up sequence numbers.
func (r *machineFuzz) craft(n *sim.Node, tree entry.ID) {
	pick := func() kernel.Blob {
		b, _ := r.env.Entry(n, r.names[r.next()%len(r.names)])
		return b
	}
	ids := []entry.ID{pick().ID, entry.IDOf([]byte{byte(r.next())})}
	var msg kernel.Message
	switch r.next() % 6 {
	case 0:
		msg = kernel.SyncTree{TreeID: tree, OurTips: ids[:1+r.next()%2], Have: ids[1:]}
	case 1:
		msg = kernel.SendEntries{Entries: []kernel.Blob{pick(), pick()}}
	case 2:
		msg = kernel.GetEntries{TreeID: tree, IDs: ids}
	case 3:
		msg = kernel.IncrementalResponse{TreeID: tree, TheirTips: ids, MissingEntries: []kernel.Blob{pick()}}
	case 4:
		msg = kernel.EntriesResponse{TreeID: tree, Entries: []kernel.Blob{pick()}, Missing: ids[1:]}
	default:
		msg = kernel.ErrorResponse{Message: "no"}
	}
	r.env.Craft(n, "px", msg, kernel.Seq(r.next()%32))
}

// checkStores: every stored entry's parents are stored too.
func (r *machineFuzz) checkStores() {
	for _, n := range r.nodes {
		for _, name := range r.names {
			b, _ := r.env.Entry(n, name)
			if !n.Store.Has(b.ID) {
				continue
			}
			for _, p := range b.Entry.Tree.Parents {
				if !n.Store.Has(p) {
					r.t.Fatalf("%s stores %s without its parent %s", n.ID, name, r.env.Name(p))
				}
			}
		}
	}
}

func indexOf(nodes []*sim.Node, n *sim.Node) int {
	for i, x := range nodes {
		if x == n {
			return i
		}
	}
	return 0
}
