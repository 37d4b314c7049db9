package kernel

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// reqKind says what an outbound request is for.
type reqKind uint8

const (
	reqHandshake reqKind = 1 + iota
	reqSync
	reqFetch
	reqPush
)

// outRequest is a request sent and not answered yet.
type outRequest struct {
	kind     reqKind
	to       PeerID
	sentTick uint64
	sid      uint64 // owning session, 0 for none (orphan fetches)
	tree     entry.ID
	ids      []entry.ID // reqFetch: asked; reqPush: sent
	bytes    int        // reqPush: entry bytes sent
}

func (m *Machine) received(ev Received) error {
	switch {
	case ev.Msg == nil:
		return fmt.Errorf("%w: no message", ErrMalformed)
	case ev.Req != 0 && ev.InReplyTo != 0:
		return fmt.Errorf("%w: a message is a request or a reply, not both", ErrMalformed)
	case ev.Req != 0:
		return m.serve(ev)
	case ev.InReplyTo != 0:
		return m.response(ev)
	}
	return fmt.Errorf("%w: neither Req nor InReplyTo is set", ErrMalformed)
}

// response routes a reply to the request it answers. It is refused, with no
// state change, when it answers nothing open, comes from another peer, or
// is a request or over the count limits.
func (m *Machine) response(ev Received) error {
	r, ok := m.outbound[ev.InReplyTo]
	switch {
	case !ok:
		return fmt.Errorf("%w: reply to %d", ErrUnknownSeq, ev.InReplyTo)
	case ev.From != r.to:
		return fmt.Errorf("%w: reply to %d came from %s, not %s", ErrMalformed, ev.InReplyTo, ev.From, r.to)
	case IsRequest(ev.Msg):
		return fmt.Errorf("%w: %T sent as a reply", ErrMalformed, ev.Msg)
	}
	if err := m.checkCounts(ev.Msg); err != nil {
		return err
	}
	delete(m.outbound, ev.InReplyTo)
	if p := m.peers[r.to]; p != nil {
		p.stats.RequestsOut++
	}
	ss := m.session(r.sid)
	if r.kind == reqFetch {
		m.replyFetch(r, ss, ev.Msg)
		return nil
	}
	if ss == nil {
		return nil // the session ended (failed) while this was in flight
	}
	switch r.kind {
	case reqHandshake:
		ss.onHandshake(m, ev.Msg)
	case reqSync:
		ss.onSync(m, ev.Msg)
	case reqPush:
		ss.onPushed(m, r, ev.Msg)
	}
	return nil
}

func (m *Machine) replyFetch(r *outRequest, ss *session, msg Message) {
	resp, ok := msg.(EntriesResponse)
	if !ok {
		m.unwant(r)
		if ss != nil {
			ss.fail(m, fmt.Sprintf("peer answered GetEntries with %T", msg))
		}
		return
	}
	res := m.fetched(r, resp)
	m.countIngest(r.to, res)
	if ss != nil {
		ss.stats.Pulled += res.stored
		ss.stats.Redundant += res.redundant
		ss.waitWrites(m, res.writes)
	}
}

// sendFailed ends the request s: its session fails, its wants are released.
func (m *Machine) sendFailed(ev SendFailed) error {
	if _, ok := m.outbound[ev.Seq]; !ok {
		return fmt.Errorf("%w: send %d", ErrUnknownSeq, ev.Seq)
	}
	m.failRequest(ev.Seq, "peer unreachable: "+nonEmpty(ev.Reason))
	return nil
}

func (m *Machine) failRequest(s Seq, reason string) {
	r := m.outbound[s]
	delete(m.outbound, s)
	if r.kind == reqFetch {
		m.unwant(r)
	}
	if ss := m.session(r.sid); ss != nil {
		ss.fail(m, reason)
	}
}

func (m *Machine) countIngest(from PeerID, res ingestResult) {
	if p := m.peers[from]; p != nil {
		p.stats.EntriesIn += res.stored + res.orphaned
		p.stats.BytesIn += res.bytes
		p.stats.Redundant += res.redundant
		p.stats.Rejected += res.rejected
	}
}
