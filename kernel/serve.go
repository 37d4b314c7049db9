package kernel

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// This file answers inbound requests. Every request gets exactly one reply:
// at once for handshakes and refusals, after a Load for entries to send, and
// after the Writes for pushed entries (so an Ack means durable).

// handshakeDomain separates our handshake signatures from every other
// signature the device key makes (PROTOCOL.md 11.1).
const handshakeDomain = "eidsync/handshake/v1"

// challengeBytes is the only challenge size answered: fixed-size, so that a
// v0 challenge can never be an entry's signing bytes or an auth blob.
const challengeBytes = 32

func (m *Machine) serve(ev Received) error {
	if !IsRequest(ev.Msg) {
		return fmt.Errorf("%w: %T sent as a request", ErrMalformed, ev.Msg)
	}
	if m.inbound[ev.Req] {
		return fmt.Errorf("%w: request %d is already open", ErrMalformed, ev.Req)
	}
	if err := m.checkCounts(ev.Msg); err != nil {
		return err
	}
	if len(m.inbound) >= m.cfg.RequestsInflightMax {
		m.ready.Send = append(m.ready.Send, Envelope{To: ev.From, Reply: ev.Req, Version: ev.Version,
			Msg: ErrorResponse{Message: "Busy: too many requests in progress, retry later"}})
		return nil
	}
	m.inbound[ev.Req] = true
	m.dispatch(ev)
	return nil
}

// dispatch serves an open request: first, or again once the nonce floor
// covers it (nonces.go).
func (m *Machine) dispatch(ev Received) {
	switch msg := ev.Msg.(type) {
	case Handshake:
		m.reply(ev.From, ev.Req, ev.Version, m.answerHandshake(msg))
	case SyncTree:
		m.serveSyncTree(ev, msg)
	case GetEntries:
		m.serveGetEntries(ev, msg)
	case SendEntries:
		m.serveSendEntries(ev, msg)
	}
}

// gate answers ev with a refusal, or parks it, when its auth does not let
// it do what need asks on t; it reports whether ev may go on now.
func (m *Machine) gate(ev Received, t *tree, need Permission) bool {
	return m.gateSettings(ev, t.auth, t.root, need)
}

func (m *Machine) gateSettings(ev Received, settings *access.Settings, root entry.ID, need Permission) bool {
	refusal, park := m.authorize(settings, root, need, ev.Msg)
	return m.proceed(ev, refusal, park)
}

// proceed answers ev with refusal, or parks it until its nonce floor is
// durable (nonces.go), and reports whether ev may go on now.
func (m *Machine) proceed(ev Received, refusal string, park bool) bool {
	switch {
	case park:
		m.park(ev)
		return false
	case refusal != "":
		m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: refusal})
		return false
	}
	return true
}

// checkCounts bounds a message made by a caller other than the wire decoder,
// which applies the same limits.
func (m *Machine) checkCounts(msg Message) error {
	lim := m.cfg.Wire
	n, ids := 0, 0
	switch msg := msg.(type) {
	case SyncTree:
		ids = max(len(msg.OurTips), len(msg.Have))
	case GetEntries:
		ids = len(msg.IDs)
	case SendEntries:
		n = len(msg.Entries)
	case IncrementalResponse:
		n, ids = len(msg.MissingEntries), len(msg.TheirTips)
	case BootstrapResponse:
		n = len(msg.AllEntries) + 1
	case EntriesResponse:
		n, ids = len(msg.Entries), len(msg.Missing)
	}
	if n > lim.EntriesMax || ids > lim.IDsMax {
		return fmt.Errorf("%w: %d entries (limit %d), %d IDs (limit %d)", ErrMessageTooLarge, n, lim.EntriesMax, ids, lim.IDsMax)
	}
	return nil
}

