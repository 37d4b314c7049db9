package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Namer prints an ID. Tests pass one that prints short aliases (e7, t1);
// nil prints the full base32 form.
type Namer func(entry.ID) string

func (n Namer) id(id entry.ID) string {
	if n == nil {
		return id.String()
	}
	return n(id)
}

// The Describe functions build their lines by appending to one buffer:
// the simulator renders every Ready batch of every run to hash it, and
// fmt's reflection was most of that cost. The output is what the goldens
// pin, byte for byte.

func (n Namer) appendID(b []byte, id entry.ID) []byte {
	if n == nil {
		return id.AppendText(b)
	}
	return append(b, n(id)...)
}

func (n Namer) appendIDs(b []byte, ids []entry.ID) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = n.appendID(b, id)
	}
	return append(b, ']')
}

func (n Namer) appendBlobs(b []byte, bs []Blob) []byte {
	b = append(b, '[')
	for i, bl := range bs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = n.appendID(b, bl.ID)
	}
	return append(b, ']')
}

func (n Namer) ids(ids []entry.ID) string { return string(n.appendIDs(nil, ids)) }

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// DescribeMessage renders a message on one line, for traces and goldens.
func DescribeMessage(msg Message, n Namer) string {
	return string(AppendMessage(nil, msg, n))
}

// AppendMessage appends DescribeMessage's text to b.
func AppendMessage(b []byte, msg Message, n Namer) []byte {
	switch m := msg.(type) {
	case Handshake:
		b = appendUint(append(b, "Handshake[v"...), uint64(m.ProtocolVersion))
		return append(b, ']')
	case HandshakeResponse:
		b = appendUint(append(b, "HandshakeResponse[v"...), uint64(m.ProtocolVersion))
		return append(b, ']')
	case SyncTree:
		b = n.appendID(append(b, "SyncTree["...), m.TreeID)
		b = n.appendIDs(append(b, " tips="...), m.OurTips)
		if len(m.Have) > 0 {
			b = n.appendIDs(append(b, " have="...), m.Have)
		}
		if m.Resume != nil {
			b = appendUint(append(b, " resume="...), *m.Resume)
		}
		return append(b, ']')
	case BootstrapResponse:
		b = n.appendID(append(b, "Bootstrap["...), m.TreeID)
		b = n.appendID(append(b, " root="...), m.RootEntry.ID)
		b = n.appendBlobs(append(b, " entries="...), m.AllEntries)
		return append(appendCont(b, m.Continuation), ']')
	case IncrementalResponse:
		b = n.appendID(append(b, "Incremental["...), m.TreeID)
		b = n.appendIDs(append(b, " tips="...), m.TheirTips)
		b = n.appendBlobs(append(b, " entries="...), m.MissingEntries)
		return append(appendCont(b, m.Continuation), ']')
	case SendEntries:
		if m.Auth != nil {
			b = n.appendID(append(b, "PushEntries["...), m.TreeID)
			b = n.appendBlobs(append(b, ' '), m.Entries)
			return append(b, " signed]"...)
		}
		return n.appendBlobs(append(b, "SendEntries"...), m.Entries)
	case GetEntries:
		b = n.appendID(append(b, "GetEntries["...), m.TreeID)
		b = n.appendIDs(append(b, ' '), m.IDs)
		if m.Auth != nil {
			b = append(b, " signed"...)
		}
		return append(b, ']')
	case EntriesResponse:
		b = n.appendID(append(b, "Entries["...), m.TreeID)
		b = n.appendBlobs(append(b, ' '), m.Entries)
		b = n.appendIDs(append(b, " missing="...), m.Missing)
		return append(b, ']')
	case BootstrapPending:
		return append(append(append(b, "BootstrapPending["...), m.RequestID...), ']')
	case Ack:
		return append(b, "Ack"...)
	case Count:
		return append(appendUint(append(b, "Count["...), m.N), ']')
	case ErrorResponse:
		return append(strconv.AppendQuote(append(b, "Error["...), m.Message), ']')
	}
	return fmt.Appendf(b, "%T", msg)
}

func appendCont(b []byte, c Continuation) []byte {
	if c.More {
		b = append(b, " more"...)
	}
	if c.Resume != nil {
		b = appendUint(append(b, " resume="...), *c.Resume)
	}
	return b
}

// DescribeEnvelope renders one Send effect of machine self.
func DescribeEnvelope(self PeerID, e Envelope, n Namer) string {
	return string(appendEnvelope(nil, self, e, n))
}

func appendEnvelope(b []byte, self PeerID, e Envelope, n Namer) []byte {
	if e.Reply != 0 {
		b = append(append(append(append(b, "Reply "...), self...), "->"...), e.To...)
		b = appendUint(append(b, " req="...), uint64(e.Reply))
	} else {
		b = append(append(append(append(b, "Send "...), self...), "->"...), e.To...)
		b = appendUint(append(b, " seq="...), uint64(e.Seq))
	}
	return AppendMessage(append(b, ' '), e.Msg, n)
}

// DescribeReady renders a Ready batch of machine self, one effect a line.
func DescribeReady(self PeerID, r Ready, n Namer) string {
	return string(AppendReady(nil, self, r, n))
}

