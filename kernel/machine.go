package kernel

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/eidsync/eidsync/kernel/dag"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Machine is the sync state machine of one node. It is not safe for
// concurrent use: one driver goroutine owns it (see the package doc).
type Machine struct {
	cfg Config
	rng prng
	// authRNG draws request-auth nonces: a stream of its own, so that
	// signing does not shift the retry jitter drawn from rng.
	authRNG  prng
	nowTicks uint64
	nowMs    int64
	seq      Seq

	trees    map[entry.ID]*tree
	peers    map[PeerID]*peer
	writes   map[Seq]*pendingWrite
	reads    map[Seq]*pendingRead
	outbound map[Seq]*outRequest
	inbound  map[ReqID]bool // requests received and not yet answered
	sessions map[uint64]*session
	nextSID  uint64

	relations map[sessionKey]*relation
	flushes   []*flush
	nonces    nonceMemory
	approvals approvals
	// keys verifies every signature the machine checks itself (request
	// auth, handshakes, entries not verified by a decoder) with expanded
	// keys: peers and writers sign again and again.
	keys entry.KeyCache
	// wakes skip the tick's scans while nothing can be due (wake.go).
	wakes wakes

	ready Ready
}

// State is what a machine restarts from: every tree's stored entries in the
// order they were persisted (parents before children). It comes from the
// store alone, through the same path in production and in the simulator.
type State struct {
	Trees     []TreeState
	Relations []RelationRecord // the latest record of each relation
	// NonceFloors are the durable nonce-memory floors (nonces.go).
	NonceFloors []NonceFloor
	// Approvals are the bootstrap-request records, oldest first.
	Approvals []ApprovalRequest
}

// TreeState is one tree's stored entries, root first.
type TreeState struct {
	Root    entry.ID
	Entries []IndexedEntry
}

// IndexedEntry is the part of a stored entry the kernel keeps in memory.
// Settings and Signer are set only for an entry with a _settings store:
// its data and the entry's signing key, from which the tree's permissions
// are rebuilt (IndexedOf).
type IndexedEntry struct {
	ID       entry.ID
	Parents  []entry.ID
	Settings []byte
	Signer   entry.PublicKey
}

// IndexedOf returns what State needs of a stored entry.
func IndexedOf(id entry.ID, e *entry.Entry) IndexedEntry {
	ie := IndexedEntry{ID: id, Parents: e.Tree.Parents}
	if st := e.Store(entry.StoreSettings); st != nil && len(st.Data) > 0 {
		ie.Settings, ie.Signer = st.Data, e.Sig.Key.Hint.PubKey
	}
	return ie
}

// New returns a machine with cfg, rebuilt from restored. It fails if cfg is
// invalid or restored is not parent-closed.
func New(cfg Config, restored State) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Machine{
		cfg:       cfg,
		rng:       newPRNG(cfg.Seed),
		authRNG:   newPRNG(cfg.Seed ^ 0x6e6f6e6365), // "nonce"
		trees:     map[entry.ID]*tree{},
		peers:     map[PeerID]*peer{},
		writes:    map[Seq]*pendingWrite{},
		reads:     map[Seq]*pendingRead{},
		outbound:  map[Seq]*outRequest{},
		inbound:   map[ReqID]bool{},
		sessions:  map[uint64]*session{},
		relations: map[sessionKey]*relation{},
		nonces:    newNonceMemory(restored.NonceFloors),
	}
	for _, ts := range restored.Trees {
		if err := m.restoreTree(ts); err != nil {
			return nil, err
		}
	}
	m.restoreApprovals(restored.Approvals)
	for _, rec := range restored.Relations {
		if err := m.restoreRelation(rec); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Machine) restoreTree(ts TreeState) error {
	if len(ts.Entries) == 0 || ts.Entries[0].ID != ts.Root || len(ts.Entries[0].Parents) != 0 {
		return fmt.Errorf("kernel: restore tree %s: first entry must be its root", ts.Root)
	}
	if _, dup := m.trees[ts.Root]; dup || len(m.trees) >= m.cfg.TreesMax {
		return fmt.Errorf("kernel: restore tree %s: duplicate or over TreesMax", ts.Root)
	}
	t := m.newTree(ts.Root)
	for _, e := range ts.Entries {
		n, _, err := t.dag.Add(e.ID, e.Parents)
		if err != nil {
			return fmt.Errorf("kernel: restore tree %s: entry %s: %w", ts.Root, e.ID, err)
		}
		t.mergeSettings(e.ID, e.Signer, t.dag.Depth(n), e.Settings)
	}
	m.trees[ts.Root] = t
	return nil
}

