package kernel

import (
	"fmt"
	"strconv"
)

// Nonce memory (PROTOCOL.md 2.3, closing the replay gap of 11.4): an accepted
// request auth's (key, nonce) is remembered until its timestamp can no
// longer pass the freshness window, so a replay within the window is
// refused. The memory is bounded (NoncesMax) and survives restarts in a
// compact form: a durable floor, a timestamp at or above every timestamp
// ever accepted. A machine restarted from State refuses every auth stamped
// at or below the restored floor, since its nonces are forgotten; the
// client signs a new request and goes through.
//
// The floor is raised ahead of need, by AuthLeaseMs: a request stamped
// above it waits (parked) until the Write raising it is durable, then is
// served. So one Write covers a lease of traffic, and after a restart at
// most a lease (plus the clock difference) of fresh requests is refused.

type nonceMemory struct {
	seen  map[string]bool
	queue []spentNonce // in acceptance order, so expiry order
	// floor is durable; restored is the floor State gave at start.
	floor, restored int64
	raising         int64 // the floor being written, 0 when none
	raiseSeq        Seq
	parked          []Received // requests waiting for the raise
}

type spentNonce struct {
	key      string
	expireMs int64
}

// spendNonce remembers auth's nonce. It refuses a replay, a request the
// memory cannot tell from a replay after a restart, and a full memory; it
// asks to park a request stamped above the durable floor.
func (m *Machine) spendNonce(auth *RequestAuth) (refusal string, park bool) {
	nm := &m.nonces
	ts := int64(auth.TimestampMs)
	k := string(auth.Key[:]) + string(auth.Nonce)
	switch {
	case ts <= nm.restored:
		return textAuthFailed + "the request is stamped before this node restarted; sign a new one", false
	case nm.seen[k]:
		return textAuthFailed + "this request auth was already used (replay)", false
	case ts > nm.floor:
		m.raiseNonceFloor(ts)
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

// raiseNonceFloor writes a floor covering ts and a lease beyond, unless a
// write already in flight covers ts (a later one follows if not).
func (m *Machine) raiseNonceFloor(ts int64) {
	nm := &m.nonces
	if nm.raising != 0 {
		return
	}
	nm.raising = max(ts, m.nowMs) + int64(m.cfg.AuthLeaseMs)
	nm.raiseSeq = m.nextSeq()
	m.writes[nm.raiseSeq] = &pendingWrite{}
	m.ready.Persist = append(m.ready.Persist, Write{Seq: nm.raiseSeq, NonceFloorMs: nm.raising})
}

// nonceFloorPersisted completes a raise and serves the parked requests
// again: each passes its gates anew (those still above the floor park for
// the next raise).
func (m *Machine) nonceFloorPersisted(failure string) {
	nm := &m.nonces
	if failure == "" {
		nm.floor = max(nm.floor, nm.raising)
	}
	nm.raising = 0
	parked := nm.parked
	nm.parked = nil
	for _, ev := range parked {
		if failure != "" {
			m.reply(ev.From, ev.Req, ev.Version, ErrorResponse{Message: "Storage failure: " + failure})
			continue
		}
		m.dispatch(ev)
	}
}

// park holds ev until the nonce floor covers it.
func (m *Machine) park(ev Received) {
	if m.nonces.raising == 0 {
		panic(fmt.Sprintf("kernel: assertion failed: request %d parked with no floor raise in flight", ev.Req))
	}
	m.nonces.parked = append(m.nonces.parked, ev)
}
