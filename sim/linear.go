package sim

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Linearizability of each node's local API (SIMULATION.md 2.6 (b), G9,
// P10). The recorded operations of one node on one tree, between two wipes
// (a wipe is a new empty store: what came before is not its history), must
// be explained by one sequential run of this set model:
//
//   - the state is the set S of entries the node holds, closed under
//     parents (an entry is only visible with its ancestors: invariant 2);
//   - put(e) that returned ok adds e: from its return on, has(e) is true and
//     the tips cover e (read-your-writes), and e never leaves S again,
//     crashes included (durability seen through the API);
//   - put(e) that failed adds nothing; put(e) cut by a crash is unknown:
//     it may add e or not, at some point before the crash (the crash
//     settles every write in flight), which resolveUnknowns decides
//     exactly before the search;
//   - entries arrive from peers at any time, so has(x) = true or tips
//     covering x may add x with its ancestors, but only an entry this node
//     did not put in this partition: its own entries enter S by their put
//     alone, so a failed put that shows up later is a violation;
//   - has(x) = false needs x not in S;
//   - tips(T) needs T to be an antichain (no tip an ancestor of another),
//     S to be within the closure of T (nothing held is lost), and the
//     closure of T to hold no own entry not yet in S; S becomes that
//     closure (the tips are the maxima of the held set).
//
// A bug that loses an acknowledged entry, shows a commit before it is
// durable and then drops it at a crash, reports a stored entry as failed,
// or returns tips that are not the maxima of what is stored breaks one of
// these rules. has reads the node's store and tips the machine, so the two
// are independent observations of the same state.

// linTimeout bounds one partition's check (G9: at most 1 s per history).
const linTimeout = time.Second

// linChunkOps is the most operations in one checked history (G9: 500).
const linChunkOps = 500

// LinearStats is what the linearizability check did for a run.
type LinearStats struct {
	Ops        int // operations checked
	Partitions int // histories checked (node × tree × wipe epoch, cut in chunks)
	MaxOps     int // the longest history
	UnknownOps int // puts of unknown outcome (cut by a crash or the run's end)
	// UnknownHeld counts those resolved as taken effect: a later read
	// needs them (resolveUnknowns); the others did nothing.
	UnknownHeld int
	// Inconclusive counts histories the checker could not decide within
	// linTimeout: never a pass (G9); TestSim reports them.
	Inconclusive int
	Elapsed      time.Duration
}

// linKey names one partition.
type linKey struct {
	node  kernel.PeerID
	epoch int
	tree  entry.ID
}

// linIn is one operation as the model sees it: its bit in the partition's
// universe, and the closure (as a bitset in a string, so states compare
// with == and hash cheaply) of its entry or tips.
type linIn struct {
	kind  OpKind
	bit   int
	cl    string
	valid bool // tips: an antichain
	name  string
}

// linOut is an operation's result; an unknown put is resolved to held or
// not before the search (resolveUnknowns), which resolved records.
type linOut struct{ ok, unknown, resolved bool }

// linPart is one history to check, with what its model needs.
type linPart struct {
	key   linKey
	ops   []porcupine.Operation
	local string // bits of the entries put in this partition
	names []string
	nb    int
	unk   int
	held  int // unknown puts resolved as taken effect
}

