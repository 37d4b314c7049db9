package eidsync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/eidsync/eidsync/internal/sigverify"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"github.com/eidsync/eidsync/transport"
)

// driver owns the Machine. Only the loop goroutine touches m, inbound,
// waiters and transports; everything else reaches them through calls.
type driver struct {
	m     *kernel.Machine
	st    durable
	log   *slog.Logger
	tick  time.Duration
	calls chan func(*driver)
	// events carries completions of sends made on other goroutines.
	events chan kernel.Event
	done   chan struct{} // closed when the loop has stopped
	stop   chan struct{} // closed to ask the loop to stop

	transports  map[string]transport.Transport
	order       []string // registration order: the default transport is the first
	inbound     map[kernel.ReqID]chan kernel.Envelope
	waiters     map[kernel.Ref]chan kernel.Notice
	nextRef     kernel.Ref
	nextReq     kernel.ReqID
	syncEnabled bool

	// self and verifier check request auth and handshake proofs on the
	// transports' goroutines, before the loop steps them
	// (kernel/precheck.go): the loop is the node's one serial path.
	self     entry.PublicKey
	verifier sigverify.Verifier

	sends    sync.WaitGroup
	sendSlot chan struct{} // bounds sends in flight
	sendCtx  context.Context
	cancel   context.CancelFunc
}

func newDriver(m *kernel.Machine, self entry.PublicKey, st durable, log *slog.Logger, tick time.Duration) *driver {
	ctx, cancel := context.WithCancel(context.Background())
	return &driver{m: m, self: self, st: st, log: log, tick: tick,
		calls: make(chan func(*driver)), events: make(chan kernel.Event, 256),
		done: make(chan struct{}), stop: make(chan struct{}),
		transports: map[string]transport.Transport{}, inbound: map[kernel.ReqID]chan kernel.Envelope{},
		waiters: map[kernel.Ref]chan kernel.Notice{}, sendSlot: make(chan struct{}, 64),
		sendCtx: ctx, cancel: cancel}
}

// run is the loop: one event or call at a time, then every effect it caused.
func (d *driver) run() {
	defer close(d.done)
	ticker := time.NewTicker(d.tick)
	defer ticker.Stop()
	// NB: the machine learns the time only from ticks, and signs requests
	// with it: tick once now, so the first sync need not wait for one.
	d.step(kernel.Tick{NowMs: time.Now().UnixMilli()})
	d.flush()
	for {
		select {
		case <-d.stop:
			return
		case ev := <-d.events:
			d.step(ev)
		case call := <-d.calls:
			call(d)
		case now := <-ticker.C:
			d.step(kernel.Tick{NowMs: now.UnixMilli()})
		}
		d.flush()
	}
}

// call runs fn on the loop and waits for it.
func (d *driver) call(ctx context.Context, fn func(*driver)) error {
	finished := make(chan struct{})
	wrapped := func(d *driver) { fn(d); close(finished) }
	select {
	case d.calls <- wrapped:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
		return ErrClosed
	}
	select {
	case <-finished:
		return nil
	case <-d.done:
		return ErrClosed
	}
}

func (d *driver) step(ev kernel.Event) error {
	err := d.m.Step(ev)
	if err != nil {
		d.log.Debug("kernel refused an event", "event", fmt.Sprintf("%T", ev), "err", err)
	}
	return err
}

// flush runs the effects of every Ready batch until the machine is idle.
// Writes of one batch go to the store in one transaction; completions are
// stepped at once, so the loop never waits on itself. Requests leave before
// the batch's writes start (the lanes have no order between them), so that
// a streamed bootstrap's next batch travels, decodes and has its signatures
// checked on the transport's goroutines while this one is committed.
func (d *driver) flush() {
	for d.m.HasReady() {
		rd := d.m.Ready()
		for _, env := range rd.Send {
			if env.Reply == 0 {
				d.send(env)
			}
		}
		if len(rd.Persist) > 0 {
			err := d.st.Apply(rd.Persist)
			for _, w := range rd.Persist {
				if err != nil {
					d.step(kernel.PersistFailed{Seq: w.Seq, Reason: err.Error()})
				} else {
					d.step(kernel.Persisted{Seq: w.Seq})
				}
			}
			if err != nil {
				d.log.Error("store write failed", "err", err)
			}
		}
		for _, r := range rd.Load {
			if blobs, err := d.st.Read(r); err != nil {
				d.step(kernel.LoadFailed{Seq: r.Seq, Reason: err.Error()})
			} else {
				d.step(kernel.Loaded{Seq: r.Seq, Blobs: blobs})
			}
		}
		for _, env := range rd.Send {
			if env.Reply != 0 {
				d.send(env)
			}
		}
		for _, n := range rd.Notify {
			d.notify(n)
		}
	}
}

