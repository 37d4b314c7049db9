package sim

import (
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// pushAck is what checkPushAck knows of one inbound SendEntries.
type pushAck struct {
	received bool           // the step that received the request is over
	written  []entry.ID     // pushed entries that step sent to the store
	early    kernel.Message // an Ack or Count sent inside that step
}

// checkPushAck (4): an Ack or Count to SendEntries tells the pusher that
// what it pushed is durable: the pusher then counts it as pushed, clears
// its relation's dirty flag and never sends it again unless asked (kernel
// serve.go: the answer waits for the Writes of the pushed entries). So
// every pushed entry the receiving step sent to the store must be in the
// store when the answer leaves. Entries already held or kept as orphans
// get no write of their own and are counted at once, by design; they are
// not judged here. An answer given inside the receiving step is judged
// after it, once that step's writes are known (afterReceipt).
func checkPushAck(w *world, n *node, in *inbound, env kernel.Envelope) {
	if _, ok := in.msg.(kernel.SendEntries); !ok {
		return
	}
	switch env.Msg.(type) {
	case kernel.Ack, kernel.Count:
	default:
		return
	}
	if !in.ack.received {
		in.ack.early = env.Msg
		return
	}
	judgePushAck(w, n, in)
}

// afterReceipt runs after the step that received a request: it notes the
// pushed entries that step wrote, and judges an answer it already gave.
func (w *world) afterReceipt(in *inbound, s *stepInfo) {
	in.ack.received = true
	req, ok := in.msg.(kernel.SendEntries)
	if !ok || w.opts.Unchecked {
		return
	}
	pushed := map[entry.ID]bool{}
	for _, b := range req.Entries {
		pushed[b.ID] = true
	}
	for _, rd := range s.ready {
		for _, wr := range rd.Persist {
			for _, b := range wr.Blobs {
				if pushed[b.ID] {
					in.ack.written = append(in.ack.written, b.ID)
				}
			}
		}
	}
	if in.ack.early != nil {
		judgePushAck(w, s.n, in)
	}
}

func judgePushAck(w *world, n *node, in *inbound) {
	for _, id := range in.ack.written {
		if !n.disk.has(id) {
			w.failf(chkPushAck, n, "answered a push with %s while the pushed %s was not yet in the store",
				kernel.DescribeMessage(in.ack.early, w.tr.namer), w.tr.namer(id))
			return
		}
	}
	if len(in.ack.written) > 0 {
		w.mark(MarkPushAckDurable)
	}
}
