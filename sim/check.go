package sim

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Checkers. Each has a row in checkerTable (its invariant of SIMULATION.md
// 2.6 and when it runs) and, if it runs at one of the simulator's hook
// points, an entry in that point's list below. The hooks cover every step
// that can change what they check: a store changes only when a write is
// applied, a machine's stored set only when it steps, so checking every
// applied blob and every step is checking after every step.
//
// To add a checker: append an ID before chkCount, its row to checkerTable,
// and its function to the hook list it needs (stepChecks, applyChecks,
// bootChecks, answerChecks), or call it from the new code it guards.
type checkID uint8

const (
	chkIntegrity checkID = iota
	chkCorruptRead
	chkClosure
	chkTips
	chkDurability
	chkIdempotence
	chkDiff
	chkRetry
	chkApproval
	chkPurity
	chkRefusal
	chkWire
	chkRestart
	chkPushAck
	chkRelations
	chkConvergence
	chkQuiescence
	chkLinear
	chkApprovalLinear
	chkCount
)

type checker struct {
	name      string
	invariant int
	class     string
	when      string
}

var checkerTable = [chkCount]checker{
	chkIntegrity:      {"integrity", 1, "safety", "every blob a store applies hashes to its ID, decodes, verifies if signed, is no tampered entry"},
	chkCorruptRead:    {"corrupt-read", 1, "safety", "after a Loaded with a flipped bit: nothing built from it is sent"},
	chkClosure:        {"closure", 2, "safety", "every blob a store applies has its parents stored; roots only as their own tree"},
	chkTips:           {"tips", 3, "safety", "after every step and boot: Status tips and counts = maxima of the acknowledged store, from scratch"},
	chkDurability:     {"durability", 4, "safety", "at every boot and NoticeCommitted: every acknowledged entry is in the store (not in the adversarial profile)"},
	chkIdempotence:    {"idempotence", 5, "safety", "a back-to-back duplicate request changes nothing; a duplicated reply is refused; no entry is written twice"},
	chkDiff:           {"diff", 6, "safety", "every complete SyncTree/GetEntries answer holds all the asker lacks; no false 'missing'"},
	chkRetry:          {"retry", 7, "safety", "after every step: attempts <= RetryAttemptsMax, a fresh backoff within [max(min, ceiling/2), ceiling], gave-up only after NoticeGaveUp, syncing only while a session runs"},
	chkApproval:       {"approval", 8, "safety", "every message a machine sends: no entry of a private tree goes to a node whose key may not read it; every blob a store applies: an entry of a private tree is signed by a key that may write it"},
	chkPurity:         {"purity", 9, "safety", "each seed run twice, trace hashes equal; one node's event log replayed into a fresh machine"},
	chkRefusal:        {"refusal", 0, "safety", "only faulty input is refused, and a refusal leaves no effect"},
	chkWire:           {"wire", 0, "safety", "every message a machine emits encodes, and decodes unless damaged"},
	chkRestart:        {"restart", 0, "safety", "kernel.New accepts every state a store gives back"},
	chkPushAck:        {"push-ack", 4, "safety", "an Ack or Count to SendEntries leaves only once the pushed entries its step wrote are in the store"},
	chkRelations:      {"relations", 4, "safety", "at every boot: each relation the machine showed before the crash has its record, once the writes issued by then completed"},
	chkConvergence:    {"convergence", 10, "liveness", "after the final heal every node holds the union of the stores within ConvergeTicks"},
	chkQuiescence:     {"quiescence", 11, "liveness", "then, with no sync asked: no entry moves, only repair syncs (bounded), and every retry has ended (12)"},
	chkApprovalLinear: {"approval-linear", 8, "linearizability", "at the end, with RecordOps: each approver's registry (request, decide, list) is linearizable against its model (porcupine; 2.6 (a))"},
	chkLinear:         {"linearizability", 0, "linearizability", "at the end, with RecordOps: each node's put/has/tips per tree is linearizable against a set model with read-your-writes (porcupine; 2.6 (b))"},
}

// The hook lists. Order is the order checks run in; the first failure wins.
var (
	stepChecks   = []func(*world, *stepInfo){checkTips, checkRetry, checkCorruptRead, checkDupReply, observeRelations}
	applyChecks  = []func(*world, *disk, entry.ID, kernel.Blob){checkIntegrity, checkClosure, checkWriter}
	bootChecks   = []func(*world, *node){checkDurability, checkRelationsKept, checkBootTips}
	answerChecks = []func(*world, *node, *inbound, kernel.Envelope){checkDiff, checkPushAck}
)

func (w *world) failf(id checkID, n *node, format string, args ...any) {
	ck := checkerTable[id]
	f := &Failure{Class: ck.class, Checker: ck.name, Invariant: ck.invariant, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		f.Node = n.id
	}
	w.failure(f)
}

func (w *world) afterStep(s *stepInfo) {
	if w.opts.Unchecked {
		return
	}
	for _, ck := range stepChecks {
		ck(w, s)
	}
	w.markOrphans(s)
}

func (w *world) checkApply(d *disk, tree entry.ID, b kernel.Blob) {
	if w.opts.Unchecked {
		return
	}
	for _, ck := range applyChecks {
		ck(w, d, tree, b)
	}
}

func (w *world) afterBoot(n *node) {
	if w.opts.Unchecked {
		return
	}
	for _, ck := range bootChecks {
		ck(w, n)
	}
}

func (w *world) checkAnswer(n *node, in *inbound, env kernel.Envelope) {
	if w.opts.Unchecked {
		return
	}
	for _, ck := range answerChecks {
		ck(w, n, in, env)
	}
}

// checkIntegrity (1): the bytes are the entry, the entry is valid, and it
// is none of the rogue peer's poison. A valid unsigned entry nobody wrote
// can appear when corruption hits an unsigned entry on the wire and still
// decodes: the kernel cannot tell it from a real one (only signatures
// could), so it is allowed and counted (disk.apply, MarkForeignStored).
func checkIntegrity(w *world, d *disk, tree entry.ID, b kernel.Blob) {
	if why, bad := w.reg.poison[b.ID]; bad {
		w.failf(chkIntegrity, d.n, "stored %s, a poison entry (%s)", w.tr.namer(b.ID), why)
		return
	}
	if entry.IDOf(b.Data) != b.ID {
		w.failf(chkIntegrity, d.n, "stored %s whose data does not hash to its ID", w.tr.namer(b.ID))
		return
	}
	if w.reg.verified[b.ID] {
		return
	}
	e, _, err := entry.DecodeCBOR(b.Data)
	if err == nil {
		if pub := e.Sig.Key.Hint.PubKey; !pub.IsZero() {
			// NB: crypto/ed25519 itself, not the transports' memo: a wrong
			// accept there must not also blind the check meant to catch it.
			err = entry.VerifySignature(e, pub)
		} else {
			err = entry.CheckSigShape(e)
		}
	}
	if err != nil {
		w.failf(chkIntegrity, d.n, "stored %s, which is not a valid entry: %v", w.tr.namer(b.ID), err)
		return
	}
	w.reg.verified[b.ID] = true
}

// checkClosure (2): parents are stored before children; a root is its
// own tree.
func checkClosure(w *world, d *disk, tree entry.ID, b kernel.Blob) {
	if b.Entry.IsRoot() != (b.ID == tree) || b.Entry.TreeID(b.ID) != tree {
		w.failf(chkClosure, d.n, "stored %s in tree %s, which is not its tree", w.tr.namer(b.ID), w.tr.namer(tree))
		return
	}
	for _, p := range b.Entry.Tree.Parents {
		if !d.has(p) {
			w.failf(chkClosure, d.n, "stored %s before its parent %s", w.tr.namer(b.ID), w.tr.namer(p))
			return
		}
	}
}

// checkTips (3): the machine's stored set is exactly what it was told is
// stored, its tips recomputed from scratch by the simulator. Every step
// compares the tips of every tree (Machine.Tips, cheap); the full Status
// (entry counts, trees the simulator does not know of) is compared when
// the stored set can change (a write completed, a boot) and on every
// sweepEvery-th step of the node, since Status costs more than a step.
func checkTips(w *world, s *stepInfo) {
	n := s.n
	if n.state != stUp {
		return
	}
	for _, tree := range n.trees {
		set := n.acked[tree]
		if len(set.list) == 0 {
			continue
		}
		entries, tips := n.m.Size(tree)
		ag := &set.agreed
		if ag.m == n.m && ag.list == len(set.list) && ag.entries == entries && ag.tipsAt == tips {
			continue
		}
		if !set.sameTips(n.m.Tips(tree)) {
			w.failf(chkTips, n, "tree %s: machine tips %s, maxima of the acknowledged store %s",
				w.tr.namer(tree), describeIDs(n.m.Tips(tree), w.tr.namer), describeIDs(set.sortedTips(), w.tr.namer))
			return
		}
		ag.m, ag.list, ag.entries, ag.tipsAt = n.m, len(set.list), entries, tips
	}
	if !s.wantsStatus() {
		return
	}
	st := s.status()
	held := 0
	for _, ts := range st.Trees {
		set := n.acked[ts.Tree]
		if ts.Entries == 0 && (set == nil || len(set.list) == 0) {
			continue
		}
		held++
		switch {
		case set == nil || len(set.list) != ts.Entries:
			w.failf(chkTips, n, "tree %s: machine holds %d entries, %d acknowledged", w.tr.namer(ts.Tree), ts.Entries, lenOf(set))
		case !set.sameTips(ts.Tips):
			w.failf(chkTips, n, "tree %s: machine tips %s, maxima of the acknowledged store %s",
				w.tr.namer(ts.Tree), describeIDs(ts.Tips, w.tr.namer), describeIDs(set.sortedTips(), w.tr.namer))
		}
	}
	if want := n.ackedTrees(); held != want {
		w.failf(chkTips, n, "machine holds %d trees, %d acknowledged", held, want)
	}
}

// checkRetry (7): the retry scheduler, seen through Status: attempts
// never pass the cap; a backoff armed in this step lies in its jitter band
// (kernel retry.go: the upper half of min<<attempts capped at max, never
// below min); a relation that gave up said so with NoticeGaveUp.
func checkRetry(w *world, s *stepInfo) {
	n := s.n
	if n.state != stUp || !s.wantsStatus() {
		return
	}
	st := s.status()
	for _, p := range st.Peers {
		for _, r := range p.Relations {
			// NB: a relation seen for the first time (restored at boot with
			// its backoff armed then, or created since) is checked against
			// the ceiling only.
			key := relKey{peer: p.Peer, tree: r.Tree}
			if r.State == "syncing" && st.Sessions == 0 {
				// A relation marked as syncing by a session that is over
				// is skipped by every later push and repair.
				w.failf(chkRetry, n, "relation %s %s shows syncing with no session running", p.Peer, w.tr.namer(r.Tree))
				return
			}
			last, seen := n.attempts[key]
			fresh := seen && r.Attempts != last
			n.attempts[key] = r.Attempts
			if msg := retryViolation(n, key, r, fresh); msg != "" {
				w.failf(chkRetry, n, "relation %s %s: %s", p.Peer, w.tr.namer(r.Tree), msg)
				return
			}
			// NB: a relation that gave up shows "syncing" during its repair
			// and "gave-up" again if that fails, with no new notice; only
			// idle or backoff say that it stopped being given up.
			switch r.State {
			case "backoff":
				w.mark(MarkBackoff)
				delete(n.gaveUp, key)
			case "idle":
				delete(n.gaveUp, key)
			}
		}
	}
}

type relKey struct {
	peer kernel.PeerID
	tree entry.ID
}

func retryViolation(n *node, key relKey, r kernel.RelationStatus, fresh bool) string {
	lo, hi := n.cfg.RetryTicksMin, n.cfg.RetryTicksMax
	switch {
	case r.Attempts > n.cfg.RetryAttemptsMax:
		return fmt.Sprintf("%d attempts, more than RetryAttemptsMax %d", r.Attempts, n.cfg.RetryAttemptsMax)
	case r.State == "gave-up" && !n.gaveUp[key]:
		return "gave up without NoticeGaveUp"
	case r.State != "backoff":
		return ""
	case r.NextRetryIn == 0 || r.NextRetryIn > hi:
		return fmt.Sprintf("retry in %d ticks, outside (0, %d]", r.NextRetryIn, hi)
	}
	ceiling := hi
	if shift := r.Attempts; shift < 63 && lo<<shift>>shift == lo {
		ceiling = min(hi, lo<<shift)
	}
	if r.NextRetryIn > ceiling || fresh && r.NextRetryIn < max(lo, ceiling/2) {
		return fmt.Sprintf("attempt %d backs off %d ticks, outside [%d, %d]", r.Attempts, r.NextRetryIn, max(lo, ceiling/2), ceiling)
	}
	return ""
}

func lenOf(s *treeSet) int {
	if s == nil {
		return 0
	}
	return len(s.list)
}

func (n *node) ackedTrees() int {
	k := 0
	for _, t := range n.trees {
		if len(n.acked[t].list) > 0 {
			k++
		}
	}
	return k
}

func checkBootTips(w *world, n *node) {
	if n.state == stUp {
		s := &stepInfo{n: n}
		checkTips(w, s)
		checkRetry(w, s)
		if n.torn {
			w.mark(MarkTornRecovered)
		}
	}
}

// checkCorruptRead (1): a Loaded with a flipped bit must be refused by the
// machine's own hash check; nothing it sends may carry the bad bytes.
func checkCorruptRead(w *world, s *stepInfo) {
	if s.corrupt == nil {
		return
	}
	for _, rd := range s.ready {
		for _, env := range rd.Send {
			for _, b := range messageBlobs(env.Msg) {
				if bytes.Equal(b.Data, s.corrupt) {
					w.failf(chkCorruptRead, s.n, "sent %s with the bit flipped by a corrupted read", w.tr.namer(b.ID))
					return
				}
			}
		}
	}
	w.mark(MarkReadCorruptCaught)
}

// messageBlobs lists the entries a message carries.
func messageBlobs(msg kernel.Message) []kernel.Blob {
	switch m := msg.(type) {
	case kernel.SendEntries:
		return m.Entries
	case kernel.BootstrapResponse:
		return append([]kernel.Blob{m.RootEntry}, m.AllEntries...)
	case kernel.IncrementalResponse:
		return m.MissingEntries
	case kernel.EntriesResponse:
		return m.Entries
	}
	return nil
}

// checkDupReply (5): a duplicated reply answers nothing open.
func checkDupReply(w *world, s *stepInfo) {
	if s.origin == fromDupReply && s.errs[0] == nil {
		w.failf(chkIdempotence, s.n, "a duplicated reply was accepted: %s", eventString(s.evs[0]))
	}
}

// checkDurability (4): every entry acknowledged since the last wipe is in
// the store the machine restarted from. In the adversarial profile lost
// fsync and stale restores break this on purpose: it is counted instead.
func checkDurability(w *world, n *node) {
	var lost []entry.ID
	for id := range n.durable {
		if !n.disk.has(id) {
			lost = append(lost, id)
		}
	}
	if len(lost) == 0 {
		return
	}
	entry.SortIDs(lost)
	if w.prof.Adversarial {
		w.mark(MarkExpectedDurability)
		for _, id := range lost {
			delete(n.durable, id)
		}
		return
	}
	w.failf(chkDurability, n, "acknowledged entries missing after restart: %s", describeIDs(lost, w.tr.namer))
}

// checkDup (5): delivering the same request again, right away, leaves the
// machine as it was: nothing written, the stored set, orphans and writes in
// flight unchanged.
func (w *world) checkDup(n *node, before kernel.Status, s *stepInfo) {
	if s == nil || n.state != stUp || w.opts.Unchecked {
		return
	}
	for _, rd := range s.ready {
		if len(rd.Persist) > 0 {
			w.failf(chkIdempotence, n, "a duplicated request caused a write: %s", kernel.DescribeReady(n.id, rd, w.tr.namer))
			return
		}
	}
	if a, b := describeTrees(before, w.tr.namer), describeTrees(n.m.Status(), w.tr.namer); a != b {
		w.failf(chkIdempotence, n, "a duplicated request changed the machine:\n%s->\n%s", a, b)
		return
	}
	w.mark(MarkIdempotentDup)
}

func (n *node) snapshot() kernel.Status {
	if n.w.opts.Unchecked {
		return kernel.Status{}
	}
	return n.m.Status()
}

func describeTrees(st kernel.Status, namer kernel.Namer) string {
	st.Peers, st.NowTicks, st.Sessions = nil, 0, 0
	return kernel.DescribeStatus("", st, namer)
}

// refused judges a refused event: completions and local calls are never
// refused; a reply may come after the machine timed its request out (it
// counts RequestTicksMax itself); a duplicated reply must be refused;
// damaged and rogue input may be.
func (w *world) refused(n *node, ev kernel.Event, err error, o origin) {
	unknown := errors.Is(err, kernel.ErrUnknownSeq)
	switch o {
	case fromTainted:
		return
	case fromDupReply:
		if unknown {
			w.mark(MarkLateReply)
			return
		}
	case fromTimeout:
		if unknown {
			w.mark(MarkKernelTimeout)
			return
		}
	case fromPeer:
		if r, ok := ev.(kernel.Received); ok && r.InReplyTo != 0 && unknown {
			w.mark(MarkKernelTimeout)
			return
		}
	}
	w.failf(chkRefusal, n, "refused %s: %v", eventString(ev), err)
}

func eventString(ev kernel.Event) string {
	switch ev := ev.(type) {
	case kernel.Received:
		return fmt.Sprintf("Received from %s (req=%d reply-to=%d) %s", ev.From, ev.Req, ev.InReplyTo, kernel.DescribeMessage(ev.Msg, nil))
	case kernel.Committed:
		return fmt.Sprintf("Committed ref=%d %s", ev.Ref, ev.Blob.ID)
	case kernel.Loaded:
		return fmt.Sprintf("Loaded seq=%d (%d blobs)", ev.Seq, len(ev.Blobs))
	default:
		return fmt.Sprintf("%T %+v", ev, ev)
	}
}

// checkDiff (6): an answer to SyncTree that says nothing more follows must
// carry every entry the server held (at receipt) that the asker's tips and
// have-set do not already cover; an answer to GetEntries must not call
// missing an entry the server held. Version-0 answers are skipped: they
// are cut at the limits without saying so, by design (the reference's
// protocol has no continuation), and the asker syncs again.
func checkDiff(w *world, n *node, in *inbound, env kernel.Envelope) {
	switch q := in.msg.(type) {
	case kernel.SyncTree:
		checkSyncAnswer(w, n, in, q, env.Msg)
	case kernel.GetEntries:
		if a, ok := env.Msg.(kernel.EntriesResponse); ok {
			held := n.ancestors(q.TreeID, in.tips)
			for _, id := range a.Missing {
				if held[id] {
					w.failf(chkDiff, n, "GetEntries answer calls %s missing, but it was stored", w.tr.namer(id))
					return
				}
			}
		}
	}
}

func checkSyncAnswer(w *world, n *node, in *inbound, q kernel.SyncTree, answer kernel.Message) {
	var sent []kernel.Blob
	switch a := answer.(type) {
	case kernel.ErrorResponse:
		if len(in.tips) > 0 && len(a.Message) > 5 && a.Message[:5] == "Tree " {
			w.failf(chkDiff, n, "answered %q while holding the tree", a.Message)
		}
		return
	case kernel.BootstrapResponse:
		if a.More {
			return
		}
		sent = append([]kernel.Blob{a.RootEntry}, a.AllEntries...)
	case kernel.IncrementalResponse:
		if a.More {
			return
		}
		sent = a.MissingEntries
	default:
		return
	}
	if in.version < kernel.ProtocolV1 || q.Resume != nil {
		return
	}
	held := n.ancestors(q.TreeID, in.tips)
	// NB: everything the asker named, held here or not: checkClaims makes
	// sure it holds them, so it holds their ancestors too. An entry the
	// server stored after the request arrived (it answers a parked request
	// later) may name ancestors the server held before (large seed 78).
	covered := n.ancestors(q.TreeID, slices.Concat(q.OurTips, q.Have))
	got := map[entry.ID]bool{}
	for _, b := range sent {
		got[b.ID] = true
	}
	for _, id := range n.acked[q.TreeID].list {
		if held[id] && !covered[id] && !got[id] {
			w.failf(chkDiff, n, "answer to %s lacks %s, which the asker does not have (false in-sync)",
				kernel.DescribeMessage(q, w.tr.namer), w.tr.namer(id))
			return
		}
	}
}

// ancestors returns tips and everything below them, by the registry's
// parent links.
func (n *node) ancestors(tree entry.ID, tips []entry.ID) map[entry.ID]bool {
	out := map[entry.ID]bool{}
	stack := slices.Clone(tips)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if out[id] {
			continue
		}
		out[id] = true
		stack = append(stack, n.w.reg.parents(id)...)
	}
	return out
}