// AppendReady appends DescribeReady's text to b.
func AppendReady(b []byte, self PeerID, r Ready, n Namer) []byte {
	for _, e := range r.Send {
		b = append(appendEnvelope(b, self, e, n), '\n')
	}
	persist := func(b []byte, seq Seq) []byte {
		b = append(append(append(b, "Persist "...), self...), " seq="...)
		return append(appendUint(b, uint64(seq)), ' ')
	}
	for _, w := range r.Persist {
		if len(w.Relations) > 0 {
			for _, rec := range w.Relations {
				b = append(append(append(persist(b, w.Seq), "relation "...), rec.Peer...), ' ')
				b = n.appendID(b, rec.Tree)
				b = strconv.AppendBool(append(b, " dirty="...), rec.Dirty)
				b = strconv.AppendInt(append(b, " attempts="...), int64(rec.Attempts), 10)
				b = strconv.AppendBool(append(b, " gave-up="...), rec.GaveUp)
				b = append(b, '\n')
			}
			continue
		}
		if len(w.Approvals) > 0 {
			for _, a := range w.Approvals {
				status := a.Status.String()
				if a.Status == 0 {
					status = "deleted"
				}
				b = fmt.Appendf(persist(b, w.Seq), "approval %s %s\n", a.ID, status)
			}
			continue
		}
		if len(w.NonceFloors) > 0 {
			for _, f := range w.NonceFloors {
				who := "global"
				if !f.Key.IsZero() {
					who = shortKey(f.Key)
				}
				b = fmt.Appendf(persist(b, w.Seq), "nonce-floor %s=%d\n", who, f.Ms)
			}
			continue
		}
		b = n.appendID(persist(b, w.Seq), w.Tree)
		b = append(n.appendBlobs(append(b, ' '), w.Blobs), '\n')
	}
	for _, rd := range r.Load {
		b = append(append(append(b, "Load "...), self...), " seq="...)
		b = n.appendID(append(appendUint(b, uint64(rd.Seq)), ' '), rd.Tree)
		b = append(n.appendIDs(append(b, ' '), rd.IDs), '\n')
	}
	for _, no := range r.Notify {
		b = append(appendNotice(b, self, no, n), '\n')
	}
	return b
}

// DescribeNotice renders one notice.
func DescribeNotice(self PeerID, no Notice, n Namer) string {
	return string(appendNotice(nil, self, no, n))
}

func appendNotice(b []byte, self PeerID, no Notice, n Namer) []byte {
	b = append(append(append(append(b, "Notify "...), self...), ' '), no.Kind.String()...)
	if no.Ref != 0 {
		b = appendUint(append(b, " ref="...), uint64(no.Ref))
	}
	if no.Peer != "" {
		b = append(append(b, " peer="...), no.Peer...)
	}
	if !no.Tree.IsZero() {
		b = n.appendID(append(b, " tree="...), no.Tree)
	}
	if !no.ID.IsZero() {
		b = n.appendID(append(b, " id="...), no.ID)
	}
	if no.Kind == NoticeSyncDone || no.Kind == NoticeSyncFailed {
		st := no.Stats
		b = strconv.AppendInt(append(b, " requests="...), int64(st.Requests), 10)
		b = strconv.AppendInt(append(b, " pulled="...), int64(st.Pulled), 10)
		b = strconv.AppendInt(append(b, " pushed="...), int64(st.Pushed), 10)
		b = strconv.AppendInt(append(b, " redundant="...), int64(st.Redundant), 10)
	}
	if no.Pending != "" {
		b = append(append(b, " pending="...), no.Pending...)
	}
	if no.Err != "" {
		b = strconv.AppendQuote(append(b, " err="...), no.Err)
	}
	return b
}

// DescribeStatus renders a Status, one tree or peer a line.
func DescribeStatus(self PeerID, st Status, n Namer) string {
	var b strings.Builder
	for _, t := range st.Trees {
		fmt.Fprintf(&b, "%s tree %s: entries=%d tips=%s orphans=%d inflight=%d\n", self, n.id(t.Tree), t.Entries, n.ids(t.Tips), t.Orphans, t.Inflight)
	}
	for _, p := range st.Peers {
		s := p.Stats
		fmt.Fprintf(&b, "%s peer %s: v%d handshaken=%t in=%d out=%d redundant=%d rejected=%d requests=%d\n", self, p.Peer, p.Version, p.Handshaken, s.EntriesIn, s.EntriesOut, s.Redundant, s.Rejected, s.RequestsOut)
		for _, r := range p.Relations {
			fmt.Fprintf(&b, "%s   relation %s: %s dirty=%t attempts=%d retry-in=%d last-ok=%d", self, n.id(r.Tree), r.State, r.Dirty, r.Attempts, r.NextRetryIn, r.LastSuccessAt)
			if r.LastError != "" {
				fmt.Fprintf(&b, " err=%q", r.LastError)
			}
			b.WriteString("\n")
		}
	}
	if st.Sessions > 0 {
		fmt.Fprintf(&b, "%s sessions=%d\n", self, st.Sessions)
	}
	return b.String()
}

// shortKey names a key by the end of its base64, enough to tell a few apart.
func shortKey(k entry.PublicKey) string {
	s := k.String()
	return "key…" + s[len(s)-7:len(s)-1]
}
