package sim

import (
	"maps"
	"slices"
	"strings"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// The network carries encoded bytes, so corruption and truncation hit the
// real decoder (SIMULATION.md 2.1). It keeps the transport's promise to the
// kernel (doc.go obligation 2): every request is answered exactly once, by
// its reply or by SendFailed (timeout, refused connection, reset, an
// undecodable reply). A request may be applied and its reply lost: the
// outcome is then unknown to the sender. Faults are injected where a real
// transport would see them (P7): a duplicated request is served twice but
// the sender sees one answer; a duplicated reply is handed to the machine
// raw, which must refuse it.

// packet is one encoded message in flight.
type packet struct {
	from, to int // node indices; from is -1 for the rogue peer
	data     []byte
	ex       *exchange // nil when nobody waits for the answer (replay, rogue)
	reply    bool
	linkSeq  uint64
	dup      bool    // a duplicate copy
	b2b      *packet // a duplicate delivered right after this one
	tainted  bool    // corrupted or truncated
	dead     bool    // dropped from its queue as an overflow victim
	preHeal  bool    // counted in network.preHeal
	kind     uint64  // a hash of the message's type, in a taped run (tape.go)
	// clogged is set while the packet waits for its link's clog to end;
	// clogGen tells a stale wake-up from the current one (healAll wakes
	// clogged packets at once).
	clogged bool
	clogGen int
}

// exchange is one request from the client's point of view.
type exchange struct {
	client *node
	inc    int
	seq    kernel.Seq
	server *node
	req    kernel.Message // what the client sent, which its reply is checked against
	done   bool           // answered, or failed with SendFailed
	told   bool           // and the machine was given that answer (not deferred)
}

// inbound is a request being served, kept for the diff checker.
type inbound struct {
	ex      *exchange
	server  *node
	msg     kernel.Message
	version uint32
	tips    []entry.ID // the server's acknowledged tips of the tree at receipt
	ack     pushAck    // for checkPushAck
}

type link struct {
	inflight  []*packet
	clogUntil int64
	cut       bool
	sent      uint64
}

type network struct {
	w        *world
	n        int
	links    []link
	reqs     map[kernel.ReqID]*inbound
	nextReq  kernel.ReqID
	history  []*packet // recent requests, for stale replay
	healBp   int
	cutCount int
	fast     bool // liveness: 1 ms, no faults
	// preHeal counts packets sent before the final heal and not yet
	// arrived (a 10 s tail, a clog): the quiet window waits for them.
	preHeal int
}

const historyMax = 32

func newNetwork(w *world) *network {
	return &network{w: w, reqs: map[kernel.ReqID]*inbound{}}
}

func (net *network) init(n int) {
	net.n, net.links = n, make([]link, n*n)
	net.healBp = net.w.r[streamNet].between(100, 1000)
}

func (net *network) link(from, to int) *link { return &net.links[from*net.n+to] }

func (net *network) peerID(i int) kernel.PeerID {
	if i < 0 {
		return rogueID
	}
	return net.w.nodes[i].id
}

// rogueID names the misbehaving peer of the workload.
const rogueID kernel.PeerID = "evil"

// send puts one Send effect of n on the wire.
func (net *network) send(n *node, env kernel.Envelope) {
	w := net.w
	data, err := kernel.EncodeMessage(env.Version, env.Msg)
	if err != nil {
		w.failf(chkWire, n, "machine emitted a message that does not encode: %s: %v", kernel.DescribeMessage(env.Msg, w.tr.namer), err)
		return
	}
	w.messages++
	w.tr.bytes(data)
	if n.log != nil {
		n.log.outBytes(data)
	}
	w.markMessage(n, env)
	if env.Reply != 0 {
		net.reply(n, env, data)
		return
	}
	to := w.byID[env.To]
	w.requests++
	ex := &exchange{client: n, inc: n.inc, seq: env.Seq, server: to, req: env.Msg}
	w.q.push(w.now+int64(w.sw.TimeoutMs), func() { net.timeout(ex, "transport timeout") })
	if to == nil {
		net.failSoon(ex, "no route to "+string(env.To))
		return
	}
	p := &packet{from: n.idx, to: to.idx, data: data, ex: ex, kind: w.msgKind(env.Msg)}
	net.remember(p)
	net.transmit(p)
}

// reply sends an answer back to whoever waits for it, after the diff
// checker has seen it.
func (net *network) reply(n *node, env kernel.Envelope, data []byte) {
	in := net.reqs[env.Reply]
	delete(net.reqs, env.Reply)
	if in == nil {
		net.w.failf(chkWire, n, "reply to request %d, which is not open", env.Reply)
		return
	}
	net.w.checkAnswer(n, in, env)
	if in.ex == nil {
		return
	}
	net.transmit(&packet{from: n.idx, to: in.ex.client.idx, data: data, ex: in.ex, reply: true, kind: net.w.msgKind(env.Msg)})
}

// timeout fails an exchange still open: the client's transport gave up.
func (net *network) timeout(ex *exchange, reason string) {
	if ex.done {
		return
	}
	ex.done = true
	ex.client.deliver(ex.inc, func() {
		net.w.mark(MarkSendFailed)
		ex.told = true
		ex.client.step(kernel.SendFailed{Seq: ex.seq, Reason: reason}, fromTimeout)
	})
}

// failSoon fails an exchange one network delay from now (refused, reset).
func (net *network) failSoon(ex *exchange, reason string) {
	if ex != nil {
		net.w.q.push(net.w.now+int64(net.w.sw.DelayMinMs)+1, func() { net.timeout(ex, reason) })
	}
}

func (net *network) remember(p *packet) {
	if len(net.history) == historyMax {
		net.history = net.history[1:]
	}
	net.history = append(net.history, p)
}

// transmit applies the per-message faults and schedules the arrival.
func (net *network) transmit(p *packet) {
	w := net.w
	if net.fast {
		w.q.push(w.now+1, func() { net.arrive(p) })
		return
	}
	defer w.leave(w.enter(streamNet, siteTransmit, linkName(p), p.kind))
	r := w.r[streamNet]
	from, to := net.peerID(p.from), net.peerID(p.to)
	if w.roll(r, FaultDrop, nil) || p.reply && w.roll(r, FaultLostReply, nil) {
		w.tr.line("fault drop %s->%s", from, to)
		return
	}
	net.damage(r, p)
	if w.roll(r, FaultDuplicate, nil) {
		d := &packet{from: p.from, to: p.to, data: p.data, ex: p.ex, reply: p.reply, dup: true, tainted: p.tainted}
		if r.chance(5000) {
			p.b2b = d // delivered right behind the original: the idempotence check
		} else {
			net.enqueue(r, d)
		}
	}
	net.enqueue(r, p)
}

// damage corrupts or truncates the encoded bytes.
func (net *network) damage(r rng, p *packet) {
	w := net.w
	cut := r.pick(max(1, len(p.data)))
	if w.roll(r, FaultCorrupt, nil) {
		p.data, p.tainted = flipBit(r, p.data), true
		w.tr.line("fault corrupt %s->%s", net.peerID(p.from), net.peerID(p.to))
	}
	if w.roll(r, FaultTruncate, nil) {
		p.data, p.tainted = p.data[:cut], true
		w.tr.line("fault truncate %s->%s at %d bytes", net.peerID(p.from), net.peerID(p.to), cut)
	}
}

// delay is min + exponential(mean), a rare 10 s tail, or nothing when the
// message jumps the queue.
func (net *network) delay(r rng) int64 {
	w := net.w
	d := w.sw.DelayMinMs + r.exp(w.sw.DelayMeanMs)
	if d > 0 && !w.inject(FaultDelay, nil) {
		d = 0
	}
	if w.roll(r, FaultTail, nil) {
		d += 10_000
	}
	if w.roll(r, FaultReorder, nil) {
		d = 0
	}
	return int64(d)
}

// enqueue puts p on its link's bounded queue (a random victim goes when
// it is full) and schedules its arrival.
func (net *network) enqueue(r rng, p *packet) {
	w := net.w
	at := w.now + net.delay(r)
	if p.from < 0 {
		net.hold(p)
		w.q.push(at, func() { net.arrive(p) })
		return
	}
	l := net.link(p.from, p.to)
	victim := r.pick(len(l.inflight) + 1)
	if w.on(FaultOverflow) && len(l.inflight) >= w.sw.Rate[FaultOverflow] && w.inject(FaultOverflow, nil) {
		w.tr.line("fault overflow %s->%s drops a queued message", net.peerID(p.from), net.peerID(p.to))
		if victim == len(l.inflight) {
			return
		}
		net.landed(l.inflight[victim])
		l.inflight[victim].dead = true
		l.inflight = slices.Delete(l.inflight, victim, victim+1)
	}
	p.linkSeq = l.sent
	l.sent++
	l.inflight = append(l.inflight, p)
	net.hold(p)
	w.q.push(at, func() { net.arrive(p) })
}

// hold counts p among the packets in flight in the faulty phase.
func (net *network) hold(p *packet) {
	if net.w.phase == phaseSafety && !p.preHeal {
		p.preHeal = true
		net.preHeal++
	}
}

// landed counts p out of the packets in flight since before the heal.
func (net *network) landed(p *packet) {
	if p.preHeal {
		p.preHeal = false
		net.preHeal--
	}
}

// arrive delivers p unless its link is cut, held by a clog, or its
// destination is down (the sender then fails fast: connection refused).
func (net *network) arrive(p *packet) {
	w := net.w
	if p.dead {
		return
	}
	p.clogged = false
	net.landed(p)
	if p.from >= 0 {
		l := net.link(p.from, p.to)
		if i := slices.Index(l.inflight, p); i >= 0 {
			l.inflight = slices.Delete(l.inflight, i, i+1)
		}
		if l.cut {
			w.tr.line("partition drops %s->%s", net.peerID(p.from), net.peerID(p.to))
			return
		}
		if w.now < l.clogUntil {
			net.hold(p)
			l.inflight = append(l.inflight, p)
			net.wakeAt(p, l.clogUntil)
			return
		}
	}
	dst := w.nodes[p.to]
	switch dst.state {
	case stDown, stDormant:
		if !p.reply {
			net.failSoon(p.ex, "connection refused")
		}
	case stPaused:
		dst.deferred = append(dst.deferred, func() { net.receive(p) })
	default:
		net.receive(p)
	}
}

func (net *network) receive(p *packet) {
	if p.reply {
		net.receiveReply(p)
		if p.b2b != nil {
			net.receiveReply(p.b2b)
		}
		return
	}
	dst := net.w.nodes[p.to]
	net.receiveRequest(dst, p)
	if d := p.b2b; d != nil && dst.state == stUp {
		before := dst.snapshot()
		s := net.receiveRequest(dst, d)
		net.w.checkDup(dst, before, s)
	}
}

// receiveRequest decodes a request and steps it; an undecodable or
// refused request fails at its client as an HTTP error would.
func (net *network) receiveRequest(dst *node, p *packet) *stepInfo {
	w := net.w
	msg, version, err := dst.decodeRequest(p.data)
	if err != nil {
		net.undecodable(dst, p, err)
		net.failSoon(p.ex, "bad request")
		return nil
	}
	if p.tainted {
		w.mark(MarkCorruptDecoded)
	}
	net.nextReq++
	req := net.nextReq
	in := &inbound{ex: p.ex, server: dst, msg: msg, version: version, tips: dst.tipsFor(msg)}
	net.reqs[req] = in
	o := fromPeer
	if p.tainted || p.from < 0 {
		o = fromTainted
	}
	s := dst.step(kernel.Received{From: net.peerID(p.from), Req: req, Version: version, Msg: msg}, o)
	w.afterReceipt(in, s)
	if s.errs[0] != nil {
		delete(net.reqs, req)
		net.failSoon(p.ex, "request refused")
	}
	return s
}

// receiveReply hands a reply to the client still waiting for it; a reply
// for a finished exchange is dropped, unless it is a duplicate, which the
// machine must refuse.
func (net *network) receiveReply(p *packet) {
	w := net.w
	ex, dst := p.ex, net.w.nodes[p.to]
	if ex.inc != dst.inc {
		return
	}
	if ex.done && (!p.dup || !ex.told) {
		return
	}
	msg, err := dst.decodeResponse(ex.req, p.data)
	if err != nil {
		net.undecodable(dst, p, err)
		if !ex.done {
			ex.done, ex.told = true, true
			dst.step(kernel.SendFailed{Seq: ex.seq, Reason: "undecodable reply"}, fromTimeout)
		}
		return
	}
	ev := kernel.Received{From: ex.server.id, InReplyTo: ex.seq, Msg: msg}
	switch {
	case ex.done:
		dst.step(ev, fromDupReply)
	case p.tainted:
		ex.done, ex.told = true, true
		w.mark(MarkCorruptDecoded)
		dst.step(ev, fromTainted)
	default:
		ex.done, ex.told = true, true
		dst.step(ev, fromPeer)
	}
}

// undecodable checks that only damaged bytes fail to decode.
func (net *network) undecodable(dst *node, p *packet, err error) {
	w := net.w
	w.tr.line("%s cannot decode from %s: %v", dst.id, net.peerID(p.from), err)
	if !p.tainted && p.from >= 0 {
		w.failf(chkWire, dst, "an intact message from %s does not decode: %v", net.peerID(p.from), err)
		return
	}
	w.mark(MarkDecodeRejected)
}

// serverDown fails, at their clients, the requests a crashed node was
// serving: the connection was reset.
func (net *network) serverDown(n *node) {
	for _, req := range slices.Sorted(maps.Keys(net.reqs)) {
		if in := net.reqs[req]; in.server == n {
			delete(net.reqs, req)
			net.failSoon(in.ex, "connection reset")
		}
	}
}

// tickFaults draws one world tick of partitions, clogs and stale replays.
func (net *network) tickFaults() {
	w := net.w
	defer w.leave(w.enter(streamNet, siteNetTick, 0, 0))
	r := w.r[streamNet]
	if net.cutCount > 0 {
		if r.chance(net.healBp) {
			net.heal()
		}
	} else {
		for _, kind := range []Fault{FaultPartition, FaultPartitionAsym, FaultIsolate} {
			if w.roll(r, kind, nil) {
				net.partition(r, kind)
				break
			}
		}
	}
	for i := range net.links {
		if w.roll(r, FaultClog, nil) {
			net.links[i].clogUntil = w.now + int64(r.exp(w.sw.ClogMs))
		}
	}
	if len(net.history) > 0 {
		old := net.history[r.pick(len(net.history))]
		if w.roll(r, FaultReplay, nil) {
			w.tr.line("fault replay %s->%s", net.peerID(old.from), net.peerID(old.to))
			net.enqueue(r, &packet{from: old.from, to: old.to, data: old.data, tainted: old.tainted})
		}
	}
}

// partition splits the nodes: symmetric (neither side hears the other),
// asymmetric (side A sends but hears nothing) or one node isolated.
func (net *network) partition(r rng, kind Fault) {
	side := make([]bool, net.n)
	in := r.pick(net.n)
	out := (in + 1 + r.pick(net.n-1)) % net.n
	for i := range side {
		side[i] = r.chance(5000) && kind != FaultIsolate
	}
	side[in], side[out] = true, false
	var names []string
	for i := range side {
		if side[i] {
			names = append(names, string(net.peerID(i)))
		}
	}
	net.w.tr.line("fault %s: {%s} vs the rest", kind, strings.Join(names, " "))
	for a := range net.n {
		for b := range net.n {
			if side[a] == side[b] {
				continue
			}
			if kind != FaultPartitionAsym || side[b] {
				net.link(a, b).cut = true // b hears nothing from a
				net.cutCount++
			}
		}
	}
}

func (net *network) heal() {
	net.w.tr.line("partition heals")
	for i := range net.links {
		net.links[i].cut = false
	}
	net.cutCount = 0
}

// healAll ends every network fault: the final heal. Packets held by a
// clog are woken now, not when the clog would have ended (a long clog
// outlasted the whole liveness phase: sim seed 7449).
func (net *network) healAll() {
	net.heal()
	for i := range net.links {
		l := &net.links[i]
		l.clogUntil = 0
		for _, p := range l.inflight {
			if p.clogged {
				net.wakeAt(p, net.w.now+1)
			}
		}
	}
	net.fast = true
}

// wakeAt has a clogged packet arrive at at; an earlier wake-up of it is
// void.
func (net *network) wakeAt(p *packet, at int64) {
	p.clogged = true
	p.clogGen++
	gen := p.clogGen
	net.w.q.push(at, func() {
		if p.clogged && p.clogGen == gen {
			net.arrive(p)
		}
	})
}

// decodeRequest and decodeResponse decode as the Go API's node does: entry
// signatures deferred, then checked for the whole message with the node's
// key cache, as are request auth and a handshake's proof, so that the
// machine gets them marked (kernel/precheck.go).
func (n *node) decodeRequest(data []byte) (kernel.Message, uint32, error) {
	lim := n.cfg.Wire
	lim.DeferSignatures = true
	msg, version, err := kernel.DecodeRequest(data, lim)
	if err == nil {
		kernel.VerifySignaturesWith(msg, inOrder, n.w.sigs.Verify)
		kernel.CheckRequestAuth(msg, n.key.pub, n.w.sigs.Verify)
	}
	return msg, version, err
}

func (n *node) decodeResponse(req kernel.Message, data []byte) (kernel.Message, error) {
	lim := n.cfg.Wire
	lim.DeferSignatures = true
	msg, err := kernel.DecodeResponse(data, lim)
	if err == nil {
		kernel.VerifySignaturesWith(msg, inOrder, n.w.sigs.Verify)
		msg = kernel.CheckReply(req, msg, n.w.sigs.Verify)
	}
	return msg, err
}

// inOrder is VerifySignatures' parallel on one goroutine: the simulator
// runs everything on one, in a fixed order.
func inOrder(n int, fn func(i int)) {
	for i := range n {
		fn(i)
	}
}