// Step applies one event. It returns an error, and leaves the machine
// unchanged, when the event is refused: malformed or over a limit. Effects it
// causes are collected for Ready.
func (m *Machine) Step(ev Event) error {
	var err error
	switch ev := ev.(type) {
	case Tick:
		m.tick(ev)
	case Received:
		err = m.received(ev)
	case SendFailed:
		err = m.sendFailed(ev)
	case Persisted:
		err = m.persisted(ev.Seq, "")
	case PersistFailed:
		err = m.persisted(ev.Seq, nonEmpty(ev.Reason))
	case Loaded:
		err = m.loaded(ev.Seq, ev.Blobs, "")
	case LoadFailed:
		err = m.loaded(ev.Seq, nil, nonEmpty(ev.Reason))
	case Committed:
		err = m.committed(ev)
	case SyncAsked:
		err = m.syncAsked(ev)
	case FlushAsked:
		m.flushAsked(ev.Ref)
	case Decide:
		err = m.decide(ev)
	default:
		panic(fmt.Sprintf("kernel: assertion failed: unknown event %T", ev))
	}
	m.checkInvariants()
	return err
}

func nonEmpty(s string) string {
	if s == "" {
		return "unspecified failure"
	}
	return s
}

// HasReady reports whether Ready would return any effect.
func (m *Machine) HasReady() bool {
	r := &m.ready
	return len(r.Send)+len(r.Persist)+len(r.Load)+len(r.Notify) > 0
}

// Ready drains and returns the effects collected since the last call.
func (m *Machine) Ready() Ready {
	r := m.ready
	m.ready = Ready{}
	return r
}

func (m *Machine) nextSeq() Seq {
	m.seq++
	return m.seq
}

func (m *Machine) notify(n Notice) { m.ready.Notify = append(m.ready.Notify, n) }

// send queues a request and records it as outstanding; the reply is routed
// to onReply by its Seq.
func (m *Machine) send(to PeerID, version uint32, msg Message, owner outRequest) Seq {
	s := m.nextSeq()
	owner.to, owner.sentTick = to, m.nowTicks
	m.wakes.requests.lower(m.nowTicks + m.cfg.RequestTicksMax)
	if p := m.peers[to]; p != nil {
		msg = m.signed(p, msg)
	}
	m.outbound[s] = &owner
	m.ready.Send = append(m.ready.Send, Envelope{Seq: s, To: to, Version: version, Msg: msg})
	return s
}

// reply answers the inbound request req exactly once.
func (m *Machine) reply(to PeerID, req ReqID, version uint32, msg Message) {
	if !m.inbound[req] {
		panic(fmt.Sprintf("kernel: assertion failed: reply to request %d that is not open", req))
	}
	delete(m.inbound, req)
	m.ready.Send = append(m.ready.Send, Envelope{To: to, Reply: req, Version: version, Msg: msg})
}

func (m *Machine) tick(ev Tick) {
	m.nowTicks++
	m.nowMs = ev.NowMs
	m.expireNonces()
	// NB: a scan runs only when its wake bound says something may be due
	// (wake.go), and sorts only what is (dueKeys): most ticks read no map
	// and allocate nothing. What is due goes in key order, kinds in this
	// order.
	if !m.wakes.requests.asleep(m.nowTicks) {
		m.expireRequests()
	}
	if !m.wakes.orphans.asleep(m.nowTicks) {
		m.expireOrphans()
	}
	if !m.wakes.relations.asleep(m.nowTicks) {
		m.tickRelations()
	}
	if !m.wakes.placing.asleep(m.nowTicks) {
		m.expirePlacing()
	}
}

// dueKeys returns the keys of mp whose value is due, sorted by compare;
// nil, without allocating, when none is.
func dueKeys[K comparable, V any](mp map[K]V, due func(V) bool, compare func(a, b K) int) []K {
	if len(mp) == 0 {
		return nil // NB: even an empty map's iteration costs a random start
	}
	var out []K
	for k, v := range mp {
		if due(v) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, compare)
	return out
}

