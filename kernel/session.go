package kernel

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// A session is one sync of one tree with one peer, in both directions:
// handshake if needed; SyncTree with our tips and a have-set; store what
// comes back (and continue while the peer says more); fetch tips we cannot
// place (v1); push what the peer lacks; report. Callers asking for the same
// (peer, tree) while a session runs join it.

type sessionKey struct {
	peer PeerID
	tree entry.ID
}

type session struct {
	sid       uint64
	key       sessionKey
	refs      []Ref
	challenge []byte
	version   uint32       // handshake version tried
	writes    map[Seq]bool // nil until the session waits for a write
	theirTips []entry.ID   // nil until an Incremental answer
	cont      Continuation
	fetched   bool
	push      []dag.Node // entries to push, in topological order
	pushed    int        // how many of push are sent
	failure   string
	stats     SyncStats
	stalls    int // answers in a row that made no progress (progressed)
	// named are the IDs our last SyncTree gave as held (tips and have-set);
	// cursor is the last resume cursor received. seen are the latest
	// entries (at most IDsMax) of diff answers cut at the limits that
	// brought nothing new, named in the next SyncTree; redundant counts
	// such answers in a row (see requestSync).
	named     []entry.ID
	cursor    *uint64
	seen      []entry.ID
	redundant int
	// asking is set while a SyncTree of this session is unanswered: a
	// streamed bootstrap asks for the next batch before the last is stored.
	asking bool
	// pushFrom are our tips the push was computed from (nil until then),
	// and pushGen the relation's commit count at that moment: a push that
	// finishes delivered exactly the history below pushFrom, not what was
	// committed while it was in flight.
	pushFrom  []entry.ID
	pushGen   uint64
	pushedAll bool // the push finished: the peer holds all of pushFrom
	restamped bool // a request was signed again past the peer's nonce floor
	// access and accessName ask the peer for approval (SyncAsked);
	// pending is the request ID it answered with.
	access     *Permission
	accessName string
	pending    string
	// placingSince is the tick the session started waiting for the peer's
	// tips to be stored (fetched orphans whose parents are on the way); 0
	// when not waiting.
	placingSince uint64
}

func (m *Machine) session(sid uint64) *session {
	if sid == 0 {
		return nil
	}
	return m.sessions[sid]
}

func (m *Machine) syncAsked(ev SyncAsked) error {
	if ev.Peer == "" || ev.Tree.IsZero() {
		return fmt.Errorf("%w: SyncAsked needs a peer and a tree", ErrMalformed)
	}
	key := sessionKey{peer: ev.Peer, tree: ev.Tree}
	if ev.Access != nil && (ev.AccessName == "" || ev.Access.Level == 0) {
		return fmt.Errorf("%w: asking for access needs a key name and a permission", ErrMalformed)
	}
	if ss := m.sessionFor(key); ss != nil {
		ss.refs = append(ss.refs, ev.Ref)
		ss.access, ss.accessName = cmp.Or(ev.Access, ss.access), cmp.Or(ev.AccessName, ss.accessName)
		return nil
	}
	_, err := m.startSession(key, ev.Ref, false, &ev)
	return err
}

// sessionFor returns the session running for key, or nil.
func (m *Machine) sessionFor(key sessionKey) *session {
	for _, sid := range sortedKeys(m.sessions) {
		if ss := m.sessions[sid]; ss.key == key {
			return ss
		}
	}
	return nil
}

// startSession starts a sync of key. ref 0 is a background sync, which no
// caller waits for. pushOnly skips the pull when the peer's tips are
// remembered: a coalesced push after local commits is then one message.
func (m *Machine) startSession(key sessionKey, ref Ref, pushOnly bool, ask *SyncAsked) (*session, error) {
	if len(m.sessions) >= m.cfg.SessionsMax {
		return nil, fmt.Errorf("%w: SessionsMax %d", ErrLimit, m.cfg.SessionsMax)
	}
	p, err := m.peerFor(key.peer)
	if err != nil {
		return nil, err
	}
	m.nextSID++
	ss := &session{sid: m.nextSID, key: key}
	if ref != 0 {
		ss.refs = []Ref{ref}
	}
	if ask != nil {
		ss.access, ss.accessName = ask.Access, ask.AccessName
	}
	m.sessions[ss.sid] = ss
	switch remembered := p.remembered[key.tree]; {
	case !p.handshaken:
		ss.handshake(m, m.cfg.ProtocolMax)
	case pushOnly && len(remembered) > 0:
		ss.theirTips = entry.SortIDs(slices.Clone(remembered))
		ss.startPush(m)
	default:
		ss.requestSync(m)
	}
	return ss, nil
}

func (ss *session) handshake(m *Machine, version uint32) {
	ss.version = version
	ss.challenge = make([]byte, challengeBytes)
	m.rng.fill(ss.challenge)
	msg := Handshake{PublicKey: m.cfg.DeviceKey.Public(), DisplayName: m.displayName(), ProtocolVersion: version,
		Challenge: ss.challenge, ListenAddresses: []Address{}}
	ss.request(m, ProtocolV0, msg, outRequest{kind: reqHandshake})
}

