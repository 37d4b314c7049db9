package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// nodeState is where a node is in its life.
type nodeState uint8

const (
	stDormant nodeState = iota // not started yet: a peer that joins later
	stUp
	stPaused // frozen: no steps; ticks, messages and completions wait
	stDown   // crashed, waiting to restart
)

// node is one simulated process: a kernel machine, its durable store, its
// clock, and the simulator's god's-eye view of what the machine has been
// told is stored.
type node struct {
	w     *world
	id    kernel.PeerID
	idx   int
	key   nodeKey
	state nodeState
	inc   int // incarnation: bumped at every start, so stale completions are dropped
	m     *kernel.Machine
	cfg   kernel.Config
	disk  *disk
	clock clock

	// acked holds, per tree, the entries the current machine was told are
	// stored: its restored state plus every Persisted since. The kernel's
	// tips must be exactly its maxima (invariant 3).
	acked map[entry.ID]*treeSet
	trees []entry.ID // keys of acked, in first-seen order
	// durable holds every entry acknowledged since the last wipe: it must
	// survive crashes (invariant 4).
	durable map[entry.ID]bool
	local   map[entry.ID]bool // entries this node committed
	// epoch counts wipes; lastPut is the latest entry this node committed,
	// which reads ask for often (read-your-writes).
	epoch int
	// aops are this node's open approval-registry operations
	// (linear_approval.go), by apReq or apDec key.
	aops    map[uint64]int
	lastPut entry.ID

	steps    int      // steps of this node, for the Status sweep
	deferred []func() // what arrived while paused
	owed     int      // ticks missed while paused
	torn     bool     // the last crash kept a prefix of the writes in flight
	puts     map[kernel.Ref]int
	syncs    map[kernel.Ref]bool // sync asked → the node held the tree before
	log      *EventLog
	// gaveUp holds the relations whose NoticeGaveUp this incarnation saw
	// (or restored as given up); attempts the last attempts seen of each.
	gaveUp   map[relKey]bool
	attempts map[relKey]int
}

func newNode(w *world, idx int) *node {
	n := &node{w: w, id: kernel.PeerID(fmt.Sprintf("n%d", idx+1)), idx: idx, key: keys()[idx], aops: map[uint64]int{},
		durable: map[entry.ID]bool{}, local: map[entry.ID]bool{}, puts: map[kernel.Ref]int{}, syncs: map[kernel.Ref]bool{}}
	n.disk = newDisk(n)
	n.clock = newClock(w, n)
	return n
}

// addNode creates node idx; with FaultJoin on, the last node starts absent
// and joins at a random time of the safety phase.
func (w *world) addNode(idx int) {
	n := newNode(w, idx)
	w.nodes = append(w.nodes, n)
	w.byID[n.id] = n
	defer w.leave(w.enter(streamNode, siteAddNode, uint64(idx), 0))
	r := w.r[streamNode]
	joinAt := int64(r.between(w.prof.Ticks/5, w.prof.Ticks*4/5) * w.prof.TickMs)
	if idx == w.sw.Nodes-1 && idx > 0 && w.on(FaultJoin) && w.inject(FaultJoin, n) {
		w.q.push(joinAt, n.join)
		return
	}
	n.boot()
}

// machineSeed is the seed of one incarnation: production draws a fresh
// one from crypto/rand at every start, so the simulator changes it too.
func machineSeed(seed uint64, idx, inc int) uint64 {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(idx))
	binary.LittleEndian.PutUint64(b[16:], uint64(inc))
	sum := sha256.Sum256(b[:])
	return binary.LittleEndian.Uint64(sum[:8])
}

// boot starts a machine from the durable store alone, through kernel.New:
// the path the root package takes when it opens a data directory.
func (n *node) boot() {
	w := n.w
	n.inc++
	n.cfg = w.sw.config(machineSeed(w.opts.Seed, n.idx, n.inc), n.key)
	restored := n.disk.state()
	m, err := kernel.New(n.cfg, restored)
	if err != nil {
		w.failf(chkRestart, n, "kernel.New refused the store's state: %v", err)
		return
	}
	n.m, n.state = m, stUp
	n.acked, n.trees = map[entry.ID]*treeSet{}, nil
	n.gaveUp, n.attempts = map[relKey]bool{}, map[relKey]int{}
	for _, rec := range restored.Relations {
		if rec.GaveUp {
			n.gaveUp[relKey{peer: rec.Peer, tree: rec.Tree}] = true
		}
	}
	if len(restored.Relations) > 0 {
		w.mark(MarkRelationRestored)
	}
	for _, ts := range restored.Trees {
		for _, e := range ts.Entries {
			n.ackOne(ts.Root, e.ID, e.Parents)
		}
	}
	if n.idx == w.checkNode || w.opts.RecordEvents {
		n.log = &EventLog{Node: n.id, Incarnation: n.inc, Config: n.cfg, Restored: restored, namer: w.tr.namer}
		w.logs = append(w.logs, n.log)
	}
	w.tr.line("%s boot incarnation %d: %d trees, %d entries", n.id, n.inc, len(restored.Trees), n.disk.size())
	w.afterBoot(n)
	if len(restored.Approvals) > 0 || n.inc > 1 {
		w.recordList(n) // what survived the crash settles its unknown registry ops
	}
}

