package sim

import (
	"fmt"

	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
	"slices"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/kernel"
)

// handleSync asks the first machine to sync a tree with the second.
//
//	sync p1 p2 t1
func (e *Env) handleSync(d *datadriven.TestData) error {
	if len(d.CmdArgs) < 3 {
		return fmt.Errorf("usage: sync <machine> <peer> <tree> [access=PERM name=KEYNAME]")
	}
	n, err := e.node(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	tree, ok := e.blobs[d.CmdArgs[2].Key]
	if !ok {
		return fmt.Errorf("unknown tree %q", d.CmdArgs[2].Key)
	}
	e.ref++
	ask := kernel.SyncAsked{Ref: e.ref, Peer: kernel.PeerID(d.CmdArgs[1].Key), Tree: tree.ID}
	for _, arg := range d.CmdArgs[3:] {
		switch arg.Key {
		case "access":
			p, err := access.ParsePermission(arg.Vals[0])
			if err != nil {
				return err
			}
			ask.Access = &p
		case "name":
			ask.AccessName = arg.Vals[0]
		}
	}
	e.step(n, ask)
	e.drain(n)
	return nil
}

// handleDecide approves or rejects the nth request (from 1, oldest first)
// in the approver's registry, or an ID that names none (id=...).
//
//	decide p1 n=1 approve
//	decide p1 id=nope reject
func (e *Env) handleDecide(d *datadriven.TestData) error {
	n, err := e.node(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	ev := kernel.Decide{Approve: d.HasArg("approve")}
	if d.HasArg("id") {
		d.ScanArgs(e.t, "id", &ev.ID)
	} else {
		var nth int
		d.ScanArgs(e.t, "n", &nth)
		list := n.M.Approvals()
		if nth < 1 || nth > len(list) {
			return fmt.Errorf("%s has %d requests, no #%d", n.ID, len(list), nth)
		}
		ev.ID = list[nth-1].ID
	}
	e.ref++
	ev.Ref = e.ref
	e.step(n, ev)
	e.drain(n)
	return nil
}

// handleRequests lists machines' bootstrap-request registries.
//
//	requests p1
func (e *Env) handleRequests(d *datadriven.TestData) error {
	for _, arg := range d.CmdArgs {
		n, err := e.node(arg.Key)
		if err != nil {
			return err
		}
		for i, r := range n.M.Approvals() {
			e.printf("%s request #%d: tree=%s key=%s name=%q asked=%v status=%v", n.ID, i+1, e.Name(r.Tree), e.keyName(r.Key), r.KeyName, r.Requested, r.Status)
			if r.Status == kernel.ApprovalApproved {
				e.printf(" granted=%v by=%s", r.Granted, e.keyName(r.DecidedBy))
			}
			if r.Status == kernel.ApprovalRejected {
				e.printf(" by=%s", e.keyName(r.DecidedBy))
			}
			e.printf("\n")
		}
	}
	return nil
}

// keyName names a key by the peer it belongs to, when known.
func (e *Env) keyName(k entry.PublicKey) string {
	for _, n := range e.sortedNodes() {
		if n.Key.Public() == k {
			return string(n.ID)
		}
	}
	for _, name := range []string{"p7", "p8", "p9"} {
		if e.keyOf(name).Public() == k {
			return name
		}
	}
	return k.String()
}

// handleStabilize runs everything until nothing moves.
//
//	stabilize
//	stabilize rounds=50
func (e *Env) handleStabilize(d *datadriven.TestData) error {
	rounds := 200
	if d.HasArg("rounds") {
		d.ScanArgs(e.t, "rounds", &rounds)
	}
	return e.stabilize(rounds)
}

// handleDeliver delivers messages now in the network: all of them, the first
// n, in reverse order, or each twice (a duplicating network). Messages they
// cause stay queued.
//
//	deliver
//	deliver n=1
//	deliver reverse dup
func (e *Env) handleDeliver(d *datadriven.TestData) error {
	batch := e.net
	if d.HasArg("n") {
		var n int
		d.ScanArgs(e.t, "n", &n)
		batch = batch[:min(n, len(batch))]
	}
	e.net = slices.Clone(e.net[len(batch):])
	if d.HasArg("reverse") {
		slices.Reverse(batch)
	}
	for _, f := range batch {
		fmt.Fprintf(e.out, "deliver %s->%s %s\n", f.from, f.to, kernel.DescribeMessage(f.env.Msg, e.Name))
		e.deliver(f)
		if d.HasArg("dup") {
			fmt.Fprintf(e.out, "deliver again %s->%s\n", f.from, f.to)
			e.deliver(f)
		}
	}
	return nil
}

// handleDrop drops the first n messages in the network (all by default).
//
//	drop n=1
func (e *Env) handleDrop(d *datadriven.TestData) error {
	n := len(e.net)
	if d.HasArg("n") {
		d.ScanArgs(e.t, "n", &n)
	}
	n = min(n, len(e.net))
	for _, f := range e.net[:n] {
		fmt.Fprintf(e.out, "drop %s->%s %s\n", f.from, f.to, kernel.DescribeMessage(f.env.Msg, e.Name))
	}
	e.net = slices.Clone(e.net[n:])
	return nil
}

// handleTick gives every machine n ticks; after each, machines and stores
// run their effects, but no message is delivered.
//
//	tick n=3
func (e *Env) handleTick(d *datadriven.TestData) error {
	n := 1
	if d.HasArg("n") {
		d.ScanArgs(e.t, "n", &n)
	}
	for range n {
		e.nowMs += 100
		for _, node := range e.sortedNodes() {
			e.step(node, kernel.Tick{NowMs: e.nowMs})
		}
		e.process() // machines and stores run; the network waits
	}
	return nil
}

// handleStatus prints machines' status.
//
//	status p1 p2
func (e *Env) handleStatus(d *datadriven.TestData) error {
	for _, arg := range d.CmdArgs {
		n, err := e.node(arg.Key)
		if err != nil {
			return err
		}
		fmt.Fprint(e.out, kernel.DescribeStatus(n.ID, n.M.Status(), e.Name))
	}
	return nil
}

// handleComplete answers a held machine's pending writes and reads: ack
// applies them, fail fails them.
//
//	ack p1
//	fail p1
func (e *Env) handleComplete(d *datadriven.TestData) error {
	n, err := e.node(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	writes, reads := n.writes, n.reads
	n.writes, n.reads = nil, nil
	for _, w := range writes {
		if d.Cmd == "ack" {
			n.Store.Apply(w)
			e.step(n, kernel.Persisted{Seq: w.Seq})
		} else {
			e.step(n, kernel.PersistFailed{Seq: w.Seq, Reason: "injected failure"})
		}
	}
	for _, r := range reads {
		if d.Cmd == "ack" {
			e.step(n, kernel.Loaded{Seq: r.Seq, Blobs: n.Store.Read(r)})
		} else {
			e.step(n, kernel.LoadFailed{Seq: r.Seq, Reason: "injected failure"})
		}
	}
	e.drain(n)
	return nil
}

// blobsNamed looks up named entries.
func (e *Env) blobsNamed(names []string) ([]kernel.Blob, error) {
	var out []kernel.Blob
	for _, name := range names {
		b, ok := e.blobs[name]
		if !ok {
			return nil, fmt.Errorf("unknown entry %q", name)
		}
		out = append(out, b)
	}
	return out, nil
}

// handleHold makes a machine's store hold its writes and reads until ack or
// fail (hold), or complete them as usual again (release).
//
//	hold p1
//	release p1
func (e *Env) handleHold(d *datadriven.TestData) error {
	n, err := e.node(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	n.Hold = d.Cmd == "hold"
	return nil
}
