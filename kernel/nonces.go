package kernel

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Nonce memory (PROTOCOL.md 2.3, closing the replay gap of 11.4): an accepted
// request auth's (key, nonce) is remembered until its timestamp can no
// longer pass the freshness window, so a replay within the window is
// refused. The memory is bounded (NoncesMax) and survives restarts in a
// compact form: durable floors, per key, at or above every timestamp ever
// accepted from that key. A machine restarted from State refuses an auth
// stamped at or below its key's restored floor, since the nonces are
// forgotten; the client signs a new request and goes through.
//
// A floor is raised ahead of need, by AuthLeaseMs: a request stamped above
// its key's floor waits (parked) until the Write raising it is durable, then
// is served. So one Write covers a lease of a key's traffic, and after a
// restart a key is refused for at most a lease of its own clock. Floors are
// per key so that one peer whose clock runs ahead cannot lock the others out
// after a restart. They are bounded (KeyFloorsMax): the key with the lowest
// floor is evicted into a global floor that every key not listed obeys.

// textStampAfter precedes the floor a refused request must be stamped after.
const textStampAfter = "the request is stamped before this node restarted; sign it with a timestamp after "

// NonceFloor is a durable floor of the nonce memory: for Key, or for every
// key not listed when Key is zero. A Write carrying one with Ms zero
// deletes the key's floor.
type NonceFloor struct {
	Key entry.PublicKey
	Ms  int64
}

type nonceMemory struct {
	seen  map[string]bool
	queue []spentNonce // in acceptance order, so expiry order
	// floors and global are durable; restored and restoredGlobal are what
	// State gave at start.
	floors         map[entry.PublicKey]int64
	global         int64
	restored       map[entry.PublicKey]int64
	restoredGlobal int64
	raising        map[entry.PublicKey]bool // a raise of that key's floor is in flight
	parked         []Received               // requests waiting for a raise
}

type spentNonce struct {
	key      string
	expireMs int64
}

func newNonceMemory(restored []NonceFloor) nonceMemory {
	nm := nonceMemory{seen: map[string]bool{}, floors: map[entry.PublicKey]int64{},
		restored: map[entry.PublicKey]int64{}, raising: map[entry.PublicKey]bool{}}
	for _, f := range restored {
		if f.Key.IsZero() {
			nm.global, nm.restoredGlobal = f.Ms, f.Ms
			continue
		}
		nm.floors[f.Key], nm.restored[f.Key] = f.Ms, f.Ms
	}
	return nm
}

// floorOf is the durable floor key's auths obey.
func (nm *nonceMemory) floorOf(key entry.PublicKey) int64 {
	if f, ok := nm.floors[key]; ok {
		return f
	}
	return nm.global
}

// spendNonce remembers auth's nonce. It refuses a replay, a request the
// memory cannot tell from a replay after a restart, and a full memory; it
// asks to park a request stamped above its key's durable floor.
func (m *Machine) spendNonce(auth *RequestAuth) (refusal string, park bool) {
	nm := &m.nonces
	ts := int64(auth.TimestampMs)
	k := string(auth.Key[:]) + string(auth.Nonce)
	restored, ok := nm.restored[auth.Key]
	if !ok {
		restored = nm.restoredGlobal
	}
	switch {
	case ts <= restored:
		// NB: the floor is told, so that a client whose clock stepped back
		// can stamp past it at once (session.go) instead of waiting for
		// its clock to catch up; it says nothing about other keys.
		return fmt.Sprintf("%s%s%d", textAuthFailed, textStampAfter, restored), false
	case nm.seen[k]:
		return textAuthFailed + "this request auth was already used (replay)", false
	case ts > nm.floorOf(auth.Key):
		m.raiseNonceFloor(auth.Key, ts)
		return "", true
	}
	m.expireNonces()
	if len(nm.seen) >= m.cfg.NoncesMax {
		return "Busy: too many signed requests in the last " + strconv.FormatUint(m.cfg.AuthWindowMs/1000, 10) + " s, retry later", false
	}
	nm.seen[k] = true
	// NB: an auth accepted at now has ts <= now + window, so it fails the
	// freshness check once now > ts + window: 2 windows after now is safe.
	nm.queue = append(nm.queue, spentNonce{key: k, expireMs: m.nowMs + 2*int64(m.cfg.AuthWindowMs)})
	return "", false
}