// tipsFor snapshots the server's acknowledged tips of the tree a request
// is about, for checkDiff.
func (n *node) tipsFor(msg kernel.Message) []entry.ID {
	var tree entry.ID
	switch q := msg.(type) {
	case kernel.SyncTree:
		tree = q.TreeID
	case kernel.GetEntries:
		tree = q.TreeID
	default:
		return nil
	}
	if set := n.acked[tree]; set != nil {
		return set.sortedTips()
	}
	return nil
}

// checkLinear runs porcupine over the recorded operations (linear.go); a
// violation's visualization goes to the temporary directory (G4).
func (w *world) checkLinear() {
	st, err := CheckLinear(w.ops, w.reg.parents, w.tr.namer, w.opts.VizDir)
	w.linear = st
	if err != nil {
		var n *node
		if v, ok := err.(*LinearViolation); ok {
			n = w.byID[v.Node]
		}
		w.failf(chkLinear, n, "%v", err)
		return
	}
	hist, ops, err := CheckApprovals(w.aops, w.sw.config(0, keys()[0]).ApprovalsMax, w.opts.VizDir)
	w.approvalHistories, w.approvalOps = hist, ops
	if err != nil {
		var n *node
		if v, ok := err.(*LinearViolation); ok {
			n = w.byID[v.Node]
		}
		w.failf(chkApprovalLinear, n, "%v", err)
	}
}

// checkClaims: a SyncTree names as held (its tips and have-set) only
// entries its sender has stored, since the peer leaves out everything
// below them (invariant 6 from the asker's side).
func (w *world) checkClaims(n *node, env kernel.Envelope) {
	q, ok := env.Msg.(kernel.SyncTree)
	if !ok || env.Reply != 0 || w.opts.Unchecked {
		return
	}
	set := n.acked[q.TreeID]
	for _, id := range slices.Concat(q.OurTips, q.Have) {
		if set == nil || !set.has[id] {
			w.failf(chkDiff, n, "%s names %s as held, but it is not stored", kernel.DescribeMessage(q, w.tr.namer), w.tr.namer(id))
			return
		}
	}
}