func (m *Machine) answerHandshake(msg Handshake) Message {
	if msg.ProtocolVersion > m.cfg.ProtocolMax {
		return ErrorResponse{Message: fmt.Sprintf("Protocol version mismatch: expected %d, got %d", m.cfg.ProtocolMax, msg.ProtocolVersion)}
	}
	if len(msg.Challenge) != challengeBytes {
		return ErrorResponse{Message: fmt.Sprintf("Invalid challenge: must be %d bytes, got %d", challengeBytes, len(msg.Challenge))}
	}
	fresh := make([]byte, challengeBytes)
	m.rng.fill(fresh)
	return HandshakeResponse{
		PublicKey:         m.cfg.DeviceKey.Public(),
		DisplayName:       m.displayName(),
		ProtocolVersion:   msg.ProtocolVersion,
		ChallengeResponse: m.cfg.DeviceKey.Sign(handshakeSigned(msg.ProtocolVersion, msg.Challenge)),
		NewChallenge:      fresh,
		AvailableTrees:    []TreeInfo{},
	}
}

// handshakeSigned is what a handshake answer signs: for v1 the domain and the
// challenge; for v0 the raw 32-byte challenge, as the reference verifies it.
func handshakeSigned(version uint32, challenge []byte) []byte {
	if version == ProtocolV0 {
		return challenge
	}
	return append([]byte(handshakeDomain), challenge...)
}

func (m *Machine) displayName() *string {
	if m.cfg.DisplayName == "" {
		return nil
	}
	name := m.cfg.DisplayName
	return &name
}

// treeNotFound is the reference's text, the same for absent and unreadable
// trees so that it is no existence oracle.
func treeNotFound(id entry.ID) ErrorResponse {
	return ErrorResponse{Message: "Tree not found: " + id.String()}
}

// serveSyncTree computes what the asker lacks and loads it. The diff is
// exact when the asker's tips or have-set place its history: only entries
// reachable from our tips and not from theirs (PROTOCOL.md 11.6). When
// nothing it sent is known here (bootstrap or a stranger's history) the tree
// is streamed in insertion order with a resume cursor.
func (m *Machine) serveSyncTree(ev Received, msg SyncTree) {
	t := m.trees[msg.TreeID]
	if t == nil || t.dag.Len() == 0 {
		m.reply(ev.From, ev.Req, ev.Version, treeNotFound(msg.TreeID))
		return
	}
	refusal, park := m.authorize(t.auth, t.root, readPerm, ev.Msg)
	switch {
	case park:
		m.park(ev)
		return
	case refusal != "":
		if !m.requestBootstrap(ev, t, msg) {
			m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: refusal})
		}
		return
	}
	limit := m.cfg.Wire.EntriesMax
	r := &pendingRead{kind: readServeSync, tree: t.root, req: ev.Req, to: ev.From, version: ev.Version,
		bootstrap: len(msg.OurTips) == 0 && msg.Resume == nil, tips: m.wireTips(t)}
	if msg.Auth != nil && !t.auth.Open(readPerm) {
		granted := t.auth.Permission(msg.Auth.Key)
		r.granted = &granted
	}
	have := knownNodes(t.dag, msg.OurTips, msg.Have)
	var nodes []dag.Node
	switch {
	case msg.Resume != nil || len(have) == 0:
		start := dag.Node(0)
		if msg.Resume != nil && ev.Version >= ProtocolV1 {
			start = dag.Node(min(*msg.Resume, uint64(t.dag.Len())))
		}
		var next dag.Node
		nodes, next = t.dag.Range(start, min(limit, t.streamLimit()))
		r.rangeStart, r.more = &start, int(next) < t.dag.Len()
	default:
		nodes, r.more = t.dag.Missing(tipNodes(t.dag), have, limit)
	}
	r.ids = idsOf(t.dag, nodes)
	m.load(r)
}

