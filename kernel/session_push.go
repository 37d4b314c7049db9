package kernel

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// startPush computes what the peer lacks, exactly: our stored entries not
// reachable from its tips that we hold. After a bootstrap there is nothing
// to push (we held nothing).
func (ss *session) startPush(m *Machine) {
	t := m.trees[ss.key.tree]
	if ss.theirTips != nil && t != nil && t.dag.Len() > 0 && !m.mayPush(t, m.peers[ss.key.peer]) {
		// NB: before anything else, so that a sync with a peer that may
		// not read the tree never counts as done (and never makes a
		// background relation with it).
		ss.fail(m, fmt.Sprintf("not pushing: peer key %s may not read tree %s", m.peers[ss.key.peer].key, ss.key.tree))
		return
	}
	if ss.theirTips == nil || t == nil || t.dag.Len() == 0 || !m.mayWrite(t) {
		// NB: a node that may not write the tree (a reader) pushes
		// nothing: the peer would refuse it, failing the sync.
		ss.done(m)
		return
	}
	have := knownNodes(t.dag, ss.theirTips)
	if len(have) < len(ss.theirTips) {
		// Some tips of the peer never arrived (it did not send them, or
		// they were refused): we cannot tell what it holds below them, and
		// pushing against the rest could resend its whole history. The next
		// sync, or the peer's own, settles it.
		ss.done(m)
		return
	}
	from := tipNodes(t.dag)
	ss.pushFrom = idsOf(t.dag, from)
	if r := m.relations[ss.key]; r != nil {
		ss.pushGen = r.commits
	}
	ss.push, _ = t.dag.Missing(from, have, 0)
	ss.pushed = 0
	ss.pushNext(m)
}

// pushNext loads the next batch of entries to push.
func (ss *session) pushNext(m *Machine) {
	t := m.trees[ss.key.tree]
	if ss.pushed >= len(ss.push) {
		ss.done(m)
		return
	}
	end := min(len(ss.push), ss.pushed+m.cfg.Wire.EntriesMax)
	m.load(&pendingRead{kind: readPush, tree: ss.key.tree, ids: idsOf(t.dag, ss.push[ss.pushed:end]), session: ss.sid})
}

func (ss *session) loadedPush(m *Machine, blobs []Blob, failure string) {
	if failure != "" {
		ss.fail(m, "loading entries to push failed: "+failure)
		return
	}
	p := m.peers[ss.key.peer]
	if t := m.trees[ss.key.tree]; t == nil || !m.mayPush(t, p) {
		// NB: checked here, where entries leave, not when the push was
		// planned: the settings may have changed while entries loaded.
		ss.fail(m, fmt.Sprintf("not pushing: peer key %s may not read tree %s", p.key, ss.key.tree))
		return
	}
	n := fit(p.version, blobs, m.budget(0))
	ids, bytes := make([]entry.ID, n), 0
	for i := range n {
		ids[i], bytes = blobs[i].ID, bytes+len(blobs[i].Data)
	}
	ss.request(m, p.version, SendEntries{Entries: blobs[:n]}, outRequest{kind: reqPush, ids: ids, bytes: bytes})
}

func (ss *session) onPushed(m *Machine, r *outRequest, msg Message) {
	switch resp := msg.(type) {
	case Ack, Count:
		ss.pushed += len(r.ids)
		ss.stats.Pushed += len(r.ids)
		m.peers[ss.key.peer].stats.EntriesOut += len(r.ids)
		m.peers[ss.key.peer].stats.BytesOut += r.bytes
		ss.pushNext(m)
	case ErrorResponse:
		if after, ok := stampAfter(resp.Message); ok {
			m.peers[ss.key.peer].stampAfter = after // the retry stamps past it
		}
		ss.fail(m, "peer refused pushed entries: "+resp.Message)
	default:
		ss.fail(m, fmt.Sprintf("peer answered SendEntries with %T", msg))
	}
}

// done reports success. If a push was computed, the peer now holds the
// tips it was computed from, which become the remembered have-set for the
// next sync. NB: not our tips now: a commit made while the push was in
// flight is not on the peer, and remembering it would make the follow-up
// push compute nothing to send (issue 7).
func (ss *session) done(m *Machine) {
	if ss.pushFrom != nil && ss.pushed >= len(ss.push) {
		m.peers[ss.key.peer].remember(ss.key.tree, ss.pushFrom, m.cfg.FrontierMax)
		ss.pushedAll = true
	}
	ss.finish(m, Notice{Kind: NoticeSyncDone})
}

func (ss *session) fail(m *Machine, reason string) {
	ss.finish(m, Notice{Kind: NoticeSyncFailed, Err: reason})
}

func (ss *session) finish(m *Machine, n Notice) {
	if m.sessions[ss.sid] != ss {
		panic("kernel: assertion failed: session finished twice")
	}
	delete(m.sessions, ss.sid)
	n.Peer, n.Tree, n.Stats, n.Pending = ss.key.peer, ss.key.tree, ss.stats, ss.pending
	for _, ref := range ss.refs {
		n.Ref = ref
		m.notify(n)
	}
	m.sessionDone(ss, n.Err)
	m.flushProgress(ss.key, n.Err)
}
