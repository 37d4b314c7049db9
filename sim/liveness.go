package sim

import (
	"fmt"
	"strings"

	"github.com/eidsync/eidsync/kernel/entry"
)

// The liveness phase (SIMULATION.md 2.6, 10-12). At the final heal every
// fault stops: links come back, fast (1 ms) and lossless; storage is
// instant and reliable; crashed nodes restart, paused ones resume, absent
// ones join. The question is whether the nodes converge, not how fast
// (P4). Every node asks each other node in turn to sync each tree, every
// syncEveryTicks ticks, until every node holds exactly the union of all
// stores (the god's-eye model: what survived anywhere, which includes what
// the core nodes wrote) within ConvergeTicks. Messages sent before the
// heal may still be in flight (a 10 s tail, a clog): convergence counts
// only once they have all landed.
//
// Then nobody asks anything. The kernel still syncs on its own (each
// relation repairs every RepairTicks, a failed sync retries), so "quiet"
// means: after a settling time for pushes and retries in progress, for a
// window longer than a repair period, no entry moves (no message carries
// one, none is written, no GetEntries), repair syncs stay within one per
// relation per period, and every relation ends idle: each retry succeeded
// or gave up explicitly (12).
type liveness struct {
	healAt    int64
	round     int
	relations int // at the start of the window
	counting  bool
	// quietTicks counts ticks since convergence; the window starts at
	// windowFrom, once settled and with no packet from before the heal.
	quietTicks, windowFrom int
	lastCommit             int64  // ms of the last NoticeCommitted
	moved                  int    // messages or writes carrying entries in the window
	firstMove              string // the first of them, for the failure message
	syncTrees              int
	// G14 (g14.go): the last writer's commit, the ticks from the heal to
	// convergence (-1 until then), and who lagged 2T after the heal.
	lastWrite      int64
	convergedTicks int
	lagAt2T        string
}

const syncEveryTicks = 5

func (w *world) finalHeal() {
	w.tr.line("final heal: faults off, every node up, syncing round-robin")
	w.phase, w.faultsOff = phaseConverge, true
	w.net.healAll()
	for _, n := range w.nodes {
		switch n.state {
		case stDown:
			n.restart()
		case stPaused:
			n.resume()
		case stDormant:
			n.join()
		}
	}
	w.live.healAt = w.now
	w.q.push(w.now+int64(w.prof.TickMs), w.liveTick)
}

// settleTicks bounds the wait, after convergence, for the pushes, syncs
// and retries then running to finish (the window starts as soon as all are
// idle); windowTicks holds a repair of every relation (RepairTicks plus
// up to a quarter of jitter).
func (w *world) settleTicks() int {
	return int(w.sw.RetryMax+2*w.sw.RequestTicks+w.sw.PushDelay) + 10
}

func (w *world) windowTicks() int {
	return w.prof.QuietTicks + int(w.sw.RepairTicks*5/4)
}

func (w *world) liveTick() {
	if w.phase == phaseDone || w.fail != nil {
		return
	}
	ticks := int((w.now - w.live.healAt) / int64(w.prof.TickMs))
	switch w.phase {
	case phaseConverge:
		if w.prof.G14 {
			if w.g14Converge(ticks) {
				w.tr.line("converged %d ticks after the heal", ticks)
				w.mark(MarkConverged)
				w.phase = phaseQuiet
			} else if w.fail != nil {
				return
			}
			break
		}
		if ticks%syncEveryTicks == 1 {
			w.askSyncs()
		}
		w.settleUnsure()
		if w.net.preHeal == 0 && w.converged() {
			w.live.convergedTicks = ticks
			w.tr.line("converged %d ticks after the heal", ticks)
			w.mark(MarkConverged)
			w.phase = phaseQuiet
		} else if ticks > w.prof.ConvergeTicks {
			w.failure(&Failure{Class: "liveness", Checker: "convergence", Invariant: 10,
				Message: fmt.Sprintf("no convergence within %d ticks of the final heal: %s", w.prof.ConvergeTicks, w.divergence())})
			return
		}
	case phaseQuiet:
		w.live.quietTicks++
		switch {
		case !w.live.counting && (w.live.quietTicks >= w.settleTicks() || w.idle()):
			w.live.counting, w.live.windowFrom, w.live.relations = true, w.live.quietTicks, w.countRelations()
			w.tr.line("quiet window: %d ticks, %d relations", w.windowTicks(), w.live.relations)
		case w.live.counting && w.live.quietTicks-w.live.windowFrom >= w.windowTicks():
			w.endQuiet()
			return
		}
	}
	w.q.push(w.now+int64(w.prof.TickMs), w.liveTick)
}