// expireNonces forgets nonces that can no longer pass the freshness check.
// The queue is in acceptance order; a clock that jumps back only delays
// expiry, never hastens it.
func (m *Machine) expireNonces() {
	nm := &m.nonces
	n := 0
	for n < len(nm.queue) && nm.queue[n].expireMs < m.nowMs {
		delete(nm.seen, nm.queue[n].key)
		n++
	}
	nm.queue = nm.queue[n:]
}

// raiseNonceFloor writes key's floor to cover ts and a lease beyond,
// unless a raise for key is in flight (the parked request is re-checked
// when it completes, and raises again if still above). A new key past
// KeyFloorsMax evicts the key with the lowest floor into the global floor,
// in the same Write.
func (m *Machine) raiseNonceFloor(key entry.PublicKey, ts int64) {
	nm := &m.nonces
	if nm.raising[key] {
		return
	}
	nm.raising[key] = true
	to := max(ts, m.nowMs) + int64(m.cfg.AuthLeaseMs)
	records := []NonceFloor{{Key: key, Ms: to}}
	_, listed := nm.floors[key]
	var evicted entry.PublicKey
	var global int64
	if !listed && len(nm.floors) >= m.cfg.KeyFloorsMax {
		// NB: a key whose own raise is in flight is not evicted: its floor
		// is about to grow past the value the global floor would take, and
		// a replay of what the raise admits would pass after a restart.
		// With every key raising (at most one per parked request), the
		// floors go over KeyFloorsMax until the next raise.
		if low, ok := lowestFloor(nm.floors, nm.raising); ok {
			evicted = low
			global = max(nm.global, nm.floors[evicted])
			records = append(records, NonceFloor{Key: evicted}, NonceFloor{Ms: global})
		}
	}
	s := m.nextSeq()
	m.writes[s] = &pendingWrite{after: func(failure string) {
		delete(nm.raising, key)
		if failure == "" {
			if !evicted.IsZero() {
				delete(nm.floors, evicted)
				nm.global = max(nm.global, global)
			}
			nm.floors[key] = max(nm.floors[key], to)
		}
		m.unpark(failure)
	}}
	m.ready.Persist = append(m.ready.Persist, Write{Seq: s, NonceFloors: records})
}

// lowestFloor is the key with the lowest floor (ties by key bytes) among
// those with no raise in flight.
func lowestFloor(floors map[entry.PublicKey]int64, raising map[entry.PublicKey]bool) (entry.PublicKey, bool) {
	keys := slices.SortedFunc(maps.Keys(floors), func(a, b entry.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	var low entry.PublicKey
	found := false
	for _, k := range keys {
		if !raising[k] && (!found || floors[k] < floors[low]) {
			low, found = k, true
		}
	}
	return low, found
}

// unpark serves the parked requests again after a raise: each passes its
// gates anew (one still above its key's floor parks for the next raise).
// On a failed raise they are answered with the storage failure.
func (m *Machine) unpark(failure string) {
	parked := m.nonces.parked
	m.nonces.parked = nil
	for _, ev := range parked {
		if failure != "" {
			m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: "Storage failure: " + failure})
			continue
		}
		m.dispatch(ev)
	}
}

// park holds ev until its key's floor covers it.
func (m *Machine) park(ev Received) {
	if len(m.nonces.raising) == 0 {
		panic(fmt.Sprintf("kernel: assertion failed: request %d parked with no floor raise in flight", ev.Req))
	}
	m.nonces.parked = append(m.nonces.parked, ev)
}

// ApplyNonceFloors applies a Write's floor records to a store's list: a
// record replaces the floor of its key, Ms zero deletes it. For in-memory
// stores.
func ApplyNonceFloors(list []NonceFloor, writes []NonceFloor) []NonceFloor {
	return upsert(list, writes, func(f NonceFloor) entry.PublicKey { return f.Key }, func(f NonceFloor) bool { return f.Ms == 0 })
}
