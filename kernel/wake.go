package kernel

import (
	"cmp"
	"math"

	"github.com/eidsync/eidsync/kernel/entry"
)

// wake lets a tick skip a scan for timeouts that cannot have fired yet: it
// is a lower bound on the first tick at which anything of one kind (a
// request's reply, an orphan's parents, a relation's background work, a
// session's placing) falls due. Whatever may fall due earlier lowers it,
// and a scan sets it exactly. The zero value scans at the next tick. A
// bound that is too low only costs a scan, so each site that might make
// something due sooner lowers it rather than reason about whether it did.
type wake uint64

const never = wake(math.MaxUint64)

func (w *wake) lower(tick uint64) { *w = min(*w, wake(tick)) }

// asleep reports whether nothing can be due at tick now.
func (w wake) asleep(now uint64) bool { return now < uint64(w) }

// wakes are a machine's wake bounds, one per kind of timeout.
type wakes struct {
	requests, orphans, relations, placing wake
}

// dueAt is the first tick at which r's background work falls due
// (tickRelations): a coalesced push, a retry or a repair; never while a
// session of it runs.
func (r *relation) dueAt() uint64 {
	if r.syncing != 0 {
		return uint64(never)
	}
	at := r.repairAt
	if r.pushAt != 0 {
		at = min(at, r.pushAt)
	}
	if r.retry.deadline != 0 {
		at = min(at, r.retry.deadline)
	}
	return at
}

// The scans of tick. Each sets its bound again once it has acted, from
// what is pending then.

func (m *Machine) expireRequests() {
	requestDue := func(r *outRequest) bool { return m.nowTicks-r.sentTick >= m.cfg.RequestTicksMax }
	for _, s := range dueKeys(m.outbound, requestDue, cmp.Compare) {
		if r := m.outbound[s]; r != nil && requestDue(r) {
			m.failRequest(s, "no reply within RequestTicksMax")
		}
	}
	m.wakes.requests = m.requestsDue()
}

func (m *Machine) expireOrphans() {
	for _, id := range dueKeys(m.trees, (*tree).hasOrphans, entry.ID.Compare) {
		m.trees[id].expireOrphans(m)
	}
	m.wakes.orphans = m.orphansDue()
}

func (m *Machine) expirePlacing() {
	placingDue := func(ss *session) bool {
		return ss != nil && ss.placingSince != 0 && m.nowTicks-ss.placingSince >= m.cfg.RequestTicksMax
	}
	for _, sid := range dueKeys(m.sessions, placingDue, cmp.Compare) {
		if ss := m.sessions[sid]; placingDue(ss) {
			ss.fail(m, "the peer's tips could not be placed: their history never arrived")
		}
	}
	m.wakes.placing = m.placingDue()
}

// The exact bounds: the first tick at which something of each kind falls
// due, never when nothing is pending.

func (m *Machine) requestsDue() wake {
	w := never
	for _, r := range m.outbound {
		w.lower(r.sentTick + m.cfg.RequestTicksMax)
	}
	return w
}

func (m *Machine) orphansDue() wake {
	w := never
	for _, t := range m.trees {
		for _, o := range t.orphans {
			if o.local == nil {
				w.lower(o.since + m.cfg.OrphanTicksMax)
			}
		}
	}
	return w
}

func (m *Machine) relationsDue() wake {
	w := never
	for _, r := range m.relations {
		w.lower(r.dueAt())
	}
	return w
}

func (m *Machine) placingDue() wake {
	w := never
	for _, ss := range m.sessions {
		if ss.placingSince != 0 {
			w.lower(ss.placingSince + m.cfg.RequestTicksMax)
		}
	}
	return w
}