func (n *node) join() {
	if n.state != stDormant {
		return
	}
	n.w.tr.line("%s joins, empty", n.id)
	n.boot()
}

// ackOne records that the machine knows id as stored.
func (n *node) ackOne(tree, id entry.ID, parents []entry.ID) {
	ts := n.acked[tree]
	if ts == nil {
		ts = newTreeSet()
		n.acked[tree] = ts
		n.trees = append(n.trees, tree)
	}
	ts.add(id, parents)
	n.durable[id] = true
}

// deliver runs fn now if the node is up in incarnation inc, on resume if it
// is paused, and never if it crashed or restarted since.
func (n *node) deliver(inc int, fn func()) {
	switch {
	case n.inc != inc || n.state == stDown || n.state == stDormant:
	case n.state == stPaused:
		n.deferred = append(n.deferred, fn)
	default:
		fn()
	}
}

// origin says why an event might be refused, for the refusal checker.
type origin uint8

const (
	fromSim      origin = iota // completions and local calls: never refused
	fromPeer                   // an honest, intact message: a reply may be late
	fromTainted                // corrupted or rogue: may be refused
	fromDupReply               // a duplicated reply: must be refused
	fromTimeout                // SendFailed: refused only if the kernel timed out first
)

// stepInfo is what one step did, for the checkers.
type stepInfo struct {
	n       *node
	evs     []kernel.Event
	origin  origin
	errs    []error
	ready   []kernel.Ready
	corrupt []byte // a corrupted blob given in a Loaded
	st      *kernel.Status
}

// sweepEvery is how often (in steps of one node) the checkers compare the
// full Status even when nothing in the step suggests a change.
const sweepEvery = 16

// wantsStatus reports whether the Status checks run after this step: at a
// boot, after a write completed or failed (the stored set changes), after
// a step that wrote relation records (every change of a relation's
// attempts or give-up is persisted with it), and on every sweepEvery-th
// step of the node.
func (s *stepInfo) wantsStatus() bool {
	if s.evs == nil || s.n.steps%sweepEvery == 0 {
		return true
	}
	for _, ev := range s.evs {
		switch ev.(type) {
		case kernel.Persisted, kernel.PersistFailed:
			return true
		}
	}
	for _, rd := range s.ready {
		for _, wr := range rd.Persist {
			if len(wr.Relations) > 0 {
				return true
			}
		}
	}
	return false
}

// status is the machine's Status after the step, taken once for all checkers.
func (s *stepInfo) status() kernel.Status {
	if s.st == nil {
		st := s.n.m.Status()
		s.st = &st
	}
	return *s.st
}

// step gives one event to the machine, runs its effects and the checkers.
func (n *node) step(ev kernel.Event, o origin) *stepInfo {
	return n.stepAll([]kernel.Event{ev}, o, nil)
}

// stepAll steps several events before draining once, as a driver that
// batches does: their effects may share one Ready batch.
func (n *node) stepAll(evs []kernel.Event, o origin, corrupt []byte) *stepInfo {
	s := &stepInfo{n: n, evs: evs, origin: o, corrupt: corrupt}
	n.steps++
	for _, ev := range evs {
		s.errs = append(s.errs, n.feed(ev, o))
	}
	n.drain(s)
	n.w.afterStep(s)
	return s
}

// feed steps one event and checks that a refusal left no effect.
func (n *node) feed(ev kernel.Event, o origin) error {
	w := n.w
	w.kernelEvents++
	w.tr.event(n.id, ev)
	had := n.m.HasReady()
	w.recordRequest(n, ev)
	err := n.m.Step(ev)
	if n.log != nil {
		n.log.add(ev, err)
	}
	if err != nil {
		w.tr.line("%s refused: %v", n.id, err)
		if !had && n.m.HasReady() {
			w.failf(chkRefusal, n, "a refused %T left effects: %v", ev, err)
		}
		w.refused(n, ev, err, o)
	}
	return err
}

// drain runs every Ready batch: sends go to the network, writes and reads
// to the store, notices to the workload and the checkers.
func (n *node) drain(s *stepInfo) {
	for n.m.HasReady() {
		rd := n.m.Ready()
		text := n.w.tr.ready(n.id, rd)
		if n.log != nil {
			n.log.out(text)
		}
		s.ready = append(s.ready, rd)
		for _, env := range rd.Send {
			n.w.checkConfidential(n, env)
			n.w.checkClaims(n, env)
			n.w.recordReply(n, env)
			n.w.net.send(n, env)
		}
		if len(rd.Persist) > 0 {
			n.disk.submit(rd.Persist)
		}
		for _, r := range rd.Load {
			n.disk.read(r)
		}
		for _, no := range rd.Notify {
			n.w.notice(n, no)
		}
	}
}