// Status is a snapshot of the machine for tests, tools and the Go API.
type Status struct {
	NowTicks uint64
	Trees    []TreeStatus
	Peers    []PeerStatus
	Sessions int
}

// TreeStatus describes one tree.
type TreeStatus struct {
	Tree     entry.ID
	Entries  int        // stored
	Tips     []entry.ID // stored tips, in ID order
	Orphans  int        // received, waiting for parents
	Inflight int        // sent to the store, not yet durable
}

// PeerStatus describes one peer: one that exchanged messages with this
// machine since its start (Contacted), or one with a relation restored
// from the store and no exchange yet (Key, Version and Stats zero).
type PeerStatus struct {
	Peer       PeerID
	Key        entry.PublicKey
	Version    uint32
	Handshaken bool
	Contacted  bool
	Stats      PeerStats
	Relations  []RelationStatus // trees synced with this peer in the background
}

// PeerStats counts traffic with one peer since start.
type PeerStats struct {
	RequestsOut, RequestsIn int
	EntriesIn, EntriesOut   int
	// BytesIn and BytesOut count entry bytes (canonical CBOR) each way;
	// the transports count wire bytes.
	BytesIn, BytesOut   int
	Redundant, Rejected int
}

// Status returns a snapshot; it allocates and is meant for tools, not hot paths.
func (m *Machine) Status() Status {
	st := Status{NowTicks: m.nowTicks, Sessions: len(m.sessions)}
	for _, id := range sortedIDs(m.trees) {
		t := m.trees[id]
		st.Trees = append(st.Trees, TreeStatus{Tree: id, Entries: t.dag.Len(), Tips: t.dag.Tips(),
			Orphans: len(t.orphans), Inflight: len(t.inflight)})
	}
	// NB: a relation restored from the store names a peer not contacted
	// since the start, which has no peer state yet: it is listed too (zero
	// key, version and stats), or its pending push and backoff would be
	// invisible until the first exchange.
	ids := map[PeerID]bool{}
	for p := range m.peers {
		ids[p] = true
	}
	for key := range m.relations {
		ids[key.peer] = true
	}
	// NB: keys sort by peer first, so each peer's relations are a run.
	keys := m.relationKeys()
	for _, p := range slices.Sorted(maps.Keys(ids)) {
		n := 0
		for n < len(keys) && keys[n].peer == p {
			n++
		}
		ps := PeerStatus{Peer: p, Relations: m.relationStatus(keys[:n])}
		keys = keys[n:]
		if pr := m.peers[p]; pr != nil {
			ps.Key, ps.Version, ps.Handshaken, ps.Stats, ps.Contacted = pr.key, pr.version, pr.handshaken, pr.stats, true
		}
		st.Peers = append(st.Peers, ps)
	}
	return st
}

func sortedKeys[K cmp.Ordered, V any](mp map[K]V) []K { return slices.Sorted(maps.Keys(mp)) }

func sortedIDs[V any](mp map[entry.ID]V) []entry.ID {
	return slices.SortedFunc(maps.Keys(mp), entry.ID.Compare)
}

// newTree is a tree with no stored entry yet. Its index hashes IDs with a
// seed of this machine, so that a peer cannot mine IDs that collide in it.
func (m *Machine) newTree(root entry.ID) *tree {
	return &tree{root: root, dag: dag.NewSeeded(m.cfg.Seed), inflight: map[entry.ID]Seq{}, orphans: map[entry.ID]*orphan{}, waiters: map[entry.ID][]entry.ID{}, wanted: map[entry.ID]bool{}}
}

// Size returns how many entries of tree are stored and how many of them
// are tips, without allocating: a caller that polls (the simulator's tips
// check, after every step) compares the tips again only when these moved.
func (m *Machine) Size(tree entry.ID) (entries, tips int) {
	if t := m.trees[tree]; t != nil {
		return t.dag.Len(), t.dag.TipCount()
	}
	return 0, 0
}

// Tips returns the stored tips of tree in ID order, or nil when the machine
// holds none of it. Cheaper than Status for one tree.
func (m *Machine) Tips(tree entry.ID) []entry.ID {
	if t := m.trees[tree]; t != nil && t.dag.Len() > 0 {
		return t.dag.Tips()
	}
	return nil
}
