//go:build invariants

package kernel

import "fmt"

// checkInvariants runs the expensive consistency checks after every Step
// when built with -tags invariants (pebble's internal/invariants).
func (m *Machine) checkInvariants() {
	m.checkWakes()
	for _, id := range sortedIDs(m.trees) {
		t := m.trees[id]
		for eid, s := range t.inflight {
			if t.dag.Has(eid) {
				panic(fmt.Sprintf("kernel: invariant: %s is both stored and in flight", eid))
			}
			if _, ok := m.writes[s]; !ok {
				panic(fmt.Sprintf("kernel: invariant: %s in flight in unknown write %d", eid, s))
			}
		}
		for eid, o := range t.orphans {
			if t.dag.Has(eid) {
				panic(fmt.Sprintf("kernel: invariant: %s is both stored and an orphan", eid))
			}
			if _, ok := t.inflight[eid]; ok {
				panic(fmt.Sprintf("kernel: invariant: %s is both in flight and an orphan", eid))
			}
			waiting := false
			for _, p := range o.blob.Entry.Tree.Parents {
				waiting = waiting || !t.dag.Has(p)
			}
			if !waiting {
				panic(fmt.Sprintf("kernel: invariant: orphan %s has all its parents stored", eid))
			}
		}
		local := 0
		for _, o := range t.orphans {
			if o.local != nil {
				local++
			}
		}
		if local != t.localOrphans {
			panic(fmt.Sprintf("kernel: invariant: %d local orphans counted as %d", local, t.localOrphans))
		}
		if t.remoteOrphans() > m.cfg.OrphansMax {
			panic("kernel: invariant: received orphans over OrphansMax")
		}
	}
	if len(m.sessions) > m.cfg.SessionsMax || len(m.peers) > m.cfg.PeersMax || len(m.trees) > m.cfg.TreesMax {
		panic("kernel: invariant: sessions, peers or trees over their limit")
	}
	for key, r := range m.relations {
		if r.retry.attempts > m.cfg.RetryAttemptsMax || r.retry.attempts < 0 {
			panic(fmt.Sprintf("kernel: invariant: relation %s %s has %d attempts", key.peer, key.tree, r.retry.attempts))
		}
		// NB: a fired retry may wait past its deadline for a free session
		// slot; what must hold is the delay it was armed with.
		if d := r.retry.deadline - r.retry.armed; r.retry.ticking() && (d < m.cfg.RetryTicksMin || d > m.cfg.RetryTicksMax) {
			panic(fmt.Sprintf("kernel: invariant: relation %s %s armed a retry %d ticks out, outside [RetryTicksMin, RetryTicksMax]", key.peer, key.tree, d))
		}
		if r.gaveUp && r.retry.ticking() {
			panic("kernel: invariant: a relation that gave up still retries")
		}
	}
	for _, p := range m.peers {
		if p.wants < 0 || p.wants > m.cfg.WantsInflightMax+m.cfg.Wire.IDsMax {
			panic(fmt.Sprintf("kernel: invariant: peer %s has %d wants", p.id, p.wants))
		}
	}
}

// checkWakes: no wake bound may let a tick skip work that is due by then
// (wake.go). Work already due must be looked at by the next tick.
func (m *Machine) checkWakes() {
	for _, k := range []struct {
		name         string
		bound, exact wake
	}{
		{"requests", m.wakes.requests, m.requestsDue()},
		{"orphans", m.wakes.orphans, m.orphansDue()},
		{"relations", m.wakes.relations, m.relationsDue()},
		{"placing", m.wakes.placing, m.placingDue()},
	} {
		if k.bound > max(k.exact, wake(m.nowTicks+1)) {
			panic(fmt.Sprintf("kernel: invariant: %s wake at tick %d, but work is due at %d (now %d)", k.name, k.bound, k.exact, m.nowTicks))
		}
	}
}
