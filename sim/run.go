package sim

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// This file is the randomized simulator's entry point. Run drives N real
// kernel machines through a swarm-drawn fault model (SIMULATION.md 2.1-2.5)
// for one master seed, checks the invariants of 2.6 after every step, and
// then heals everything and checks that the nodes converge and go quiet.
// Everything a run does follows from Options: two runs with the same
// Options give the same trace hash.

// Options says what to run.
type Options struct {
	Seed    uint64
	Profile string // a key of Profiles; "" is "small"
	// Ticks overrides the profile's safety-phase length. Skip and Disable
	// still refer to the full run at the profile's length (a shrunk run
	// is shorter).
	Ticks int
	// Disable turns fault kinds off after the swarm draw; Skip, when set, is
	// asked before every fault injection and workload action, and true
	// drops it. Both are relative to the seed's full run: a run with either
	// replays the full run's Tape (tape.go; recorded first when Tape is
	// nil), so an injection is numbered as the full run numbered it (run
	// order) and everything not dropped meets the draws it met there.
	Disable FaultSet
	Skip    func(Injection) bool
	// Tape is the full run's record (RecordTape), for runs with Skip or
	// Disable; Shrink records it once for its thousands of runs.
	Tape *Tape
	// record, when set, makes this run the recording of a Tape.
	record *Tape
	// Trace receives the readable trace: every event, every Ready batch
	// (kernel.DescribeReady with short aliases), every fault.
	Trace io.Writer
	// RecordOps keeps the local API operations (put, has, tips) with their
	// call and return points, and (unless Unchecked) checks each node's
	// history for linearizability at the end (linear.go). Not in the
	// adversarial profile, whose lost fsync and stale restore drop
	// acknowledged entries by design.
	RecordOps bool
	// VizDir, when set, is where a linearizability failure writes
	// porcupine's HTML visualization (G4); "" writes none (a shrinker's
	// hundreds of failing runs).
	VizDir string
	// RecordEvents keeps every node's event log (Result.Logs).
	RecordEvents bool
	// Unchecked runs no checker and no purity replay, only the simulation
	// and its trace hash: the second run of TestSim's determinism check,
	// which compares hashes. Checkers never change what the machines do,
	// so the hash is the same with or without them.
	Unchecked bool
}

// Injection is one fault injection or workload action, as Skip sees it.
type Injection struct {
	N      int    // position in the run, from 1
	Fault  Fault  // faultCount for a workload action
	Action string // the workload action, or "" for a fault
	Node   kernel.PeerID
	AtMs   int64
}

// Failure says which checker failed, where and why.
type Failure struct {
	Class     string // safety, liveness, linearizability, panic, harness
	Checker   string
	Invariant int // SIMULATION.md 2.6 number, 0 for harness-level checks
	Tick      int64
	AtMs      int64
	Node      kernel.PeerID
	Message   string
}

func (f *Failure) String() string {
	return fmt.Sprintf("%s failure at tick %d (t=%dms), checker %s (invariant %d), node %s: %s",
		f.Class, f.Tick, f.AtMs, f.Checker, f.Invariant, f.Node, f.Message)
}

// Result is what a run found.
type Result struct {
	Seed      uint64
	Profile   Profile
	Swarm     Swarm
	TraceHash [32]byte
	// Failure is nil when every checker passed. Expected holds a failure the
	// adversarial profile causes by design (liveness after lost fsync or a
	// stale restore); it never counts as a failure.
	Failure, Expected *Failure
	Counts            Counts
	// Events counts simulator events; KernelEvents the Steps among them;
	// Messages the encoded messages put on the wire.
	Events, KernelEvents, Messages int
	Ticks                          int64
	SimMs                          int64
	Injections                     int
	// ConvergeTicks is how many ticks after the final heal the nodes
	// converged, -1 if they did not. Requests counts the requests sent (a
	// SendFailed answers some: Counts.Marks[MarkSendFailed]).
	ConvergeTicks int
	Requests      int
	Ops           []Op
	Logs          []*EventLog
	// Linear is what the linearizability check did (zero when it did not
	// run); an inconclusive history is counted there, never a failure.
	Linear LinearStats
	// ApprovalOps are the approval-registry operations, with RecordOps;
	// ApprovalHistories and ApprovalOpsChecked count what was checked.
	ApprovalOps                           []ApprovalOp
	ApprovalHistories, ApprovalOpsChecked int
	reg                                   *registry // the run's entries, for re-checking Ops in tests
}