// CheckLinear checks recorded operations against the set model above.
// parents gives an entry's parents (the simulator's registry); name
// prints an ID. A violation returns a non-nil error naming the partition,
// and, when vizDir is not empty, the path of porcupine's HTML
// visualization written there.
func CheckLinear(ops []Op, parents func(entry.ID) []entry.ID, name func(entry.ID) string, vizDir string) (LinearStats, error) {
	start := time.Now()
	var st LinearStats
	parts := linPartitions(ops, parents, name)
	for _, p := range parts {
		for _, c := range linChunks(p.ops) {
			chunk := c.ops
			st.Partitions++
			st.Ops += len(chunk)
			st.MaxOps = max(st.MaxOps, len(chunk))
			model := p.model(c.init)
			res := porcupine.CheckOperationsTimeout(model, chunk, linTimeout)
			switch res {
			case porcupine.Unknown:
				st.Inconclusive++
			case porcupine.Illegal:
				st.Elapsed = time.Since(start)
				return st, p.violation(model, chunk, vizDir)
			}
		}
		st.UnknownOps += p.unk
		st.UnknownHeld += p.held
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// LinearViolation is a history the model cannot explain.
type LinearViolation struct {
	Node kernel.PeerID
	Msg  string
	// Viz is the path of porcupine's HTML visualization, "" if none.
	Viz string
}

func (v *LinearViolation) Error() string { return v.Msg }

// violation re-checks a failing history verbosely for its visualization:
// only failures pay for the partial linearizations it keeps.
func (p *linPart) violation(model porcupine.Model, chunk []porcupine.Operation, vizDir string) error {
	v := &LinearViolation{Node: p.key.node}
	v.Msg = fmt.Sprintf("node %s tree %s (epoch %d): %d operations are not linearizable against the set model with read-your-writes",
		p.key.node, p.names[0], p.key.epoch, len(chunk))
	if vizDir == "" {
		return v
	}
	res, info := porcupine.CheckOperationsVerbose(model, chunk, 10*linTimeout)
	f, err := os.CreateTemp(vizDir, fmt.Sprintf("eidsync-linear-%s-*.html", p.key.node))
	if err == nil {
		err = porcupine.Visualize(model, info, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		v.Msg += fmt.Sprintf(" (verbose re-check %s; visualization not written: %v)", res, err)
		return v
	}
	v.Viz = f.Name()
	v.Msg += fmt.Sprintf(" (verbose re-check %s); visualization: %s", res, v.Viz)
	return v
}

// linPartitions groups the operations by node, wipe epoch and tree, and
// turns each into porcupine operations over the partition's universe:
// every entry named by an operation, with its ancestors.
func linPartitions(ops []Op, parents func(entry.ID) []entry.ID, name func(entry.ID) string) []*linPart {
	byKey := map[linKey][]Op{}
	var keys []linKey
	for _, op := range ops {
		k := linKey{node: op.Node, epoch: op.Epoch, tree: op.Tree}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], op)
	}
	var parts []*linPart
	for _, k := range keys {
		parts = append(parts, newLinPart(k, byKey[k], parents, name))
	}
	return parts
}

func newLinPart(k linKey, ops []Op, parents func(entry.ID) []entry.ID, name func(entry.ID) string) *linPart {
	p := &linPart{key: k}
	bits := map[entry.ID]int{}
	var closure func(id entry.ID) []int
	memo := map[entry.ID][]int{}
	// Entries get bits in first-seen order, ancestors first: the universe
	// is what the operations name and everything below it.
	closure = func(id entry.ID) []int {
		if c, ok := memo[id]; ok {
			return c
		}
		set := map[int]bool{}
		for _, par := range parents(id) {
			for _, b := range closure(par) {
				set[b] = true
			}
		}
		b, ok := bits[id]
		if !ok {
			b = len(bits)
			bits[id] = b
			p.names = append(p.names, name(id))
		}
		set[b] = true
		c := make([]int, 0, len(set))
		for b := range set {
			c = append(c, b)
		}
		slices.Sort(c)
		memo[id] = c
		return c
	}
	closure(k.tree)
	for _, op := range ops {
		closure(op.ID)
		for _, t := range op.Tips {
			closure(t)
		}
	}
	p.nb = (len(bits) + 7) / 8
	set := func(ids ...[]int) string {
		b := make([]byte, p.nb)
		for _, c := range ids {
			for _, i := range c {
				b[i/8] |= 1 << (i % 8)
			}
		}
		return string(b)
	}
	var local [][]int
	for _, op := range ops {
		if op.Kind == OpPut {
			local = append(local, []int{bits[op.ID]})
		}
	}
	p.local = set(local...)
	end := int64(0)
	for _, op := range ops {
		end = max(end, op.Call, op.Return)
	}
	for _, op := range ops {
		in := linIn{kind: op.Kind, valid: true}
		out := linOut{ok: op.Ok, unknown: op.Unknown}
		switch op.Kind {
		case OpPut, OpHas:
			in.bit, in.cl, in.name = bits[op.ID], set(closure(op.ID)), name(op.ID)
		case OpTips:
			var cls [][]int
			var names []string
			for _, t := range op.Tips {
				c := closure(t)
				cls = append(cls, c)
				names = append(names, name(t))
				// An antichain: no tip is below another.
				for _, u := range op.Tips {
					if u != t && slices.Contains(closure(u), bits[t]) {
						in.valid = false
					}
				}
			}
			in.cl, in.name = set(cls...), strings.Join(names, " ")
		}
		ret := op.Return
		if op.Unknown {
			p.unk++
			if ret < 0 { // never settled: may take effect until the end
				ret = end + 1
			}
		}
		p.ops = append(p.ops, porcupine.Operation{Input: in, Call: op.Call, Output: out, Return: ret})
	}
	p.resolveUnknowns()
	slices.SortStableFunc(p.ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
	linLanes(p.ops)
	return p
}

// resolveUnknowns decides each unknown put before the search, exactly
// (P10: n unknown outcomes are 2^n branches, and their overlapping
// windows n! orders). An own entry enters the held set only by its put,
// so if any operation that holds for sure needs the entry held (has true,
// tips covering it, an acknowledged put on it, or an unknown put on it
// that is itself needed), the put took effect, before the first such
// operation returned: it becomes an acknowledged put whose window ends
// there. If nothing needs it, it becomes a put that did nothing: without
// the entry, no step is harder (has false, tips within, the ancestors of
// a put are conditions a smaller set meets at least as well), so the
// verdict is the same. Children are committed after their parents, so
// walking the puts last to first settles a child before its parent asks.
func (p *linPart) resolveUnknowns() {
	sure := make([]bool, len(p.ops)) // takes effect or holds for sure
	for i, o := range p.ops {
		in, out := o.Input.(linIn), o.Output.(linOut)
		sure[i] = !out.unknown && (in.kind == OpTips || out.ok)
	}
	for i := len(p.ops) - 1; i >= 0; i-- {
		u := &p.ops[i]
		out := u.Output.(linOut)
		if !out.unknown {
			continue
		}
		bit, ret, needed := u.Input.(linIn).bit, u.Return, false
		for j, o := range p.ops {
			if j == i || !sure[j] || o.Input.(linIn).cl[bit/8]&(1<<(bit%8)) == 0 {
				continue
			}
			needed = true
			if o.Return >= u.Call {
				ret = min(ret, o.Return)
			}
		}
		if needed {
			sure[i], u.Return, p.held = true, ret, p.held+1
		} else {
			u.Return = u.Call // it did nothing: its window does not matter, and it blocks no cut
		}
		u.Output = linOut{ok: needed, resolved: true}
	}
}

// linLanes gives each operation a client lane so that no lane holds two
// overlapping operations: porcupine draws one row per client.
func linLanes(ops []porcupine.Operation) {
	var busy []int64 // per lane, the return of its last operation
	for i := range ops {
		lane := slices.IndexFunc(busy, func(ret int64) bool { return ret < ops[i].Call })
		if lane < 0 {
			lane = len(busy)
			busy = append(busy, 0)
		}
		busy[lane] = ops[i].Return
		ops[i].ClientId = lane
	}
}

// linChunk is a piece of a history and the state it starts from.
type linChunk struct {
	ops  []porcupine.Operation
	init string // "" for the empty set
}

// linChunks cuts a history (sorted by call) into pieces of at most
// linChunkOps operations, only after a tips read that overlaps no other
// operation: whatever came before, the state after it is exactly the
// closure of its tips, so the next piece starts from that state, and
// checking the pieces apart is checking the whole.
func linChunks(ops []porcupine.Operation) []linChunk {
	if len(ops) <= linChunkOps {
		return []linChunk{{ops: ops}}
	}
	var chunks []linChunk
	cur := linChunk{}
	from, cut := 0, -1
	maxRet := int64(-1 << 62)
	for i, op := range ops {
		alone := op.Input.(linIn).kind == OpTips && maxRet < op.Call && (i+1 == len(ops) || ops[i+1].Call > op.Return)
		maxRet = max(maxRet, op.Return)
		if alone && i > from && i+1 < len(ops) {
			cut = i
		}
		if i-from+1 >= linChunkOps && cut >= from {
			cur.ops = ops[from : cut+1]
			chunks = append(chunks, cur)
			cur = linChunk{init: ops[cut].Input.(linIn).cl}
			from = cut + 1
		}
	}
	cur.ops = ops[from:]
	return append(chunks, cur)
}

// model is the partition's set model (see the top of this file).
func (p *linPart) model(init string) porcupine.Model {
	if init == "" {
		init = string(make([]byte, p.nb))
	}
	return porcupine.Model{
		Init: func() any { return init },
		// Unknown puts are resolved before the search (resolveUnknowns),
		// so every step has one outcome.
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(string), input.(linIn), output.(linOut)
			// The own entries cl would add must be in S already.
			ownIn := func(cl string) bool { return within(and(cl, p.local), s) }
			switch in.kind {
			case OpPut:
				if !out.ok {
					return true, s
				}
				// The put's own entry is the one own entry it may add.
				withEntry := or(s, bitString(p.nb, in.bit))
				return within(and(in.cl, p.local), withEntry), or(s, in.cl)
			case OpHas:
				held := s[in.bit/8]&(1<<(in.bit%8)) != 0
				switch {
				case held == out.ok:
					return true, s
				case out.ok && ownIn(in.cl):
					return true, or(s, in.cl)
				}
				return false, s
			case OpTips:
				return in.valid && within(s, in.cl) && ownIn(in.cl), in.cl
			}
			return false, s
		},
		Equal: func(a, b any) bool { return a.(string) == b.(string) },
		Hash: func(a any) uint64 {
			h := fnv.New64a()
			h.Write([]byte(a.(string)))
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linIn), output.(linOut)
			res := fmt.Sprint(out.ok)
			if out.resolved {
				res = "unknown, resolved " + res
			}
			if in.kind == OpTips {
				return fmt.Sprintf("tips() -> [%s]", in.name)
			}
			return fmt.Sprintf("%s(%s) -> %s", in.kind, in.name, res)
		},
		DescribeState: func(state any) string {
			s := state.(string)
			var held []string
			for i, n := range p.names {
				if s[i/8]&(1<<(i%8)) != 0 {
					held = append(held, n)
				}
			}
			return "{" + strings.Join(held, " ") + "}"
		},
	}
}

func bitString(nb, bit int) string {
	b := make([]byte, nb)
	b[bit/8] |= 1 << (bit % 8)
	return string(b)
}

func or(a, b string) string {
	out := []byte(a)
	for i := range out {
		out[i] |= b[i]
	}
	return string(out)
}

func and(a, b string) string {
	out := []byte(a)
	for i := range out {
		out[i] &= b[i]
	}
	return string(out)
}

// within reports whether a ⊆ b.
func within(a, b string) bool {
	for i := range len(a) {
		if a[i]&^b[i] != 0 {
			return false
		}
	}
	return true
}
