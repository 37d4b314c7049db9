//go:build invariants

package kernel

import "fmt"

// checkInvariants runs the expensive consistency checks after every Step
// when built with -tags invariants (pebble's internal/invariants).
func (m *Machine) checkInvariants() {
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
		if len(t.orphans) > m.cfg.OrphansMax {
			panic("kernel: invariant: orphans over OrphansMax")
		}
	}
	if len(m.sessions) > m.cfg.SessionsMax || len(m.peers) > m.cfg.PeersMax || len(m.trees) > m.cfg.TreesMax {
		panic("kernel: invariant: sessions, peers or trees over their limit")
	}
	for key, r := range m.relations {
		if r.retry.attempts > m.cfg.RetryAttemptsMax || r.retry.attempts < 0 {
			panic(fmt.Sprintf("kernel: invariant: relation %s %s has %d attempts", key.peer, key.tree, r.retry.attempts))
		}
		if r.retry.ticking() && (r.retry.deadline < m.nowTicks || r.retry.deadline-m.nowTicks > m.cfg.RetryTicksMax) {
			panic(fmt.Sprintf("kernel: invariant: relation %s %s retries outside [now, now+RetryTicksMax]", key.peer, key.tree))
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
