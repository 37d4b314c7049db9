package kernel

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/eidsync/eidsync/kernel/entry"
)

// A relation is a (peer, tree) pair this node keeps in sync in the
// background: created by the first successful sync of the tree with the
// peer, it pushes local commits to the peer (coalesced, after
// PushDelayTicks), repairs both ways every RepairTicks (jittered), and
// retries a failed sync with exponential backoff up to RetryAttemptsMax,
// after which it gives up explicitly (NoticeGaveUp) until the next repair.
// Its durable part (RelationRecord) survives restarts.
type relation struct {
	key      sessionKey
	dirty    bool   // local commits not yet pushed
	commits  uint64 // local commits of the tree counted so far, for sessions to compare (pushGen)
	pushAt   uint64 // tick the coalesced push is due; 0 when none
	repairAt uint64 // tick the next repair is due
	retry    timeout
	gaveUp   bool
	syncing  uint64 // sid of the background session running, 0 when none
	lastOK   uint64 // tick of the last successful sync, 0 never
	lastErr  string
}

// RelationRecord is the durable part of a relation, written with Persist
// and given back in State after a restart.
type RelationRecord struct {
	Peer     PeerID
	Tree     entry.ID
	Dirty    bool // commits to push
	Attempts int  // failed syncs since the last success
	GaveUp   bool
}

// RelationStatus describes one relation in PeerStatus.
type RelationStatus struct {
	Tree          entry.ID
	State         string // "idle", "syncing", "backoff" or "gave-up"
	Dirty         bool
	Attempts      int
	NextRetryIn   uint64 // ticks; 0 when no retry is armed
	LastSuccessAt uint64 // tick; 0 never
	LastError     string
}

func (r *relation) record() RelationRecord {
	return RelationRecord{Peer: r.key.peer, Tree: r.key.tree, Dirty: r.dirty, Attempts: r.retry.attempts, GaveUp: r.gaveUp}
}

func (m *Machine) newRelation(key sessionKey) *relation {
	r := &relation{key: key, retry: timeout{ticksMin: m.cfg.RetryTicksMin, ticksMax: m.cfg.RetryTicksMax}}
	r.repairAt = m.nextRepair(key.tree)
	m.relationChanged()
	return r
}

// nextRepair draws the next repair tick for tree: its interval plus up to a
// quarter of it in jitter, so that peers do not repair in step.
func (m *Machine) nextRepair(tree entry.ID) uint64 {
	every := m.cfg.RepairTicks
	if t, ok := m.cfg.RepairTicksByTree[tree]; ok && t > 0 {
		every = t
	}
	return m.nowTicks + every + m.rng.below(every/4+1)
}

// restoreRelation rebuilds a relation from its record: a dirty one pushes
// at the first tick, one in backoff retries after a fresh backoff.
func (m *Machine) restoreRelation(rec RelationRecord) error {
	key := sessionKey{peer: rec.Peer, tree: rec.Tree}
	if rec.Peer == "" || rec.Tree.IsZero() || rec.Attempts < 0 {
		return fmt.Errorf("kernel: restore relation %q %s: malformed", rec.Peer, rec.Tree)
	}
	if _, dup := m.relations[key]; dup || len(m.relations) >= m.cfg.RelationsMax {
		return fmt.Errorf("kernel: restore relation %q %s: duplicate or over RelationsMax", rec.Peer, rec.Tree)
	}
	r := m.newRelation(key)
	r.dirty, r.gaveUp = rec.Dirty, rec.GaveUp
	if rec.Dirty {
		r.pushAt = m.nowTicks + 1
	}
	if rec.Attempts > 0 && !rec.GaveUp {
		r.retry.attempts = rec.Attempts - 1
		r.retry.backoff(m.nowTicks, &m.rng)
	}
	m.relations[key] = r
	m.relationChanged()
	return nil
}

// persistRelation writes r's durable part. NB: it goes in its own Write with
// no tree, which the store applies like any other.
func (m *Machine) persistRelation(r *relation) {
	if canaryRetryNotPersisted { // a planted bug: see canary_retry_not_persisted.go
		return
	}
	s := m.nextSeq()
	m.writes[s] = &pendingWrite{}
	m.ready.Persist = append(m.ready.Persist, Write{Seq: s, Relations: []RelationRecord{r.record()}})
}

// relate records that key syncs in the background, after a sync succeeded.
func (m *Machine) relate(key sessionKey) *relation {
	if r := m.relations[key]; r != nil {
		return r
	}
	if len(m.relations) >= m.cfg.RelationsMax {
		return nil
	}
	r := m.newRelation(key)
	m.relations[key] = r
	m.persistRelation(r)
	return r
}

// committedLocally marks every relation of tree dirty: a push is due after
// PushDelayTicks, coalescing the commits that come meanwhile.
func (m *Machine) committedLocally(tree entry.ID) {
	for _, key := range m.relationKeys() {
		r := m.relations[key]
		if key.tree != tree {
			continue
		}
		r.commits++
		if r.pushAt == 0 {
			r.pushAt = m.nowTicks + m.cfg.PushDelayTicks
			m.relationChanged()
		}
		if !r.dirty {
			r.dirty = true
			m.persistRelation(r)
		}
	}
}