// onTick is the node's own tick loop: uneven intervals when tick jitter is
// on, and ticks owed while paused.
func (n *node) onTick() {
	w := n.w
	if w.phase == phaseDone {
		return
	}
	w.q.push(w.now+n.clock.interval(w, n), n.onTick)
	switch n.state {
	case stUp:
		n.step(kernel.Tick{NowMs: n.clock.read(w, w.now)}, fromSim)
	case stPaused:
		n.owed++
	}
}

func (w *world) scheduleTick(n *node) { w.q.push(n.clock.interval(w, n), n.onTick) }

// tickFaults draws this node's crash and pause for one world tick.
func (n *node) tickFaults() {
	w := n.w
	defer w.leave(w.enter(streamNode, siteNodeTick, uint64(n.idx), 0))
	r := w.r[streamNode]
	crash, pause := w.roll(r, FaultCrash, n), w.roll(r, FaultPause, n)
	if n.state != stUp {
		return
	}
	switch {
	case crash:
		n.crash()
	case pause:
		n.pause(int64(max(1, r.exp(w.sw.PauseTicks))) * int64(w.prof.TickMs))
	}
}

// crash loses the machine and everything volatile. Writes in flight are
// each lost, kept, or kept as a prefix (storage.go); requests it was
// serving fail at their clients. It restarts after a down time, wiped
// (same identity, empty store) in some seeds.
func (n *node) crash() {
	w := n.w
	defer w.leave(w.enter(streamNode, siteCrash, uint64(n.idx), 0))
	r := w.r[streamNode]
	if n.m.Status().Sessions > 0 {
		w.mark(MarkRestartMidSync)
	}
	wipe := w.roll(r, FaultWipe, n)
	down := int64(max(1, r.exp(w.sw.DownTicks))) * int64(w.prof.TickMs)
	w.tr.line("fault crash %s (wipe=%t, down %dms)", n.id, wipe, down)
	n.state, n.m = stDown, nil
	n.deferred, n.owed = nil, 0
	n.disk.crash()
	if wipe {
		n.disk.wipe()
		n.durable, n.local = map[entry.ID]bool{}, map[entry.ID]bool{}
		n.epoch++
	}
	w.net.serverDown(n)
	w.unknownPuts(n, true)
	w.unknownApprovals(n)
	w.forgetDecisions(n)
	w.q.push(w.now+down, n.restart)
}

// restart boots a crashed node from its store (maybe an older snapshot,
// in the adversarial profile) and checks that nothing acknowledged is gone.
func (n *node) restart() {
	if n.state != stDown {
		return
	}
	n.disk.staleRestore()
	n.boot()
}

func (n *node) pause(d int64) {
	w := n.w
	w.tr.line("fault pause %s for %dms", n.id, d)
	n.state = stPaused
	w.q.push(w.now+d, n.resume)
}

// resume delivers the overdue ticks in a burst, then what arrived.
func (n *node) resume() {
	w := n.w
	if n.state != stPaused {
		return
	}
	w.tr.line("%s resumes: %d ticks owed, %d events waiting", n.id, n.owed, len(n.deferred))
	n.state = stUp
	if n.owed > 1 {
		w.mark(MarkTickBurst)
	}
	for ; n.owed > 0 && n.state == stUp; n.owed-- {
		n.step(kernel.Tick{NowMs: n.clock.read(w, w.now)}, fromSim)
	}
	waiting := n.deferred
	n.deferred = nil
	for _, fn := range waiting {
		if n.state == stUp {
			fn()
		}
	}
}

// treeSet is one tree's acknowledged entries with their maxima kept up to
// date, and a fingerprint (count and XOR of ID hashes) to compare sets fast.
type treeSet struct {
	has  map[entry.ID]bool
	list []entry.ID
	tips map[entry.ID]bool
	fp   uint64
	// agreed is when checkTips last found the machine's tips equal to
	// these: which machine, the size of this set, and the machine's size.
	// A DAG only grows, so while none of them moved, neither did the tips.
	agreed struct {
		m                     *kernel.Machine
		list, entries, tipsAt int
	}
}

func newTreeSet() *treeSet {
	return &treeSet{has: map[entry.ID]bool{}, tips: map[entry.ID]bool{}}
}

// add inserts id; its parents must be in the set already (stores apply
// parents first), so a new entry is a tip and its parents are not.
func (s *treeSet) add(id entry.ID, parents []entry.ID) {
	if s.has[id] {
		return
	}
	s.has[id] = true
	s.list = append(s.list, id)
	for _, p := range parents {
		delete(s.tips, p)
	}
	s.tips[id] = true
	s.fp ^= idHash(id)
}

// sameTips reports whether got (sorted, from the machine) are the maxima.
func (s *treeSet) sameTips(got []entry.ID) bool {
	if len(got) != len(s.tips) {
		return false
	}
	for _, id := range got {
		if !s.tips[id] {
			return false
		}
	}
	return true
}

func (s *treeSet) sortedTips() []entry.ID {
	var out []entry.ID
	for id := range s.tips {
		out = append(out, id)
	}
	return entry.SortIDs(out)
}

// idHash is 64 bits of an ID's digest (its last 8 bytes).
func idHash(id entry.ID) uint64 {
	b := id.Bytes()
	return binary.LittleEndian.Uint64(b[len(b)-8:])
}
