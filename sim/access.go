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
type treeAccess struct {
	readers, writers []bool
}

// privateBp is the chance, in basis points, that a tree is private.
const privateBp = 4000

// privateRoot makes a tree's root: public, or private with grants drawn
// from the access stream (so that the other streams draw as before).
func (w *world) privateRoot(entropy uint64, creator *node) kernel.Blob {
	r := w.r[streamAccess]
	if !r.chance(privateBp) {
		return w.reg.root(entropy)
	}
	acc := &treeAccess{readers: make([]bool, len(w.nodes)), writers: make([]bool, len(w.nodes))}
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
	data, err := json.Marshal(access.SettingsDoc{Auth: &doc})
	if err != nil {
		panic(fmt.Sprintf("sim: settings: %v", err))
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
