package sim

import (
	"encoding/json"
	"fmt"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Private trees (PROTOCOL.md 1.7, 4, 8). In some seeds some trees are
// private: the root's _settings make its creator the admin and grant a
// random subset of the nodes Read or Write; the others may not read it.
// The simulator keeps these grants as its god's-eye view, independent of
// the kernel's own merging of settings, and checks after every step that no
// entry of a private tree is sent to a node outside its readers (invariant
// 8: nothing leaves toward a peer that may not read), and at the end that
// the readers converge while the others hold nothing of it. The workload
// writes to a private tree only on its writers, as the Go API enforces.

// treeAccess is who may read and write one private tree, by node index.
// A node whose access request the simulator approved counts as a reader
// from the moment the Decide is stepped (the grant may travel before the
// notice); until its NoticeDecided reports success it is unsure: the
// liveness phase neither requires it to hold the tree nor to lack it.
type treeAccess struct {
	admin                    int
	readers, writers, unsure []bool
}

// decision is an approval the simulator stepped, until its notice.
type decision struct {
	tree  entry.ID
	node  int
	write bool // the request asked Write
}

// privateBp is the chance, in basis points, that a tree is private.
const privateBp = 4000

// rootOverhead bounds a root entry's encoding without its settings.
const rootOverhead = 200

func settingsJSON(doc *access.AuthDoc) []byte {
	data, err := json.Marshal(access.SettingsDoc{Auth: doc})
	if err != nil {
		panic(fmt.Sprintf("sim: settings: %v", err))
	}
	return data
}

// privateRoot makes a tree's root: public, or private with grants drawn
// from the access stream (so that the other streams draw as before).
func (w *world) privateRoot(entropy uint64, creator *node) kernel.Blob {
	r := w.r[streamAccess]
	if !r.chance(privateBp) {
		return w.reg.root(entropy)
	}
	acc := &treeAccess{admin: creator.idx, readers: make([]bool, len(w.nodes)), writers: make([]bool, len(w.nodes)),
		unsure: make([]bool, len(w.nodes))}
	doc := access.AuthDoc{Keys: map[string]access.Grant{}}
	for _, n := range w.nodes {
		perm := access.PermRead
		switch {
		case n == creator:
			perm = access.PermAdmin(0)
		case r.chance(5000):
			continue // no grant: may not read
		case r.chance(5000):
			perm = access.PermWrite(5)
		}
		acc.readers[n.idx], acc.writers[n.idx] = true, perm.Level >= access.Write
		doc.Keys[n.key.pub.String()] = access.Grant{Permissions: perm, Status: access.Active}
	}
	// NB: the root must fit the drawn entry limit (a large swarm's grants
	// may not: large seed 87); the last nodes' grants go until it does,
	// and those nodes ask for access like any other without one.
	budget := w.sw.config(0, creator.key).Wire.Entry.EntryBytesMax - rootOverhead
	data := settingsJSON(&doc)
	for i := len(w.nodes) - 1; i >= 0 && len(data) > budget; i-- {
		if n := w.nodes[i]; n != creator && acc.readers[n.idx] {
			delete(doc.Keys, n.key.pub.String())
			acc.readers[n.idx], acc.writers[n.idx] = false, false
			data = settingsJSON(&doc)
		}
	}
	b := w.reg.rootWith(entropy, data)
	w.access[b.ID] = acc
	w.mark(MarkPrivateTree)
	return b
}

// mayRead and mayWrite are the god's-eye grants of a tree to a node.
func (w *world) mayRead(n *node, tree entry.ID) bool {
	acc := w.access[tree]
	return acc == nil || n != nil && acc.readers[n.idx]
}

func (w *world) mayWrite(n *node, tree entry.ID) bool {
	acc := w.access[tree]
	return acc == nil || acc.writers[n.idx]
}

// checkConfidential is invariant 8 on one Send effect of n: every entry it
// carries belongs to a tree the destination may read.
func (w *world) checkConfidential(n *node, env kernel.Envelope) {
	if w.opts.Unchecked || len(w.access) == 0 {
		return
	}
	dst := w.byID[env.To]
	for _, b := range messageBlobs(env.Msg) {
		if b.Entry == nil {
			continue
		}
		tree := b.Entry.TreeID(b.ID)
		if !w.mayRead(dst, tree) {
			w.failf(chkApproval, n, "sent entry %s of private tree %s to %s, whose key may not read it (%s)",
				w.tr.namer(b.ID), w.tr.namer(tree), env.To, kernel.DescribeMessage(env.Msg, w.tr.namer))
			return
		}
	}
}

// accessAsk is what a sync of n asks for: in half of the syncs of a
// private tree n may not read (most of them), access (Read or Write)
// under n's name.
func (w *world) accessAsk(n *node, tree entry.ID) (*kernel.Permission, string) {
	if w.access[tree] == nil || w.mayRead(n, tree) {
		return nil, ""
	}
	defer w.leave(w.enter(streamAccess, siteAsk, uint64(n.idx), 0))
	r := w.r[streamAccess]
	if !r.chance(8000) {
		return nil, ""
	}
	p := access.PermRead
	if r.chance(3000) {
		p = access.PermWrite(7)
	}
	return &p, string(n.id)
}

// decideRequests has the admin of each private tree decide its oldest
// pending request now and then: approve (60%) or reject. An approval makes
// the asker a reader (and a writer if it asked Write) in the god's-eye view.
func (w *world) decideRequests() {
	defer w.leave(w.enter(streamAccess, siteDecide, 0, 0))
	r := w.r[streamAccess]
	for _, tree := range w.wl.trees {
		acc := w.access[tree]
		if acc == nil || !r.chance(3000) {
			continue
		}
		admin := w.nodes[acc.admin]
		approve := r.chance(6000)
		if admin.state != stUp {
			continue
		}
		w.recordList(admin)
		for _, req := range admin.m.Approvals() {
			if req.Tree != tree || req.Status != kernel.ApprovalPending {
				continue
			}
			ref := w.nextRef()
			w.recordDecide(admin, ref, req.ID, approve)
			if asker := w.nodeByKey(req.Key); approve && asker != nil {
				acc.readers[asker.idx], acc.unsure[asker.idx] = true, true
				acc.writers[asker.idx] = acc.writers[asker.idx] || req.Requested.Level >= access.Write
				w.decisions[ref] = decision{tree: tree, node: asker.idx, write: req.Requested.Level >= access.Write}
			}
			admin.step(kernel.Decide{Ref: ref, ID: req.ID, Approve: approve}, fromSim)
			break
		}
	}
}

// decided settles an approval's god's-eye state from its notice.
func (w *world) decided(no kernel.Notice) {
	d, ok := w.decisions[no.Ref]
	if !ok {
		return
	}
	delete(w.decisions, no.Ref)
	acc := w.access[d.tree]
	if no.Err == "" {
		acc.readers[d.node], acc.unsure[d.node] = true, false
		acc.writers[d.node] = acc.writers[d.node] || d.write
		w.mark(MarkApproved)
		return
	}
	// The decision failed. Unless another decision for the asker is still
	// on its way, the asker may read only if the grant was stored anyway
	// (the approver's settings show it).
	if w.deciding(d.tree, d.node) {
		return
	}
	if admin := w.nodes[acc.admin]; admin.m != nil && !admin.m.Permissions(d.tree).Can(w.nodes[d.node].key.pub, access.PermRead) {
		acc.readers[d.node], acc.writers[d.node], acc.unsure[d.node] = false, false, false
	}
}

func (w *world) nodeByKey(k entry.PublicKey) *node {
	for _, n := range w.nodes {
		if n.key.pub == k {
			return n
		}
	}
	return nil
}

// unsure reports whether n's access to tree is unknown (see treeAccess).
func (w *world) unsure(n *node, tree entry.ID) bool {
	acc := w.access[tree]
	return acc != nil && acc.unsure[n.idx]
}

// checkWriter is the write half of invariant 8 on every blob a store
// applies: an entry of a private tree other than its root is signed by a
// node the god's-eye grants let write it.
func checkWriter(w *world, d *disk, tree entry.ID, b kernel.Blob) {
	acc := w.access[tree]
	if acc == nil || b.Entry.IsRoot() {
		return
	}
	signer := w.nodeByKey(b.Entry.Sig.Key.Hint.PubKey)
	if b.Entry.Sig.Sig == "" || signer == nil || !acc.writers[signer.idx] {
		w.failf(chkApproval, d.n, "stored entry %s of private tree %s, signed by a key that may not write it (%s)",
			w.tr.namer(b.ID), w.tr.namer(tree), b.Entry.Sig.Key.Hint.PubKey)
	}
}

// forgetDecisions drops the decisions a crashed approver was making: their
// notices will never come (settleUnsure judges their askers instead).
func (w *world) forgetDecisions(n *node) {
	for ref, d := range w.decisions {
		if w.access[d.tree].admin == n.idx {
			delete(w.decisions, ref)
		}
	}
}

// settleUnsure judges each asker whose approval's outcome is unknown (no
// notice, the approver crashed) by the approver's settings now: the grant
// is stored there or it is nowhere, since a grant travels only once
// stored. Decisions still on their way are left to their notices.
func (w *world) settleUnsure() {
	for _, tree := range w.wl.trees {
		acc := w.access[tree]
		if acc == nil || w.nodes[acc.admin].m == nil {
			continue
		}
		admin := w.nodes[acc.admin]
		for idx, unsure := range acc.unsure {
			if !unsure || w.deciding(tree, idx) {
				continue
			}
			key := w.nodes[idx].key.pub
			acc.readers[idx] = admin.m.Permissions(tree).Can(key, access.PermRead)
			acc.writers[idx] = admin.m.Permissions(tree).Can(key, access.PermWrite(^uint32(0)))
			acc.unsure[idx] = false
		}
	}
}

// deciding reports whether a decision for the asker is still on its way.
func (w *world) deciding(tree entry.ID, idx int) bool {
	for _, d := range w.decisions {
		if d.tree == tree && d.node == idx {
			return true
		}
	}
	return false
}
