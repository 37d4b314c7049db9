package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// workload is what users and peers do (SIMULATION.md 2.5): concurrent
// writers on one or more trees, forks, deep chains, wide fan-out, syncs
// between random peers, a rogue peer sending bad entries, and reads of the
// local API. Actions come at exponential intervals during the safety
// phase. Each action draws its parameters from its own stream, seeded from
// the workload stream, so dropping one (Options.Skip) leaves the others'
// draws as they were.
type workload struct {
	w       *world
	r       rng
	trees   []entry.ID
	written []entry.ID // every entry the workload committed, in order
	weight  int
	made    int
}

func newWorkload(w *world) *workload {
	if w.prof.G14 {
		return newG14Workload(w)
	}
	wl := &workload{w: w, r: w.r[streamWorkload]}
	for a := range actionCount {
		wl.weight += w.sw.Weights[a]
	}
	var up []*node
	for _, n := range w.nodes {
		if n.state == stUp {
			up = append(up, n)
		}
	}
	for i := range w.sw.Trees {
		entropy := wl.r.Uint64()
		creator := up[wl.r.pick(len(up))]
		root := w.privateRoot(entropy, creator)
		wl.trees = append(wl.trees, root.ID)
		w.q.push(int64(1+i), func() {
			if creator.state == stUp {
				creator.commit([]kernel.Blob{root})
			}
		})
	}
	w.q.push(int64(10+wl.r.exp(w.prof.ActionMs)), wl.act)
	return wl
}

// act runs one action on a random node and schedules the next.
func (wl *workload) act() {
	w := wl.w
	if w.phase != phaseSafety {
		return
	}
	defer w.leave(w.enter(streamWorkload, siteAct, 0, 0))
	w.q.push(w.now+1+int64(wl.r.exp(w.prof.ActionMs)), wl.act)
	w.decideRequests()
	a := wl.choose()
	n := w.nodes[wl.r.pick(len(w.nodes))]
	tree := wl.trees[wl.r.pick(len(wl.trees))]
	ar := rng{rand.New(rand.NewPCG(wl.r.Uint64(), uint64(a)))}
	in := Injection{N: w.number(faultCount), Fault: faultCount, Action: actionNames[a], Node: n.id, AtMs: w.now}
	if skip := w.opts.Skip != nil && w.opts.Skip(in); skip || n.state != stUp {
		return
	}
	switch a {
	case actCommit:
		wl.commit(ar, n, tree, 1, false)
	case actChain:
		wl.commit(ar, n, tree, ar.between(2, 8), true)
	case actFanout:
		wl.commit(ar, n, tree, ar.between(2, 5), false)
	case actFork:
		wl.fork(ar, n, tree)
	case actMulti:
		wl.multi(ar, n)
	case actSync:
		wl.sync(ar, n, tree)
	case actBadEntry:
		wl.bad(ar, n, tree)
	case actRead:
		wl.read(ar, n, tree)
	case actFlush:
		n.step(kernel.FlushAsked{Ref: w.nextRef()}, fromSim)
	}
}

func (wl *workload) choose() action {
	x := wl.r.pick(max(wl.weight, 1))
	for a := range actionCount {
		if x < wl.w.sw.Weights[a] {
			return a
		}
		x -= wl.w.sw.Weights[a]
	}
	return actCommit
}

// entry makes a new entry of tree on parents, signed in some seeds.
func (wl *workload) entry(r rng, n *node, tree entry.ID, parents []entry.ID) kernel.Blob {
	wl.made++
	payload := fmt.Appendf(nil, "%s/%d/", n.id, wl.made)
	room := n.cfg.Wire.Entry.EntryBytesMax - entryOverhead - parentBytes*len(parents)
	for range min(r.between(0, wl.w.sw.PayloadMax), max(room, 0)) {
		payload = append(payload, byte(r.Uint32()))
	}
	var key *entry.PrivateKey
	// NB: the draw is made either way, so that the streams do not depend
	// on which trees are private; a private tree's entries are always
	// signed, as the Go API signs them (the kernel refuses unsigned ones).
	if r.chance(wl.w.sw.SignedBp) || wl.w.access[tree] != nil {
		key = &n.key.priv
	}
	b := wl.w.reg.child(tree, parents, payload, key)
	wl.written = append(wl.written, b.ID)
	return b
}

// entryOverhead and parentBytes bound an entry's encoding without its
// payload, so that the workload never builds an entry over EntryBytesMax;
// parentsMax bounds a merge.
const (
	entryOverhead = 300
	parentBytes   = 40
	parentsMax    = 16
)