// knownNodes maps the IDs we hold among the lists to nodes, deduplicated.
func knownNodes(d *dag.DAG, lists ...[]entry.ID) []dag.Node {
	var out []dag.Node
	seen := map[dag.Node]bool{}
	for _, l := range lists {
		for _, id := range l {
			if n, ok := d.Lookup(id); ok && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

func tipNodes(d *dag.DAG) []dag.Node { return knownNodes(d, d.Tips()) }

// wireTips are the tips of t to put in a message: at most Wire.IDsMax of
// them, the most a peer's decoder accepts. A tree can have more (many
// writers); a subset only makes the peer send or push more than needed,
// never less, since what lies under the tips left out still counts as
// lacking.
func (m *Machine) wireTips(t *tree) []entry.ID {
	tips := t.dag.Tips()
	return tips[:min(len(tips), m.cfg.Wire.IDsMax)]
}

func idsOf(d *dag.DAG, nodes []dag.Node) []entry.ID {
	ids := make([]entry.ID, len(nodes))
	for i, n := range nodes {
		ids[i] = d.ID(n)
	}
	return ids
}

func (m *Machine) serveGetEntries(ev Received, msg GetEntries) {
	t := m.trees[msg.TreeID]
	if t == nil || t.dag.Len() == 0 {
		m.reply(ev.From, ev.Req, ev.Version, treeNotFound(msg.TreeID))
		return
	}
	if !m.gate(ev, t, readPerm) {
		return
	}
	r := &pendingRead{kind: readServeGet, tree: t.root, req: ev.Req, to: ev.From, version: ev.Version}
	var nodes []dag.Node
	for _, id := range msg.IDs {
		if n, ok := t.dag.Lookup(id); ok {
			nodes = append(nodes, n)
		} else {
			r.missing = append(r.missing, id)
		}
	}
	sortTopological(t.dag, nodes)
	// NB: up to IDsMax IDs may be asked, but one message carries at most
	// EntriesMax entries (the asker's decoder refuses more); the rest are
	// left out, as those cut by MessageBytesMax are, and asked again.
	nodes = dedupNodes(nodes)
	r.ids = idsOf(t.dag, nodes[:min(len(nodes), m.cfg.Wire.EntriesMax)])
	m.load(r)
}

// serveSendEntries ingests pushed entries and answers once they are
// durable. Each tree they belong to must let the pusher write (writeGate);
// an authenticated push must hold entries of its one named tree only.
func (m *Machine) serveSendEntries(ev Received, msg SendEntries) {
	if !m.writeGate(ev, msg) {
		return
	}
	res := m.ingest(ev.From, msg.TreeID, nil, msg.Entries)
	pr := &pushReply{req: ev.Req, to: ev.From, version: ev.Version, entries: len(msg.Entries),
		count: res.stored + res.orphaned + res.redundant, pending: map[Seq]bool{}}
	if canaryAnnounceBeforePersisted { // a planted bug: see canary_announce_before_persisted.go
		pr.finish(m)
		return
	}
	for _, s := range res.writes {
		pr.pending[s] = true
		m.writes[s].replies = append(m.writes[s].replies, pr)
	}
	if len(pr.pending) == 0 {
		pr.finish(m)
	}
}

// pushReply is an inbound SendEntries waiting for its Writes.
type pushReply struct {
	req            ReqID
	to             PeerID
	version        uint32
	entries, count int
	pending        map[Seq]bool
	failure        string
}

func (pr *pushReply) writeDone(m *Machine, s Seq, failure string) {
	delete(pr.pending, s)
	if failure != "" && pr.failure == "" {
		pr.failure = failure
	}
	if len(pr.pending) == 0 {
		pr.finish(m)
	}
}

// finish answers as the reference does: Ack for at most one entry, Count of
// entries stored (duplicates included) for more, Error if storage failed.
func (pr *pushReply) finish(m *Machine) {
	var msg Message = Count{N: uint64(pr.count)}
	switch {
	case pr.failure != "":
		msg = ErrorResponse{Message: "Storage failure: " + pr.failure}
	case pr.entries <= 1:
		msg = Ack{}
	}
	m.reply(pr.to, pr.req, pr.version, msg)
}