// Lighten drops what a campaign does not keep of a finished run: its
// entries, event logs and operation histories, which a large seed holds
// tens of megabytes of. A campaign of any length then holds a few hundred
// bytes per seed.
func (r *Result) Lighten() {
	r.Ops, r.Logs, r.ApprovalOps, r.reg = nil, nil, nil, nil
}

// phase is where a run is: faults on, liveness after the final heal, the
// quiet window, or done.
type phase uint8

const (
	phaseSafety phase = iota
	phaseConverge
	phaseQuiet
	phaseDone
)

// world is one run's state.
type world struct {
	opts  Options
	prof  Profile
	sw    Swarm
	r     [streamCount]rng
	q     queue
	now   int64
	phase phase

	nodes []*node
	byID  map[kernel.PeerID]*node
	// access holds the grants of each private tree (access.go).
	access map[entry.ID]*treeAccess
	aops   []ApprovalOp // approval-registry operations, with RecordOps
	// approvalHistories and approvalOps count what CheckApprovals checked.
	approvalHistories, approvalOps int
	decisions                      map[kernel.Ref]decision
	net                            *network
	wl                             *workload
	tr                             *tracer
	reg                            *registry

	counts               Counts
	fail, expected       *Failure
	events, kernelEvents int
	injections           int
	ref                  kernel.Ref
	ops                  []Op
	opSeq                int64
	linear               LinearStats
	logs                 []*EventLog
	checkNode            int
	live                 liveness
	messages             int
	requests             int
	faultsOff            bool
	rogue                entry.PrivateKey
	// sigs checks signatures for every node's transport (sigmemo.go).
	sigs sigMemo
	tape *tapeRun // nil in a live run
}

// Run runs one seed. It never panics: a panic in the kernel or in the
// simulator becomes a Failure of class panic.
func Run(opts Options) (res Result) {
	if opts.Tape == nil && opts.record == nil && (opts.Skip != nil || opts.Disable != 0) {
		opts.Tape = RecordTape(opts)
	}
	w := newWorld(opts)
	defer func() {
		if p := recover(); p != nil {
			w.failure(&Failure{Class: "panic", Checker: "panic", Message: fmt.Sprintf("%v\n%s", p, trimStack(debug.Stack()))})
		}
		res = w.result()
	}()
	w.start()
	for w.q.len() > 0 && w.fail == nil && w.phase != phaseDone {
		it := w.q.pop()
		w.now, w.tr.at = it.at, it.at
		w.events++
		it.fn()
	}
	w.finish()
	return res
}

func newWorld(opts Options) *world {
	name := opts.Profile
	if name == "" {
		name = "small"
	}
	prof, ok := Profiles[name]
	if !ok {
		panic(fmt.Sprintf("sim: unknown profile %q", name))
	}
	if opts.Ticks > 0 {
		prof.Ticks = opts.Ticks
	}
	w := &world{opts: opts, prof: prof, r: newStreams(opts.Seed), byID: map[kernel.PeerID]*node{}, access: map[entry.ID]*treeAccess{},
		decisions: map[kernel.Ref]decision{}}
	w.live.convergedTicks = -1
	switch {
	case opts.record != nil:
		w.tape = newTapeRun(w, opts.record, true)
	case opts.Tape != nil:
		w.tape = newTapeRun(w, opts.Tape, false)
	}
	w.sw = drawSwarm(w.r[streamSwarm], prof)
	w.tr = newTracer(opts.Trace)
	w.reg = newRegistry(w.tr)
	w.net = newNetwork(w)
	w.rogue = rogueKey()
	w.checkNode = w.r[streamCheck].pick(w.sw.Nodes)
	return w
}

