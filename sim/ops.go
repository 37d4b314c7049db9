package sim

import (
	"maps"
	"slices"
	"strings"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// OpKind is a local API operation of a node.
type OpKind uint8

// Local API operations, recorded with Options.RecordOps for checking each
// node's API against a set model with read-your-writes (SIMULATION.md 2.6,
// linearizability (b)).
const (
	OpPut  OpKind = 1 + iota // commit an entry: returns once durable, or fails
	OpHas                    // is an entry held (reachable from the tips)?
	OpTips                   // the tips of a tree
)

var opNames = [...]string{"?", "put", "has", "tips"}

func (k OpKind) String() string { return opNames[k] }

// Op is one recorded operation. Call and Return are positions in the
// run's sequence of operation events (every call and every return takes
// the next number), a total order that is the real-time order the node's
// driver saw: two reads at the same kernel step are still ordered.
// CallMs and ReturnMs are the simulated times. A put whose node crashed
// before it returned has an unknown outcome: Unknown is set, and Return is
// the crash, which settles every write in flight (or -1 if the run ended
// first). Epoch counts the node's wipes: after a wipe its store starts
// empty, a new history.
type Op struct {
	Node             kernel.PeerID
	Epoch            int
	Kind             OpKind
	Tree, ID         entry.ID
	Call, Return     int64
	CallMs, ReturnMs int64
	Ok               bool // put: durable; has: held
	Unknown          bool
	Tips             []entry.ID
}

// opTick numbers one operation event.
func (w *world) opTick() int64 {
	w.opSeq++
	return w.opSeq
}

func (w *world) opPut(n *node, ref kernel.Ref, b kernel.Blob) {
	if !w.opts.RecordOps {
		return
	}
	n.puts[ref] = len(w.ops)
	w.ops = append(w.ops, Op{Node: n.id, Epoch: n.epoch, Kind: OpPut, Tree: b.Entry.TreeID(b.ID), ID: b.ID,
		Call: w.opTick(), Return: -1, CallMs: w.now, ReturnMs: -1})
}

func (w *world) opReturn(n *node, ref kernel.Ref, ok bool) {
	i, found := n.puts[ref]
	if !found {
		return
	}
	delete(n.puts, ref)
	w.ops[i].Return, w.ops[i].ReturnMs, w.ops[i].Ok = w.opTick(), w.now, ok
}

// opTips records a tips call: the machine's tips, answered at once.
func (w *world) opTips(n *node, tree entry.ID) {
	now := w.opTick()
	w.ops = append(w.ops, Op{Node: n.id, Epoch: n.epoch, Kind: OpTips, Tree: tree, Call: now, Return: now,
		CallMs: w.now, ReturnMs: w.now, Ok: true, Tips: n.m.Tips(tree)})
}

// opHas records a has call, answered at once from the node's store, as
// the root package answers it (Store.Has): an observation independent of
// the machine's tips, which the model checks against each other.
func (w *world) opHas(n *node, id entry.ID) {
	now := w.opTick()
	w.ops = append(w.ops, Op{Node: n.id, Epoch: n.epoch, Kind: OpHas, Tree: w.reg.tree(id), ID: id, Call: now, Return: now,
		CallMs: w.now, ReturnMs: w.now, Ok: n.disk.has(id)})
}

// unknownPuts marks the puts of a crashed node as of unknown outcome,
// settled now: the crash decided the fate of every write in flight.
// settled is false at the end of the run, where nothing is decided.
func (w *world) unknownPuts(n *node, settled bool) {
	now := w.opTick()
	for _, ref := range slices.Sorted(maps.Keys(n.puts)) {
		op := &w.ops[n.puts[ref]]
		op.Unknown = true
		if settled {
			op.Return, op.ReturnMs = now, w.now
		}
	}
	clear(n.puts)
	clear(n.syncs)
}

// notice handles one Notify effect: marks, op returns, and the durability
// of a commit reported durable.
func (w *world) notice(n *node, no kernel.Notice) {
	switch no.Kind {
	case kernel.NoticeCommitted:
		w.mark(MarkCommit)
		w.live.lastCommit = w.now
		if !n.disk.has(no.ID) {
			w.failf(chkDurability, n, "NoticeCommitted for %s, which is not in the store", w.tr.namer(no.ID))
		}
		w.opReturn(n, no.Ref, true)
	case kernel.NoticeCommitFailed:
		w.mark(MarkCommitFailed)
		w.opReturn(n, no.Ref, false)
	case kernel.NoticeSyncDone:
		w.mark(MarkSyncDone)
		if held, ok := n.syncs[no.Ref]; ok && !held && lenOf(n.acked[no.Tree]) > 0 {
			w.mark(MarkBootstrap)
		}
		delete(n.syncs, no.Ref)
	case kernel.NoticeSyncFailed:
		w.mark(MarkSyncFailed)
		if strings.Contains(no.Err, "Authentication") || strings.Contains(no.Err, "Permission denied") {
			w.mark(MarkAuthRefused)
		}
		if no.Pending != "" {
			w.mark(MarkRequestQueued)
		}
		delete(n.syncs, no.Ref)
	case kernel.NoticeEntryRejected:
		w.mark(MarkEntryRejected)
	case kernel.NoticeOrphanDropped:
		w.mark(MarkOrphanDropped)
	case kernel.NoticeGaveUp:
		w.mark(MarkGaveUp)
		n.gaveUp[relKey{peer: no.Peer, tree: no.Tree}] = true
	case kernel.NoticeFlushed:
		w.mark(MarkFlushed)
	case kernel.NoticeDecided:
		w.decided(no)
		w.recordDecided(n, no)
	}
}

// markMessage counts the rare message shapes a campaign must reach, and
// what moves during the quiet window.
func (w *world) markMessage(n *node, env kernel.Envelope) {
	if w.phase == phaseQuiet {
		switch m := env.Msg.(type) {
		case kernel.SyncTree:
			w.countQuiet(n, m.TreeID, "", false)
		case kernel.GetEntries:
			w.countQuiet(n, m.TreeID, "", false)
		default:
			if blobs := messageBlobs(env.Msg); len(blobs) > 0 {
				w.countQuiet(n, blobs[0].Entry.TreeID(blobs[0].ID), kernel.DescribeEnvelope(n.id, env, w.tr.namer), true)
			}
		}
	}
	switch m := env.Msg.(type) {
	case kernel.GetEntries:
		w.mark(MarkGetEntries)
	case kernel.SyncTree:
		if m.Resume != nil {
			w.mark(MarkResume)
		}
	case kernel.BootstrapResponse:
		if m.More {
			w.mark(MarkContinuation)
		}
	case kernel.IncrementalResponse:
		if m.More {
			w.mark(MarkContinuation)
		}
	case kernel.ErrorResponse:
		if len(m.Message) >= 4 && m.Message[:4] == "Busy" {
			w.mark(MarkBusy)
		}
	case kernel.SendEntries:
		if env.Reply == 0 {
			w.mark(MarkPushed)
		}
	}
}

// markOrphans counts received entries stored once their parents were: a
// write made while stepping Persisted that holds an entry not committed
// locally.
func (w *world) markOrphans(s *stepInfo) {
	if _, ok := s.evs[0].(kernel.Persisted); !ok || s.n.state != stUp {
		return
	}
	for _, rd := range s.ready {
		for _, wr := range rd.Persist {
			for _, b := range wr.Blobs {
				if !s.n.local[b.ID] {
					w.mark(MarkOrphanResolved)
					return
				}
			}
		}
	}
}