// countQuiet counts, during the quiet window, what a converged network
// must not do: move entries of tree, or sync more than its relations
// repair. NB: a tree with more tips than Wire.IDsMax is the one tolerated
// exception: a message names at most IDsMax tips (kernel wireTips), so a
// repair cannot tell the peer what lies under the others, and re-sends it
// (or streams the tree): a limit of the protocol, counted apart
// (MarkTipsOverWire), not a fault of this run.
func (w *world) countQuiet(n *node, tree entry.ID, what string, moved bool) {
	if w.phase != phaseQuiet || !w.live.counting {
		return
	}
	if set := n.acked[tree]; set != nil && len(set.tips) > n.cfg.Wire.IDsMax {
		w.mark(MarkTipsOverWire)
		return
	}
	if moved {
		if w.live.moved == 0 {
			w.live.firstMove = fmt.Sprintf("%s: %s", n.id, what)
		}
		w.live.moved++
		return
	}
	w.live.syncTrees++
}

// idle reports whether nothing runs that could still move entries: no
// session on any machine, every relation idle (no push or retry due), no
// packet from before the heal in flight.
func (w *world) idle() bool {
	// NB: a local commit schedules a push PushDelayTicks later, which
	// Status does not show; wait for it too.
	pushDue := w.live.lastCommit + int64(w.sw.PushDelay+2)*int64(w.prof.TickMs)
	if w.net.preHeal > 0 || w.now < pushDue {
		return false
	}
	for _, n := range w.nodes {
		st := n.m.Status()
		if st.Sessions > 0 {
			return false
		}
		for _, p := range st.Peers {
			for _, r := range p.Relations {
				if r.State != "idle" || r.Dirty {
					return false
				}
			}
		}
	}
	return true
}

func (w *world) countRelations() int {
	k := 0
	for _, n := range w.nodes {
		for _, p := range n.m.Status().Peers {
			k += len(p.Relations)
		}
	}
	return k
}

// endQuiet judges the quiet window and ends the run.
func (w *world) endQuiet() {
	periods := w.windowTicks()/int(w.sw.RepairTicks) + 2
	quiet := &Failure{Class: "liveness", Checker: "quiescence", Invariant: 11}
	switch {
	case w.live.moved > 0:
		quiet.Message = fmt.Sprintf("%d entry transfers after convergence, first %s", w.live.moved, w.live.firstMove)
	case w.live.syncTrees > w.live.relations*periods:
		quiet.Message = fmt.Sprintf("%d syncs in %d ticks for %d relations: more than one per repair period", w.live.syncTrees, w.windowTicks(), w.live.relations)
	case !w.converged():
		quiet.Message = "diverged again after convergence: " + w.divergence()
	default:
		quiet.Message = w.pendingRetries()
	}
	if quiet.Message != "" {
		w.failure(quiet)
		return
	}
	w.phase = phaseDone
}

// busyRefusal starts the kernel's answers to a request it sheds for load.
const busyRefusal = "Busy: too many requests in progress"