func (m *Machine) relationKeys() []sessionKey {
	return slices.SortedFunc(maps.Keys(m.relations), compareSessionKeys)
}

func compareSessionKeys(a, b sessionKey) int {
	return cmp.Or(cmp.Compare(a.peer, b.peer), a.tree.Compare(b.tree))
}

// tickRelations starts the background syncs that are due: a coalesced push,
// a retry, or a repair. One session per relation at a time.
func (m *Machine) tickRelations() {
	due := func(r *relation) bool { return r != nil && m.nowTicks >= r.dueAt() }
	// NB: set again below, after the syncs started here; a return before
	// that leaves work due, for the next tick.
	m.relationChanged()
	for _, key := range dueKeys(m.relations, due, compareSessionKeys) {
		r := m.relations[key]
		if !due(r) {
			continue
		}
		push := r.pushAt != 0 && m.nowTicks >= r.pushAt
		retry := r.retry.fired(m.nowTicks)
		repair := m.nowTicks >= r.repairAt
		if len(m.sessions) >= m.cfg.SessionsMax {
			return // due work stays due: the next tick tries again
		}
		if repair {
			r.repairAt = m.nextRepair(key.tree)
		}
		if retry {
			r.retry.stop() // rearmed by the session's outcome
		}
		m.startBackground(r, push && !retry && !repair)
	}
	m.wakes.relations = m.relationsDue()
}

// relationChanged makes the next tick look at the relations: one may fall
// due sooner than the bound says.
func (m *Machine) relationChanged() { m.wakes.relations.lower(m.nowTicks) }

// startBackground runs a session for r; pushOnly skips the pull when the
// peer's tips are remembered.
func (m *Machine) startBackground(r *relation, pushOnly bool) {
	if ss := m.sessionFor(r.key); ss != nil {
		r.syncing = ss.sid
		return
	}
	r.pushAt = 0
	ss, err := m.startSession(r.key, 0, pushOnly, nil)
	if err != nil {
		r.lastErr = err.Error()
		return
	}
	// NB: a push-only session with nothing to send finishes inside
	// startSession; marking the relation as syncing with its sid then would
	// block every later sync of the relation (tickRelations skips it).
	if m.sessions[ss.sid] == ss {
		r.syncing = ss.sid
	}
}

// sessionDone updates the relation of a finished session: success resets
// the retry and clears dirty; failure backs off, or gives up explicitly
// after RetryAttemptsMax.
func (m *Machine) sessionDone(ss *session, failure string) {
	r := m.relations[ss.key]
	if r == nil && failure == "" {
		r = m.relate(ss.key)
	}
	if r == nil {
		return
	}
	// NB: the outcome below may make r due at once (its session no longer
	// runs) or arm a retry.
	m.relationChanged()
	if r.syncing == ss.sid {
		r.syncing = 0
	}
	if failure == "" {
		// Commits made after the push was computed are not on the peer: the
		// relation stays dirty (durably, for a crash) and the push that
		// committedLocally scheduled for them follows.
		pushed := r.dirty && ss.pushedAll && r.commits == ss.pushGen
		changed := pushed || r.retry.attempts > 0 || r.gaveUp
		r.lastOK, r.lastErr, r.gaveUp = max(m.nowTicks, 1), "", false
		r.dirty = r.dirty && !pushed
		r.retry.stop()
		r.retry.attempts = 0
		if changed {
			m.persistRelation(r)
		}
		return
	}
	r.lastErr = failure
	if r.gaveUp {
		return
	}
	if r.retry.attempts >= m.cfg.RetryAttemptsMax {
		r.gaveUp = true
		r.retry.stop()
		m.notify(Notice{Kind: NoticeGaveUp, Peer: r.key.peer, Tree: r.key.tree,
			Err: fmt.Sprintf("gave up after %d attempts: %s", r.retry.attempts, failure)})
	} else {
		r.retry.backoff(m.nowTicks, &m.rng)
	}
	m.persistRelation(r)
}

// relationStatus describes the relations of keys, in their order.
func (m *Machine) relationStatus(keys []sessionKey) []RelationStatus {
	var out []RelationStatus
	for _, key := range keys {
		r := m.relations[key]
		st := RelationStatus{Tree: key.tree, State: "idle", Dirty: r.dirty, Attempts: r.retry.attempts,
			LastSuccessAt: r.lastOK, LastError: r.lastErr}
		switch {
		case r.syncing != 0:
			st.State = "syncing"
		case r.gaveUp:
			st.State = "gave-up"
		case r.retry.ticking():
			st.State, st.NextRetryIn = "backoff", r.retry.deadline-min(r.retry.deadline, m.nowTicks)
		}
		out = append(out, st)
	}
	return out
}