// request sends msg for this session, within RoundsMax.
func (ss *session) request(m *Machine, version uint32, msg Message, r outRequest) {
	if ss.stats.Requests >= m.cfg.RoundsMax {
		ss.fail(m, fmt.Sprintf("gave up after RoundsMax (%d) requests", m.cfg.RoundsMax))
		return
	}
	ss.stats.Requests++
	r.sid, r.tree = ss.sid, ss.key.tree
	m.send(ss.key.peer, version, msg, r)
}

func (ss *session) onHandshake(m *Machine, msg Message) {
	switch resp := msg.(type) {
	case HandshakeResponse:
		if resp.ProtocolVersion != ss.version {
			ss.fail(m, fmt.Sprintf("protocol mismatch: asked %d, peer answered %d", ss.version, resp.ProtocolVersion))
			return
		}
		if !m.verifyChecked(resp.checked, resp.PublicKey, handshakeSigned(ss.version, ss.challenge), resp.ChallengeResponse) {
			ss.fail(m, "handshake: the peer's challenge response does not verify with its key")
			return
		}
		p := m.peers[ss.key.peer]
		p.key, p.version, p.handshaken = resp.PublicKey, ss.version, true
		ss.requestSync(m)
	case ErrorResponse:
		if ss.version == ProtocolV1 && strings.HasPrefix(resp.Message, "Protocol version mismatch") {
			ss.handshake(m, ProtocolV0) // a reference (v0) peer
			return
		}
		ss.fail(m, "handshake refused: "+resp.Message)
	default:
		ss.fail(m, fmt.Sprintf("peer answered Handshake with %T", msg))
	}
}

// redundantMax is how many diff answers in a row may bring only entries we
// held before a session asks the peer to stream its tree instead.
const redundantMax = 3

// requestSync sends SyncTree with our tips and, to a v1 peer, a have-set:
// the peer's tips remembered from the last exchange, or a frontier sample
// of our history on first contact, so the peer can place what we hold.
func (ss *session) requestSync(m *Machine) {
	p := m.peers[ss.key.peer]
	msg := SyncTree{TreeID: ss.key.tree, OurTips: []entry.ID{}, PeerPubkey: m.cfg.DeviceKey.Public()}
	if t := m.trees[ss.key.tree]; t != nil && t.dag.Len() > 0 {
		msg.OurTips = m.wireTips(t)
		if p.version >= ProtocolV1 {
			msg.Have = ss.haveSet(m, t, p, msg.OurTips)
		}
	}
	if p.version >= ProtocolV1 {
		msg.Resume = ss.cont.Resume
		if ss.redundant >= redundantMax && msg.Resume == nil {
			// NB: the peer cannot place our history, so its diff keeps
			// sending entries we hold, more than naming them can exclude:
			// its stream in insertion order, by cursor, always advances.
			msg.Resume = new(uint64)
		}
	}
	if len(msg.OurTips) == 0 && ss.access != nil {
		name := ss.accessName
		msg.RequestingKey, msg.RequestingKeyName, msg.RequestedPermission = m.cfg.DeviceKey.Public(), &name, ss.access
	}
	ss.named = append(slices.Clip(msg.OurTips), msg.Have...)
	ss.cont = Continuation{}
	ss.asking = true
	ss.request(m, p.version, msg, outRequest{kind: reqSync})
}

func (ss *session) haveSet(m *Machine, t *tree, p *peer, tips []entry.ID) []entry.ID {
	isTip := map[entry.ID]bool{}
	for _, id := range tips {
		isTip[id] = true
	}
	var have []entry.ID
	add := func(source []entry.ID) {
		for _, id := range source {
			if len(have) < m.cfg.FrontierMax && t.dag.Has(id) && !isTip[id] && !slices.Contains(have, id) {
				have = append(have, id)
			}
		}
	}
	add(p.remembered[t.root])
	// NB: the peer's remembered tips help only if we hold them; once the
	// peer has moved on, none is, and the peer has nothing to place our
	// history by. The frontier fills in (not for a resumed stream, which
	// the peer serves by its cursor alone); it lists the tips first, so
	// with as many tips as FrontierMax it is asked for more, to reach
	// samples. A remembered tip that is one of our tips is not named, but
	// places our history all the same: the frontier, a walk of the whole
	// history, is not drawn then (it made every no-op sync cost 0.5 ms at
	// 100k entries).
	placed := slices.ContainsFunc(p.remembered[t.root], t.dag.Has)
	for _, room := range []int{m.cfg.FrontierMax, m.cfg.FrontierMax + len(tips)} {
		if len(have) == 0 && !placed && ss.cont.Resume == nil {
			add(t.dag.Frontier(room))
		}
	}
	// A diff answer cut at the limits that brought only entries we held
	// continues after them if we name them: the next diff leaves them and
	// their ancestors out (deepest first, within IDsMax). NB: only those
	// stored: an answer that stored nothing may also have brought orphans
	// or refused entries, and naming one would tell the peer we hold its
	// ancestors (a false in-sync; large-profile seed 78).
	for i := len(ss.seen) - 1; i >= 0 && len(have) < m.cfg.Wire.IDsMax; i-- {
		if id := ss.seen[i]; t.dag.Has(id) && !isTip[id] && !slices.Contains(have, id) {
			have = append(have, id)
		}
	}
	return have
}
