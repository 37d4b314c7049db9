package sim

import "github.com/eidsync/eidsync/kernel"

// checkRewrite (5): a machine writes an entry once. It never writes an
// entry it was told is stored, nor one already in a write in flight: a
// received entry it holds is redundant (kernel tree.go, ingest), a local
// commit of it is answered from the index. Applying an entry twice is
// what this catches at the write, where the duplicated-request check
// (checkDup) only sees it when the network happens to duplicate a
// request back to back.
func checkRewrite(w *world, n *node, wr kernel.Write) {
	if w.opts.Unchecked || len(wr.Blobs) == 0 {
		return
	}
	set := n.acked[wr.Tree]
	for _, b := range wr.Blobs {
		if set != nil && set.has[b.ID] {
			w.failf(chkIdempotence, n, "wrote %s again, which it was told is stored", w.tr.namer(b.ID))
			return
		}
		for _, pw := range n.disk.pending {
			for _, o := range pw.w.Blobs {
				if o.ID == b.ID {
					w.failf(chkIdempotence, n, "wrote %s again while its write seq=%d is in flight", w.tr.namer(b.ID), pw.w.Seq)
					return
				}
			}
		}
	}
}
