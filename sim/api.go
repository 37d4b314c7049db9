package sim

import (
	"crypto/sha256"
	"fmt"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// This file is Env's programmatic face, for property tests, fuzzing and
// benchmarks: the same machinery as the scenarios, without text output.

// NodeNotice is a Notice and the machine that gave it.
type NodeNotice struct {
	Node kernel.PeerID
	kernel.Notice
}

// WireStats counts encoded bytes and messages by direction.
type WireStats struct {
	Requests, Replies           int
	RequestBytes, ReplyBytes    int
	SyncTrees, EntriesSent      int // SyncTree requests; entries in replies and pushes
	Handshakes, HandshakeBytes  int // counted apart from the rest
	LastReplyBytes, LastReqSize int
}

func (w *WireStats) count(env kernel.Envelope, size int) {
	switch env.Msg.(type) {
	case kernel.Handshake, kernel.HandshakeResponse:
		w.Handshakes++
		w.HandshakeBytes += size
		return
	}
	if env.Reply != 0 {
		w.Replies++
		w.ReplyBytes += size
		w.LastReplyBytes = size
	} else {
		w.Requests++
		w.RequestBytes += size
		w.LastReqSize = size
	}
	switch m := env.Msg.(type) {
	case kernel.SyncTree:
		w.SyncTrees++
	case kernel.IncrementalResponse:
		w.EntriesSent += len(m.MissingEntries)
	case kernel.BootstrapResponse:
		w.EntriesSent += 1 + len(m.AllEntries)
	case kernel.SendEntries:
		w.EntriesSent += len(m.Entries)
	case kernel.EntriesResponse:
		w.EntriesSent += len(m.Entries)
	}
}

// NewQuietEnv returns an Env that prints nothing.
func NewQuietEnv() *Env {
	e := NewEnv()
	e.out = nil
	return e
}

// TraceOn starts hashing every Ready batch and every encoded message.
func (e *Env) TraceOn() { e.trace = sha256.New() }

// TraceHash returns the SHA-256 of the trace so far.
func (e *Env) TraceHash() [32]byte {
	var h [32]byte
	copy(h[:], e.trace.Sum(nil))
	return h
}

// AddMachine creates a machine seeded by its name; tune may change its
// config (nil keeps the defaults).
func (e *Env) AddMachine(name string, tune func(*kernel.Config)) (*Node, error) {
	seed, keySeed := seedFor(name)
	cfg := kernel.DefaultConfig()
	cfg.Seed, cfg.DeviceKey = seed, entry.NewPrivateKey(keySeed)
	if tune != nil {
		tune(&cfg)
	}
	m, err := kernel.New(cfg, kernel.State{})
	if err != nil {
		return nil, err
	}
	n := &Node{ID: kernel.PeerID(name), M: m, Key: cfg.DeviceKey, Store: NewMemStore(), Config: cfg}
	e.nodes[n.ID] = n
	return n, nil
}

// Node returns the named machine, or nil.
func (e *Env) Node(name string) *Node { return e.nodes[kernel.PeerID(name)] }

// Entry builds (or returns) the named entry, as a commit script line does:
// "t1" is a root, "e2: e1 e0" a child.
func (e *Env) Entry(signer *Node, line string) (kernel.Blob, error) {
	return e.makeEntry(signer.Key, line)
}

// Commit hands blobs to a machine as local commits and runs its effects.
func (e *Env) Commit(n *Node, blobs ...kernel.Blob) {
	for _, b := range blobs {
		e.ref++
		e.step(n, kernel.Committed{Ref: e.ref, Blob: b})
	}
	e.settle(n)
}

// Sync asks a to sync tree with b and returns the call's Ref.
func (e *Env) Sync(a *Node, b *Node, tree entry.ID) kernel.Ref {
	e.ref++
	e.step(a, kernel.SyncAsked{Ref: e.ref, Peer: b.ID, Tree: tree})
	return e.ref
}

// Stabilize runs everything until nothing moves.
func (e *Env) Stabilize(roundsMax int) error { return e.stabilize(roundsMax) }

// Notices returns the notices seen so far with the given Ref.
func (e *Env) Notices(ref kernel.Ref) []NodeNotice {
	var out []NodeNotice
	for _, n := range e.notices {
		if n.Ref == ref {
			out = append(out, n)
		}
	}
	return out
}

// SyncResult returns the single SyncDone or SyncFailed notice of ref.
func (e *Env) SyncResult(ref kernel.Ref) (kernel.Notice, error) {
	for _, n := range e.notices {
		if n.Ref == ref && (n.Kind == kernel.NoticeSyncDone || n.Kind == kernel.NoticeSyncFailed) {
			return n.Notice, nil
		}
	}
	return kernel.Notice{}, fmt.Errorf("no sync result for ref %d", ref)
}

// Restart rebuilds n from its store alone.
func (e *Env) Restart(n *Node) error {
	m, err := kernel.New(n.Config, n.Store.State())
	if err != nil {
		return err
	}
	n.M, n.writes, n.reads = m, nil, nil
	return nil
}

// Preload puts blobs (parents first) straight into n's store and restarts n
// from it: a fast way to give a machine a long history.
func (e *Env) Preload(n *Node, tree entry.ID, blobs []kernel.Blob) error {
	n.Store.Apply(kernel.Write{Tree: tree, Blobs: blobs})
	return e.Restart(n)
}

// Chain makes n unsigned entries t, c1: t, c2: c1, ... named prefix+i, each
// with payloadBytes of data, and returns them root first. It skips the
// per-entry signature so that long histories build quickly.
func (e *Env) Chain(root string, prefix string, n, payloadBytes int) ([]kernel.Blob, error) {
	rootBlob, err := e.makeEntry(entry.PrivateKey{}, root)
	if err != nil {
		return nil, err
	}
	out := []kernel.Blob{rootBlob}
	payload := make([]byte, payloadBytes)
	for i := 1; i < n; i++ {
		prev := out[len(out)-1]
		copy(payload, fmt.Sprintf("%s%d", prefix, i))
		built, err := entry.NewBuilder(rootBlob.ID).Parents(prev.ID).Height(prev.Entry.Tree.Height + 1).
			Store(entry.StoreNode{Name: "data", Data: payload}).Build()
		if err != nil {
			return nil, err
		}
		data, id, err := entry.Encode(built)
		if err != nil {
			return nil, err
		}
		b := kernel.Blob{ID: id, Data: data, Entry: built}
		e.names[id] = fmt.Sprintf("%s%d", prefix, i)
		out = append(out, b)
	}
	return out, nil
}

// Deliver delivers the first n messages in the network (reversed if asked).
func (e *Env) Deliver(n int, reverse bool) {
	n = min(n, len(e.net))
	batch := e.net[:n]
	e.net = append([]*flight(nil), e.net[n:]...)
	for i := range batch {
		f := batch[i]
		if reverse {
			f = batch[n-1-i]
		}
		e.deliver(f)
	}
}

// Drop loses the first n messages in the network.
func (e *Env) Drop(n int) {
	e.net = append([]*flight(nil), e.net[min(n, len(e.net)):]...)
}

// Tick gives every machine n ticks and runs their effects.
func (e *Env) Tick(n int) {
	for range n {
		e.nowMs += 100
		for _, node := range e.sortedNodes() {
			e.step(node, kernel.Tick{NowMs: e.nowMs})
		}
	}
	e.Process()
}

// Process runs every machine and store until idle, delivering nothing.
func (e *Env) Process() { e.process() }

// Craft hands n a message from peer from as a misbehaving peer would: a
// request (answered into the void) or, for a response, a reply to seq.
func (e *Env) Craft(n *Node, from kernel.PeerID, msg kernel.Message, seq kernel.Seq) {
	if kernel.IsRequest(msg) {
		e.reqID++
		e.reqs[e.reqID] = pendingReq{client: from}
		e.step(n, kernel.Received{From: from, Req: e.reqID, Version: kernel.ProtocolV1, Msg: msg})
		return
	}
	e.step(n, kernel.Received{From: from, InReplyTo: seq, Msg: msg})
}
