package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Env is a set of machines, their stores and the network between them.
type Env struct {
	nodes map[kernel.PeerID]*Node
	net   []*flight // messages in the network, in send order
	names map[entry.ID]string
	blobs map[string]kernel.Blob // by name
	reqs  map[kernel.ReqID]pendingReq
	reqID kernel.ReqID
	ref   kernel.Ref
	nowMs int64
	// lastInjected is the last message inject put on the wire (replay);
	// nonce counts injected request auths.
	lastInjected *flight
	nonce        int
	out          *strings.Builder
	t            testing.TB // the running test, for argument parsing

	// Programmatic use (api.go): notices seen, wire counters, trace hash.
	notices []NodeNotice
	// Refusals lists every event a machine refused, as text.
	Refusals []string
	Wire     WireStats
	trace    hash.Hash
}

// Node is one machine with its durable store and its effects in progress.
type Node struct {
	ID     kernel.PeerID
	M      *kernel.Machine
	Key    entry.PrivateKey
	Store  *MemStore
	Config kernel.Config
	// Hold keeps Persist and Load effects pending until released with ack
	// or fail, instead of completing them in stabilize.
	Hold   bool
	writes []kernel.Write
	reads  []kernel.Read
}

// flight is one encoded message on the wire.
type flight struct {
	from, to kernel.PeerID
	env      kernel.Envelope
	data     []byte
}

// pendingReq maps a delivered request to the sender's Seq for the reply.
type pendingReq struct {
	client kernel.PeerID
	seq    kernel.Seq
}

// NewEnv returns an empty environment.
func NewEnv() *Env {
	return &Env{nodes: map[kernel.PeerID]*Node{}, names: map[entry.ID]string{}, blobs: map[string]kernel.Blob{},
		reqs: map[kernel.ReqID]pendingReq{}, nowMs: 1_700_000_000_000}
}

// Name prints an ID by its alias, or a short hash for an unnamed ID.
func (e *Env) Name(id entry.ID) string {
	if n, ok := e.names[id]; ok {
		return n
	}
	s := id.String()
	return "?" + s[max(0, len(s)-6):]
}

// Handle runs one datadriven directive and returns its output.
func (e *Env) Handle(t testing.TB, d *datadriven.TestData) string {
	t.Helper()
	e.t = t
	e.out = &strings.Builder{}
	var err error
	switch d.Cmd {
	case "machine":
		err = e.handleMachine(d)
	case "commit":
		err = e.handleCommit(d)
	case "sync":
		err = e.handleSync(d)
	case "stabilize":
		err = e.handleStabilize(d)
	case "process":
		e.process()
	case "deliver":
		err = e.handleDeliver(d)
	case "drop":
		err = e.handleDrop(d)
	case "inject":
		err = e.handleInject(d)
	case "decide":
		err = e.handleDecide(d)
	case "requests":
		err = e.handleRequests(d)
	case "status":
		err = e.handleStatus(d)
	case "restart":
		err = e.handleRestart(d)
	case "ack", "fail":
		err = e.handleComplete(d)
	case "hold", "release":
		err = e.handleHold(d)
	case "tick":
		err = e.handleTick(d)
	case "_breakpoint":
		// Set a debugger breakpoint here to stop at a point in a script.
	default:
		t.Fatalf("unknown directive %q", d.Cmd)
	}
	if err != nil {
		e.printf("error: %v\n", err)
	}
	return e.out.String()
}

// node returns the named machine.
func (e *Env) node(name string) (*Node, error) {
	n := e.nodes[kernel.PeerID(name)]
	if n == nil {
		return nil, fmt.Errorf("no machine %q", name)
	}
	return n, nil
}