func (w *world) start() {
	w.tr.header(w)
	for i := range w.sw.Nodes {
		w.addNode(i)
	}
	w.net.init(len(w.nodes))
	w.wl = newWorkload(w)
	for _, n := range w.nodes {
		w.scheduleTick(n)
	}
	w.q.push(int64(w.prof.TickMs), w.worldTick)
	w.q.push(int64(w.prof.Ticks*w.prof.TickMs), w.finalHeal)
}

// tick is the world's tick count, the unit failures are reported in.
func (w *world) tick() int64 { return w.now / int64(w.prof.TickMs) }

// worldTick draws the per-tick faults of every subsystem, once per nominal
// tick, for as long as the safety phase lasts.
func (w *world) worldTick() {
	if w.phase != phaseSafety {
		return
	}
	w.net.tickFaults()
	for _, n := range w.nodes {
		n.tickFaults()
		n.clock.tickFaults(w, n)
	}
	w.q.push(w.now+int64(w.prof.TickMs), w.worldTick)
}

// inject counts an injection of kind at node and says whether to apply it:
// false once faults are off (liveness), when Options disables the kind, or
// when Options.Skip drops this injection.
func (w *world) inject(kind Fault, n *node) bool {
	if w.faultsOff {
		return false
	}
	in := Injection{N: w.number(kind), Fault: kind, AtMs: w.now}
	if n != nil {
		in.Node = n.id
	}
	if w.opts.Disable.Has(kind) || w.opts.Skip != nil && w.opts.Skip(in) {
		return false
	}
	w.counts.Faults[kind]++
	return true
}

// on reports whether a fault kind is on for this seed and the run is still
// in its faulty phase. It draws nothing.
func (w *world) on(kind Fault) bool { return !w.faultsOff && w.sw.On.Has(kind) }

// roll draws the fault's chance from stream r and, when it hits, counts the
// injection. It always draws once.
func (w *world) roll(r rng, kind Fault, n *node) bool { return w.rollBp(r, kind, n, w.sw.Rate[kind]) }

// rollBp is roll with an explicit chance, for a kind injected at several
// sites at different rates.
func (w *world) rollBp(r rng, kind Fault, n *node, bp int) bool {
	hit := r.chance(bp)
	return hit && w.on(kind) && w.inject(kind, n)
}

func (w *world) mark(m Mark) { w.counts.Marks[m]++ }

// failure records the first failure; the run stops at the next event.
func (w *world) failure(f *Failure) {
	f.Tick, f.AtMs = w.tick(), w.now
	if f.Class == "liveness" && w.prof.Adversarial {
		if w.expected == nil {
			w.expected = f
		}
		w.phase = phaseDone
		return
	}
	if w.fail == nil {
		w.fail = f
		w.tr.line("FAIL %s", f)
	}
}

func (w *world) nextRef() kernel.Ref {
	w.ref++
	return w.ref
}

// finish runs the end-of-run checks (the purity replay of one node's log)
// and closes the operations still open.
func (w *world) finish() {
	if w.fail == nil && !w.opts.Unchecked {
		w.checkPurity()
	}
	for _, n := range w.nodes {
		w.unknownPuts(n, false) // never answered: the run ended first
	}
	if w.fail == nil && !w.opts.Unchecked && w.opts.RecordOps && !w.prof.Adversarial {
		w.checkLinear()
	}
	w.tr.line("end: %d events, %d kernel events, %d messages", w.events, w.kernelEvents, w.messages)
}

func (w *world) result() Result {
	res := Result{Seed: w.opts.Seed, Profile: w.prof, Swarm: w.sw, Failure: w.fail, Expected: w.expected,
		Counts: w.counts, Events: w.events, KernelEvents: w.kernelEvents, Messages: w.messages,
		Ticks: w.tick(), SimMs: w.now, Injections: w.injections, Ops: w.ops, Linear: w.linear, reg: w.reg,
		ApprovalOps: w.aops, ApprovalHistories: w.approvalHistories, ApprovalOpsChecked: w.approvalOps,
		ConvergeTicks: w.live.convergedTicks, Requests: w.requests}
	res.TraceHash = w.tr.sum()
	if w.opts.RecordEvents {
		res.Logs = w.logs
	}
	return res
}

func trimStack(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	return strings.Join(lines[:min(len(lines), 40)], "\n")
}