// pendingRetries lists relations not idle at the end (invariant 12). One
// whose last sync was refused as "Busy" is let pass: a peer shedding load
// (a large swarm, a RequestsInflightMax of 2) refuses some repairs at any
// moment, and the retry that arms, or the give-up after a last attempt
// (repairs go on), may still show when the window ends (large seeds 43,
// 86). Convergence and the absence of transfers are judged before this
// all the same.
func (w *world) pendingRetries() string {
	for _, n := range w.nodes {
		for _, p := range n.m.Status().Peers {
			for _, r := range p.Relations {
				shed := strings.Contains(r.LastError, busyRefusal)
				if r.State != "idle" && r.State != "syncing" && !shed {
					return fmt.Sprintf("%s relation %s %s still %s after the quiet window (attempts %d, err %q)",
						n.id, p.Peer, w.tr.namer(r.Tree), r.State, r.Attempts, r.LastError)
				}
			}
		}
	}
	return ""
}

// askSyncs has every node sync every tree with its next peer in rotation.
func (w *world) askSyncs() {
	k := len(w.nodes)
	off := 1 + w.live.round%(k-1)
	w.live.round++
	for i, n := range w.nodes {
		if n.state != stUp {
			continue
		}
		for _, tree := range w.wl.trees {
			n.askSync(w.nodes[(i+off)%k], tree)
		}
	}
}

// converged reports whether every node holds exactly the union of all
// stores, for every tree of the workload. Fingerprints first; the exact
// union only when they agree.
func (w *world) converged() bool {
	for _, tree := range w.wl.trees {
		var first *treeSet
		for _, n := range w.nodes {
			if w.mayRead(n, tree) && !w.unsure(n, tree) {
				first = n.acked[tree]
				break
			}
		}
		for _, n := range w.nodes {
			if w.unsure(n, tree) {
				continue
			}
			if !w.mayRead(n, tree) {
				if lenOf(n.acked[tree]) > 0 {
					return false // checkConfidential fails first; belt and braces
				}
				continue
			}
			if n.state != stUp || !sameSet(first, n.acked[tree]) {
				return false
			}
		}
		if !w.settled() {
			return false
		}
		union := w.union(tree)
		if lenOf(first) != len(union) {
			return false
		}
		for id := range union {
			if !first.has[id] {
				return false
			}
		}
	}
	return true
}

// settled reports whether no write is on its way anywhere: none pending
// at a store, none in flight inside a machine (a local commit waiting for
// its parents' write is in flight too). Until then the union may grow.
func (w *world) settled() bool {
	for _, n := range w.nodes {
		if len(n.disk.pending) > 0 {
			return false
		}
		for _, t := range n.m.Status().Trees {
			if t.Inflight > 0 {
				return false
			}
		}
	}
	return true
}

func sameSet(a, b *treeSet) bool {
	if lenOf(a) == 0 || lenOf(b) == 0 {
		return lenOf(a) == lenOf(b)
	}
	return len(a.list) == len(b.list) && a.fp == b.fp
}

// union is every entry of tree in any node's store.
func (w *world) union(tree entry.ID) map[entry.ID]bool {
	out := map[entry.ID]bool{}
	for _, n := range w.nodes {
		for _, id := range n.disk.im.Order[tree] {
			out[id] = true
		}
	}
	return out
}

// divergence says who lacks what, for a liveness failure.
func (w *world) divergence() string {
	var b strings.Builder
	if w.net.preHeal > 0 {
		fmt.Fprintf(&b, "%d packets sent before the heal still in flight; ", w.net.preHeal)
	}
	for _, tree := range w.wl.trees {
		union := w.union(tree)
		fmt.Fprintf(&b, "tree %s: union %d entries;", w.tr.namer(tree), len(union))
		for _, n := range w.nodes {
			if !w.mayRead(n, tree) {
				fmt.Fprintf(&b, " %s may not read it, has %d;", n.id, lenOf(n.acked[tree]))
				continue
			}
			set := n.acked[tree]
			var lack []entry.ID
			for id := range union {
				if set == nil || !set.has[id] {
					lack = append(lack, id)
				}
			}
			entry.SortIDs(lack)
			fmt.Fprintf(&b, " %s(%s) has %d lacks %s;", n.id, stateNames[n.state], lenOf(set), describeIDs(lack[:min(len(lack), 6)], w.tr.namer))
		}
	}
	return b.String()
}

var stateNames = [...]string{"dormant", "up", "paused", "down"}