func (e *Env) sortedNodes() []*Node {
	var out []*Node
	for _, n := range e.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// seedFor derives a stable 64-bit seed and key seed from a name.
func seedFor(name string) (uint64, [32]byte) {
	sum := sha256.Sum256([]byte("eidsync sim " + name))
	return binary.LittleEndian.Uint64(sum[:8]), sum
}

// step feeds one event to a node, printing a refusal.
func (e *Env) step(n *Node, ev kernel.Event) {
	if err := n.M.Step(ev); err != nil {
		r := fmt.Sprintf("%s refused %s: %v", n.ID, describeEvent(ev), err)
		e.Refusals = append(e.Refusals, r)
		e.printf("%s\n", r)
	}
}

// printf writes to the scenario output, if there is one.
func (e *Env) printf(format string, args ...any) {
	if e.out != nil {
		fmt.Fprintf(e.out, format, args...)
	}
}

func describeEvent(ev kernel.Event) string {
	name := fmt.Sprintf("%T", ev)
	return strings.TrimPrefix(name, "kernel.")
}

// drain prints and runs every Ready batch of n until it has none.
func (e *Env) drain(n *Node) bool {
	did := false
	for n.M.HasReady() {
		did = true
		rd := n.M.Ready()
		if e.out != nil || e.trace != nil {
			text := kernel.DescribeReady(n.ID, rd, e.Name)
			if e.trace != nil {
				e.trace.Write([]byte(text))
			}
			if e.out != nil {
				e.printf("%s ready:\n", n.ID)
				for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
					e.printf("  %s\n", line)
				}
			}
		}
		for _, no := range rd.Notify {
			e.notices = append(e.notices, NodeNotice{Node: n.ID, Notice: no})
		}
		e.execute(n, rd)
	}
	return did
}

// execute runs a Ready batch: sends go on the wire (encoded), writes and
// reads wait for the completion phase.
func (e *Env) execute(n *Node, rd kernel.Ready) {
	for _, env := range rd.Send {
		data, err := kernel.EncodeMessage(env.Version, env.Msg)
		if err != nil {
			e.printf("  encode error: %v\n", err)
			continue
		}
		e.Wire.count(env, len(data))
		if e.trace != nil {
			e.trace.Write(data)
		}
		e.net = append(e.net, &flight{from: n.ID, to: env.To, env: env, data: data})
	}
	n.writes = append(n.writes, rd.Persist...)
	n.reads = append(n.reads, rd.Load...)
}

// complete answers n's pending writes and reads from its store.
func (e *Env) complete(n *Node) bool {
	if n.Hold || len(n.writes)+len(n.reads) == 0 {
		return false
	}
	writes, reads := n.writes, n.reads
	n.writes, n.reads = nil, nil
	for _, w := range writes {
		n.Store.Apply(w)
		e.step(n, kernel.Persisted{Seq: w.Seq})
	}
	for _, r := range reads {
		e.step(n, kernel.Loaded{Seq: r.Seq, Blobs: n.Store.Read(r)})
	}
	return true
}

// deliver hands one flight to its destination through the wire decoder.
func (e *Env) deliver(f *flight) {
	dst := e.nodes[f.to]
	if f.env.Reply != 0 {
		pr, ok := e.reqs[f.env.Reply]
		if !ok || (dst == nil && pr.seq != 0) {
			return
		}
		delete(e.reqs, f.env.Reply)
		if pr.seq == 0 { // the answer to an injected request
			e.printf("%s got %s\n", f.to, kernel.DescribeMessage(f.env.Msg, e.Name))
			return
		}
		msg, err := kernel.DecodeResponse(f.data, dst.Config.Wire)
		if err != nil {
			e.printf("%s cannot decode reply from %s: %v\n", f.to, f.from, err)
			e.step(dst, kernel.SendFailed{Seq: pr.seq, Reason: "undecodable reply"})
			return
		}
		e.step(dst, kernel.Received{From: f.from, InReplyTo: pr.seq, Msg: msg})
		return
	}
	if dst == nil {
		return
	}
	msg, version, err := kernel.DecodeRequest(f.data, dst.Config.Wire)
	if err != nil {
		e.printf("%s cannot decode request from %s: %v\n", f.to, f.from, err)
		return
	}
	e.reqID++
	e.reqs[e.reqID] = pendingReq{client: f.from, seq: f.env.Seq}
	e.step(dst, kernel.Received{From: f.from, Req: e.reqID, Version: version, Msg: msg})
}

// process runs every machine and store until idle, delivering nothing.
//
//	process
func (e *Env) process() {
	for moved := true; moved; {
		moved = false
		for _, n := range e.sortedNodes() {
			moved = e.drain(n) || moved
			moved = e.complete(n) || moved
		}
	}
}

// stabilize runs every machine, store and message until nothing moves.
func (e *Env) stabilize(roundsMax int) error {
	for range roundsMax {
		moved := false
		for _, n := range e.sortedNodes() {
			moved = e.drain(n) || moved
		}
		for _, n := range e.sortedNodes() {
			moved = e.complete(n) || moved
		}
		if len(e.net) > 0 {
			batch := e.net
			e.net = nil
			for _, f := range batch {
				e.deliver(f)
			}
			moved = true
		}
		if !moved {
			return nil
		}
	}
	return fmt.Errorf("not stable after %d rounds", roundsMax)
}
