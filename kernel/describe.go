package kernel

import (
	"fmt"
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

func (n Namer) ids(ids []entry.ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = n.id(id)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (n Namer) blobs(bs []Blob) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = n.id(b.ID)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// DescribeMessage renders a message on one line, for traces and goldens.
func DescribeMessage(msg Message, n Namer) string {
	switch m := msg.(type) {
	case Handshake:
		return fmt.Sprintf("Handshake[v%d]", m.ProtocolVersion)
	case HandshakeResponse:
		return fmt.Sprintf("HandshakeResponse[v%d]", m.ProtocolVersion)
	case SyncTree:
		s := fmt.Sprintf("SyncTree[%s tips=%s", n.id(m.TreeID), n.ids(m.OurTips))
		if len(m.Have) > 0 {
			s += " have=" + n.ids(m.Have)
		}
		if m.Resume != nil {
			s += fmt.Sprintf(" resume=%d", *m.Resume)
		}
		return s + "]"
	case BootstrapResponse:
		return fmt.Sprintf("Bootstrap[%s root=%s entries=%s%s]", n.id(m.TreeID), n.id(m.RootEntry.ID), n.blobs(m.AllEntries), describeCont(m.Continuation))
	case IncrementalResponse:
		return fmt.Sprintf("Incremental[%s tips=%s entries=%s%s]", n.id(m.TreeID), n.ids(m.TheirTips), n.blobs(m.MissingEntries), describeCont(m.Continuation))
	case SendEntries:
		if m.Auth != nil {
			return fmt.Sprintf("PushEntries[%s %s signed]", n.id(m.TreeID), n.blobs(m.Entries))
		}
		return "SendEntries" + n.blobs(m.Entries)
	case GetEntries:
		if m.Auth != nil {
			return fmt.Sprintf("GetEntries[%s %s signed]", n.id(m.TreeID), n.ids(m.IDs))
		}
		return fmt.Sprintf("GetEntries[%s %s]", n.id(m.TreeID), n.ids(m.IDs))
	case EntriesResponse:
		return fmt.Sprintf("Entries[%s %s missing=%s]", n.id(m.TreeID), n.blobs(m.Entries), n.ids(m.Missing))
	case BootstrapPending:
		return fmt.Sprintf("BootstrapPending[%s]", m.RequestID)
	case Ack:
		return "Ack"
	case Count:
		return fmt.Sprintf("Count[%d]", m.N)
	case ErrorResponse:
		return fmt.Sprintf("Error[%q]", m.Message)
	}
	return fmt.Sprintf("%T", msg)
}

func describeCont(c Continuation) string {
	s := ""
	if c.More {
		s += " more"
	}
	if c.Resume != nil {
		s += fmt.Sprintf(" resume=%d", *c.Resume)
	}
	return s
}

// DescribeEnvelope renders one Send effect of machine self.
func DescribeEnvelope(self PeerID, e Envelope, n Namer) string {
	if e.Reply != 0 {
		return fmt.Sprintf("Reply %s->%s req=%d %s", self, e.To, e.Reply, DescribeMessage(e.Msg, n))
	}
	return fmt.Sprintf("Send %s->%s seq=%d %s", self, e.To, e.Seq, DescribeMessage(e.Msg, n))
}

// DescribeReady renders a Ready batch of machine self, one effect a line.
func DescribeReady(self PeerID, r Ready, n Namer) string {
	var b strings.Builder
	for _, e := range r.Send {
		fmt.Fprintln(&b, DescribeEnvelope(self, e, n))
	}
	for _, w := range r.Persist {
		if len(w.Relations) > 0 {
			for _, rec := range w.Relations {
				fmt.Fprintf(&b, "Persist %s seq=%d relation %s %s dirty=%t attempts=%d gave-up=%t\n", self, w.Seq, rec.Peer, n.id(rec.Tree), rec.Dirty, rec.Attempts, rec.GaveUp)
			}
			continue
		}
		if len(w.Approvals) > 0 {
			for _, a := range w.Approvals {
				status := a.Status.String()
				if a.Status == 0 {
					status = "deleted"
				}
				fmt.Fprintf(&b, "Persist %s seq=%d approval %s %s\n", self, w.Seq, a.ID, status)
			}
			continue
		}
		if len(w.NonceFloors) > 0 {
			for _, f := range w.NonceFloors {
				who := "global"
				if !f.Key.IsZero() {
					who = shortKey(f.Key)
				}
				fmt.Fprintf(&b, "Persist %s seq=%d nonce-floor %s=%d\n", self, w.Seq, who, f.Ms)
			}
			continue
		}
		fmt.Fprintf(&b, "Persist %s seq=%d %s %s\n", self, w.Seq, n.id(w.Tree), n.blobs(w.Blobs))
	}
	for _, rd := range r.Load {
		fmt.Fprintf(&b, "Load %s seq=%d %s %s\n", self, rd.Seq, n.id(rd.Tree), n.ids(rd.IDs))
	}
	for _, no := range r.Notify {
		fmt.Fprintln(&b, DescribeNotice(self, no, n))
	}
	return b.String()
}

// DescribeNotice renders one notice.
func DescribeNotice(self PeerID, no Notice, n Namer) string {
	s := fmt.Sprintf("Notify %s %s", self, no.Kind)
	if no.Ref != 0 {
		s += fmt.Sprintf(" ref=%d", no.Ref)
	}
	if no.Peer != "" {
		s += " peer=" + string(no.Peer)
	}
	if !no.Tree.IsZero() {
		s += " tree=" + n.id(no.Tree)
	}
	if !no.ID.IsZero() {
		s += " id=" + n.id(no.ID)
	}
	if no.Kind == NoticeSyncDone || no.Kind == NoticeSyncFailed {
		st := no.Stats
		s += fmt.Sprintf(" requests=%d pulled=%d pushed=%d redundant=%d", st.Requests, st.Pulled, st.Pushed, st.Redundant)
	}
	if no.Pending != "" {
		s += " pending=" + no.Pending
	}
	if no.Err != "" {
		s += fmt.Sprintf(" err=%q", no.Err)
	}
	return s
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