// send answers an inbound request, or sends a request on its own goroutine.
func (d *driver) send(env kernel.Envelope) {
	if env.Reply != 0 {
		if ch, ok := d.inbound[env.Reply]; ok {
			delete(d.inbound, env.Reply)
			ch <- env // buffered: never blocks the loop
		}
		return
	}
	tr, addr, err := d.route(string(env.To))
	if err != nil {
		d.step(kernel.SendFailed{Seq: env.Seq, Reason: err.Error()})
		return
	}
	d.sends.Add(1)
	go func() {
		defer d.sends.Done()
		select {
		case d.sendSlot <- struct{}{}:
		case <-d.sendCtx.Done():
			return
		}
		reply, err := tr.Send(d.sendCtx, addr, env.Version, env.Msg)
		<-d.sendSlot
		var ev kernel.Event
		if err != nil {
			ev = kernel.SendFailed{Seq: env.Seq, Reason: err.Error()}
		} else {
			ev = kernel.Received{From: env.To, InReplyTo: env.Seq, Msg: kernel.CheckReply(env.Msg, reply, d.verifier.Verify)}
		}
		select {
		case d.events <- ev:
		case <-d.stop:
		}
	}()
}

// route picks the transport for a peer address: "name://host:port" names
// it, a bare "host:port" uses the first registered transport.
func (d *driver) route(peer string) (transport.Transport, string, error) {
	name, addr, ok := strings.Cut(peer, "://")
	if !ok {
		if len(d.order) == 0 {
			return nil, "", ErrNoTransport
		}
		name, addr = d.order[0], peer
	}
	tr := d.transports[name]
	if tr == nil {
		return nil, "", fmt.Errorf("%w: %q", ErrNoTransport, name)
	}
	return tr, addr, nil
}

// notify logs a notice and hands it to the caller waiting for its Ref.
func (d *driver) notify(n kernel.Notice) {
	switch n.Kind {
	case kernel.NoticeEntryRejected, kernel.NoticeOrphanDropped, kernel.NoticeSyncFailed, kernel.NoticeCommitFailed:
		d.log.Warn("eidsync", "notice", n.Kind.String(), "peer", n.Peer, "tree", n.Tree.String(), "id", n.ID.String(), "err", n.Err)
	default:
		d.log.Debug("eidsync", "notice", n.Kind.String(), "peer", n.Peer, "tree", n.Tree.String())
	}
	if ch, ok := d.waiters[n.Ref]; ok && n.Ref != 0 {
		delete(d.waiters, n.Ref)
		ch <- n // buffered
	}
}

// handle is the transport.Handler: it steps an inbound request and waits
// for the machine's one reply.
func (d *driver) handle(ctx context.Context, remote string, version uint32, msg kernel.Message) (kernel.Message, uint32, error) {
	kernel.CheckRequestAuth(msg, d.self, d.verifier.Verify)
	ch := make(chan kernel.Envelope, 1)
	err := d.call(ctx, func(d *driver) {
		if !d.syncEnabled {
			ch <- kernel.Envelope{Version: version, Msg: kernel.ErrorResponse{Message: "Sync is not enabled on this node"}}
			return
		}
		d.nextReq++
		req := d.nextReq
		d.inbound[req] = ch
		if err := d.step(kernel.Received{From: kernel.PeerID(remote), Req: req, Version: version, Msg: msg}); err != nil {
			delete(d.inbound, req)
			ch <- kernel.Envelope{Version: version, Msg: kernel.ErrorResponse{Message: "Refused: " + err.Error()}}
		}
	})
	if err != nil {
		return nil, 0, err
	}
	select {
	case env := <-ch:
		return env.Msg, env.Version, nil
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case <-d.done:
		return nil, 0, ErrClosed
	}
}

// await registers a waiter for ref, runs ev, and waits for its notice.
// mk runs on the loop, so it may read the machine and the store.
func (d *driver) await(ctx context.Context, mk func(d *driver, ref kernel.Ref) (kernel.Event, error)) (kernel.Notice, error) {
	ch := make(chan kernel.Notice, 1)
	var stepErr error
	err := d.call(ctx, func(d *driver) {
		d.nextRef++
		ref := d.nextRef
		ev, err := mk(d, ref)
		if err != nil {
			stepErr = err
			return
		}
		d.waiters[ref] = ch
		if stepErr = d.step(ev); stepErr != nil {
			delete(d.waiters, ref)
		}
	})
	if err != nil {
		return kernel.Notice{}, err
	}
	if stepErr != nil {
		return kernel.Notice{}, stepErr
	}
	select {
	case n := <-ch:
		return n, nil
	case <-ctx.Done():
		return kernel.Notice{}, ctx.Err()
	case <-d.done:
		return kernel.Notice{}, ErrClosed
	}
}

// shutdown stops the loop, then waits for sends in flight to notice.
func (d *driver) shutdown() {
	d.cancel()
	close(d.stop)
	<-d.done
	d.sends.Wait()
}