// commit writes k entries on the node's tips: a chain (each on the one
// before) or siblings (fan-out), all stepped before one drain. A node that
// does not hold the tree syncs it instead.
func (wl *workload) commit(r rng, n *node, tree entry.ID, k int, chain bool) {
	if !wl.w.mayWrite(n, tree) {
		return
	}
	tips := n.m.Tips(tree)
	if tips == nil {
		wl.sync(r, n, tree)
		return
	}
	switch {
	case k > 1 && chain:
		wl.w.mark(MarkChain)
	case k > 1:
		wl.w.mark(MarkFanout)
	}
	var blobs []kernel.Blob
	parents := tips[:min(len(tips), parentsMax)]
	for range k {
		b := wl.entry(r, n, tree, parents)
		blobs = append(blobs, b)
		if chain {
			parents = []entry.ID{b.ID}
		}
	}
	n.commit(blobs)
}

// fork commits on one tip of several, or on an older entry.
func (wl *workload) fork(r rng, n *node, tree entry.ID) {
	set := n.acked[tree]
	tips := n.m.Tips(tree)
	if !wl.w.mayWrite(n, tree) {
		return
	}
	if set == nil || len(set.list) < 2 || tips == nil {
		wl.commit(r, n, tree, 1, false)
		return
	}
	parent := set.list[r.pick(len(set.list))]
	if r.chance(5000) {
		parent = tips[r.pick(len(tips))]
	}
	wl.w.mark(MarkFork)
	n.commit([]kernel.Blob{wl.entry(r, n, tree, []entry.ID{parent})})
}

// multi commits on two trees in one batch: one Ready with two writes,
// which a crash may tear.
func (wl *workload) multi(r rng, n *node) {
	var blobs []kernel.Blob
	for _, tree := range wl.trees {
		if tips := n.m.Tips(tree); tips != nil && wl.w.mayWrite(n, tree) {
			blobs = append(blobs, wl.entry(r, n, tree, tips[:min(len(tips), parentsMax)]))
		}
	}
	if len(blobs) > 0 {
		n.commit(blobs)
	}
}

// sync asks n to sync tree with a random other node, whatever its state.
func (wl *workload) sync(r rng, n *node, tree entry.ID) {
	w := wl.w
	peer := w.nodes[(n.idx+1+r.pick(len(w.nodes)-1))%len(w.nodes)]
	perm, name := w.accessAsk(n, tree)
	n.askSyncAccess(peer, tree, perm, name)
}

func (n *node) askSync(peer *node, tree entry.ID) {
	n.askSyncAccess(peer, tree, nil, "")
}

// askSyncAccess syncs, asking peer for access if it refuses (perm set).
func (n *node) askSyncAccess(peer *node, tree entry.ID, perm *kernel.Permission, name string) {
	ref := n.w.nextRef()
	n.syncs[ref] = lenOf(n.acked[tree]) > 0
	n.step(kernel.SyncAsked{Ref: ref, Peer: peer.id, Tree: tree, Access: perm, AccessName: name}, fromSim)
}

// commit hands local entries to the machine, all before one drain.
func (n *node) commit(blobs []kernel.Blob) {
	w := n.w
	evs := make([]kernel.Event, len(blobs))
	refs := make([]kernel.Ref, len(blobs))
	for i, b := range blobs {
		refs[i] = w.nextRef()
		evs[i] = kernel.Committed{Ref: refs[i], Blob: b}
		n.local[b.ID] = true
		n.lastPut = b.ID
		w.opPut(n, refs[i], b)
	}
	s := n.stepAll(evs, fromSim, nil)
	for i, err := range s.errs {
		if err != nil {
			w.opReturn(n, refs[i], false)
		}
	}
}

// read queries the local API: the tips of a tree, and whether it holds an
// entry: half the time the node's own latest commit (read-your-writes),
// else a random entry written so far. Recorded only with
// Options.RecordOps, but drawn always, so the streams do not depend on
// recording; reads change nothing, so their draws (from the action's own
// stream) move no other decision.
func (wl *workload) read(r rng, n *node, tree entry.ID) {
	var id entry.ID
	if len(wl.written) > 0 {
		id = wl.written[r.pick(len(wl.written))]
	}
	own := r.chance(5000)
	hasFirst := r.chance(5000)
	if own && !n.lastPut.IsZero() {
		id = n.lastPut
	}
	w := wl.w
	if !w.opts.RecordOps {
		return
	}
	if hasFirst && !id.IsZero() {
		w.opHas(n, id)
	}
	w.opTips(n, tree)
	if !hasFirst && !id.IsZero() {
		w.opHas(n, id)
	}
}
