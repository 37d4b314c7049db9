package sim

import (
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Linearizability of the bootstrap approval registry at each approver
// (SIMULATION.md 2.6 invariant 8 and (a)). The registry's operations at
// one node, between two wipes, must be explained by one sequential run of
// this model, whose state is the list of records (ID, tree, key, status) in
// arrival order:
//
//   - request(tree, key) answered Pending(id): the key's pending record
//     has that ID, or (none pending or rejected for it) a new pending
//     record with a new ID is added, evicting the oldest decided record
//     when the registry is full;
//   - answered Rejected: a rejected record exists for (tree, key);
//   - answered Busy: the registry is full and no record is decided;
//   - answered with a storage failure: nothing changes;
//   - decide(id, approve) answered ok: the record was pending and now is
//     Approved or Rejected (one decision per request); "already": it was
//     decided; "deciding" (another decision's writes are in flight): it is
//     still pending and nothing changes; "not found": there is no such
//     record; a failure: nothing changes;
//   - list() returns exactly the records.
//
// An operation cut by a crash has an unknown outcome; it is resolved from
// the first list after the restart (which shows the durable registry
// exactly): a request took effect if its new pending record is listed, a
// decision if its record is listed decided. Requests answered by serving
// the bootstrap (the key may read) are not registry operations; that no
// entry reaches a key before its approval is invariant 8 (access.go).

// ApprovalOpKind is an operation on the registry.
type ApprovalOpKind uint8

// Registry operations.
const (
	ApRequest ApprovalOpKind = 1 + iota
	ApDecide
	ApList
)

// Registry results.
const (
	apPending  = "pending"
	apRejected = "rejected"
	apBusy     = "busy"
	apFailed   = "failed"
	apOK       = "ok"
	apAlready  = "already"
	apDeciding = "deciding" // refused: another decision's writes are in flight
	apNotFound = "not-found"
	apNone     = "none" // an unknown outcome resolved as no effect
)

// ApprovalOp is one recorded registry operation.
type ApprovalOp struct {
	Node         kernel.PeerID
	Epoch        int
	Kind         ApprovalOpKind
	Tree         entry.ID
	Key          entry.PublicKey
	ID           string // request: the ID answered; decide: the ID decided
	Approve      bool
	Result       string
	List         []apRecord
	Call, Return int64
	Unknown      bool
}

type apRecord struct {
	ID     string
	Tree   entry.ID
	Key    entry.PublicKey
	Status kernel.ApprovalStatus
}

// apState prints the model's state (records in arrival order) for
// comparing, hashing and the visualization.
func apState(recs []apRecord) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s %s %x %v\n", r.ID, r.Tree, r.Key[:4], r.Status)
	}
	return b.String()
}

// short keeps 4 bytes of a key: enough to tell the simulator's keys apart.
func short(k entry.PublicKey) entry.PublicKey {
	var s entry.PublicKey
	copy(s[:4], k[:4])
	return s
}

// recordRequest opens a request op when n steps a bootstrap that asks for
// access; its answer closes it (recordReply).
func (w *world) recordRequest(n *node, ev kernel.Event) {
	if !w.opts.RecordOps || w.prof.Adversarial {
		return
	}
	rv, ok := ev.(kernel.Received)
	if !ok || rv.Req == 0 {
		return
	}
	st, ok := rv.Msg.(kernel.SyncTree)
	if !ok || len(st.OurTips) != 0 || st.Resume != nil || st.RequestingKey.IsZero() || st.RequestedPermission == nil ||
		st.RequestingKeyName == nil || *st.RequestingKeyName == "" {
		return
	}
	n.aops[apReq(rv.Req)] = len(w.aops)
	w.aops = append(w.aops, ApprovalOp{Node: n.id, Epoch: n.epoch, Kind: ApRequest, Tree: st.TreeID,
		Key: short(st.RequestingKey), Call: w.opTick(), Return: -1})
}

// recordReply closes the request op env answers, or drops it when the
// answer is not the registry's (the bootstrap was served, or refused
// before the registry was asked).
func (w *world) recordReply(n *node, env kernel.Envelope) {
	i, ok := n.aops[apReq(env.Reply)]
	if env.Reply == 0 || !ok {
		return
	}
	delete(n.aops, apReq(env.Reply))
	op := &w.aops[i]
	op.Return = w.opTick()
	switch m := env.Msg.(type) {
	case kernel.BootstrapPending:
		op.Result, op.ID = apPending, m.RequestID
	case kernel.ErrorResponse:
		switch {
		case strings.HasPrefix(m.Message, "Bootstrap request rejected"):
			op.Result = apRejected
		case strings.HasPrefix(m.Message, "Busy: ") && strings.Contains(m.Message, "pending approval"):
			op.Result = apBusy
		case strings.HasPrefix(m.Message, "Storage failure"):
			op.Result = apFailed
		}
	}
	if op.Result == "" {
		op.Kind = 0 // not a registry operation: dropped at the check
	}
}

// recordDecide opens a decide op; recordDecided closes it.
func (w *world) recordDecide(n *node, ref kernel.Ref, id string, approve bool) {
	if !w.opts.RecordOps || w.prof.Adversarial {
		return
	}
	n.aops[apDec(ref)] = len(w.aops)
	w.aops = append(w.aops, ApprovalOp{Node: n.id, Epoch: n.epoch, Kind: ApDecide, ID: id, Approve: approve, Call: w.opTick(), Return: -1})
}

func (w *world) recordDecided(n *node, no kernel.Notice) {
	i, ok := n.aops[apDec(no.Ref)]
	if !ok {
		return
	}
	delete(n.aops, apDec(no.Ref))
	op := &w.aops[i]
	op.Return = w.opTick()
	switch {
	case no.Err == "":
		op.Result = apOK
	case strings.HasPrefix(no.Err, "Bootstrap request not found"):
		op.Result = apNotFound
	case strings.Contains(no.Err, "is already being decided"):
		op.Result = apDeciding
	case strings.Contains(no.Err, "is already"):
		op.Result = apAlready
	default:
		op.Result = apFailed
	}
}

// recordList reads n's registry.
func (w *world) recordList(n *node) {
	if !w.opts.RecordOps || w.prof.Adversarial {
		return
	}
	var recs []apRecord
	for _, r := range n.m.Approvals() {
		recs = append(recs, apRecord{ID: r.ID, Tree: r.Tree, Key: short(r.Key), Status: r.Status})
	}
	now := w.opTick()
	w.aops = append(w.aops, ApprovalOp{Node: n.id, Epoch: n.epoch, Kind: ApList, List: recs, Call: now, Return: now})
}

// unknownApprovals marks the open registry ops of a crashed node as of
// unknown outcome, settled at the crash.
func (w *world) unknownApprovals(n *node) {
	now := w.opTick()
	for _, k := range slices.Sorted(maps.Keys(n.aops)) {
		op := &w.aops[n.aops[k]]
		op.Unknown, op.Return = true, now
	}
	clear(n.aops)
}

// apReq and apDec key a node's open registry ops by request or Ref.
func apReq(r kernel.ReqID) uint64 { return uint64(r) << 1 }
func apDec(r kernel.Ref) uint64   { return uint64(r)<<1 | 1 }

// CheckApprovals checks the recorded registry operations; a violation's
// visualization goes to vizDir when set.
func CheckApprovals(ops []ApprovalOp, approvalsMax int, vizDir string) (histories, checked int, err error) {
	type part struct {
		node  kernel.PeerID
		epoch int
	}
	byPart := map[part][]ApprovalOp{}
	var order []part
	for _, op := range ops {
		if op.Kind == 0 || op.Return < 0 && !op.Unknown {
			continue // not a registry op, or still open at the run's end
		}
		k := part{op.Node, op.Epoch}
		if _, ok := byPart[k]; !ok {
			order = append(order, k)
		}
		byPart[k] = append(byPart[k], op)
	}
	for _, k := range order {
		hist := resolveApprovalUnknowns(byPart[k])
		if len(hist) == 0 {
			continue
		}
		histories++
		checked += len(hist)
		pops := make([]porcupine.Operation, len(hist))
		for i, op := range hist {
			pops[i] = porcupine.Operation{Input: op, Call: op.Call, Output: op.Result, Return: op.Return}
		}
		linLanes(pops)
		model := approvalModel(approvalsMax)
		switch porcupine.CheckOperationsTimeout(model, pops, linTimeout) {
		case porcupine.Illegal:
			return histories, checked, approvalViolation(model, pops, k.node, k.epoch, vizDir)
		case porcupine.Unknown:
			return histories, checked, fmt.Errorf("approval registry of %s (epoch %d): porcupine could not decide %d operations within %v (inconclusive, never a pass)",
				k.node, k.epoch, len(pops), linTimeout)
		}
	}
	return histories, checked, nil
}

// resolveApprovalUnknowns decides each unknown op from the first list
// after it: a request took effect when a pending record for its key that
// no earlier list showed is listed; a decision when its record is listed
// decided. Without a later list, an unknown op is dropped (nothing after
// it can tell).
func resolveApprovalUnknowns(ops []ApprovalOp) []ApprovalOp {
	var out []ApprovalOp
	for _, op := range ops {
		if !op.Unknown {
			out = append(out, op)
			continue
		}
		var seen map[string]bool
		var after *ApprovalOp
		for j := range ops {
			if ops[j].Kind == ApList && ops[j].Call < op.Call {
				seen = map[string]bool{}
				for _, r := range ops[j].List {
					seen[r.ID] = true
				}
			}
			if ops[j].Kind == ApList && ops[j].Call > op.Return && after == nil {
				after = &ops[j]
			}
		}
		if after == nil {
			continue
		}
		op.Result = apNone
		for _, r := range after.List {
			switch {
			case op.Kind == ApRequest && r.Tree == op.Tree && r.Key == op.Key && r.Status == kernel.ApprovalPending && !seen[r.ID]:
				op.Result, op.ID = apPending, r.ID
			case op.Kind == ApDecide && r.ID == op.ID && r.Status != kernel.ApprovalPending:
				op.Result = apOK
			}
		}
		out = append(out, op)
	}
	return out
}

func approvalModel(approvalsMax int) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return []apRecord(nil) },
		Step: func(state, input, output any) (bool, any) {
			return apStep(state.([]apRecord), input.(ApprovalOp), output.(string), approvalsMax)
		},
		Equal: func(a, b any) bool { return slices.Equal(a.([]apRecord), b.([]apRecord)) },
		Hash: func(a any) uint64 {
			h := fnv.New64a()
			h.Write([]byte(apState(a.([]apRecord))))
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			op := input.(ApprovalOp)
			switch op.Kind {
			case ApRequest:
				return fmt.Sprintf("request(%x) -> %s %s", op.Key[:4], output, op.ID)
			case ApDecide:
				return fmt.Sprintf("decide(%s, approve=%t) -> %s", op.ID, op.Approve, output)
			}
			return fmt.Sprintf("list() -> %v", op.List)
		},
		DescribeState: func(state any) string { return strings.ReplaceAll(apState(state.([]apRecord)), "\n", "; ") },
	}
}

// apStep is one sequential step of the model (see the top of this file).
func apStep(recs []apRecord, op ApprovalOp, res string, limit int) (bool, []apRecord) {
	if res == apNone || res == apFailed {
		return true, recs
	}
	find := func(pred func(apRecord) bool) int { return slices.IndexFunc(recs, pred) }
	switch op.Kind {
	case ApList:
		return slices.Equal(recs, op.List), recs
	case ApDecide:
		i := find(func(r apRecord) bool { return r.ID == op.ID })
		switch {
		case res == apNotFound:
			return i < 0, recs
		case i < 0:
			return false, recs
		case res == apAlready:
			return recs[i].Status != kernel.ApprovalPending, recs
		case res == apDeciding:
			// The other decision is not visible until durable: the record
			// is still pending, and this one changes nothing.
			return recs[i].Status == kernel.ApprovalPending, recs
		case res == apOK && recs[i].Status == kernel.ApprovalPending:
			next := slices.Clone(recs)
			next[i].Status = kernel.ApprovalRejected
			if op.Approve {
				next[i].Status = kernel.ApprovalApproved
			}
			return true, next
		}
		return false, recs
	}
	mine := func(st kernel.ApprovalStatus) int {
		return find(func(r apRecord) bool { return r.Tree == op.Tree && r.Key == op.Key && r.Status == st })
	}
	if i := mine(kernel.ApprovalPending); i >= 0 {
		return res == apPending && recs[i].ID == op.ID, recs
	}
	if mine(kernel.ApprovalRejected) >= 0 {
		return res == apRejected, recs
	}
	next := slices.Clone(recs)
	if len(next) >= limit {
		evict := find(func(r apRecord) bool { return r.Status != kernel.ApprovalPending })
		if evict < 0 {
			return res == apBusy, recs
		}
		next = slices.Delete(next, evict, evict+1)
	}
	if res != apPending || find(func(r apRecord) bool { return r.ID == op.ID }) >= 0 {
		return false, recs
	}
	return true, append(next, apRecord{ID: op.ID, Tree: op.Tree, Key: op.Key, Status: kernel.ApprovalPending})
}

func approvalViolation(model porcupine.Model, ops []porcupine.Operation, node kernel.PeerID, epoch int, vizDir string) error {
	msg := fmt.Sprintf("approval registry of %s (epoch %d): %d operations are not linearizable (one decision per request, durable, deduplicated, bounded)",
		node, epoch, len(ops))
	if vizDir == "" {
		return &LinearViolation{Node: node, Msg: msg}
	}
	_, info := porcupine.CheckOperationsVerbose(model, ops, 10*linTimeout)
	f, err := os.CreateTemp(vizDir, fmt.Sprintf("eidsync-approvals-%s-*.html", node))
	if err == nil {
		err = porcupine.Visualize(model, info, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return &LinearViolation{Node: node, Msg: msg + fmt.Sprintf(" (visualization not written: %v)", err)}
	}
	return &LinearViolation{Node: node, Msg: msg + "; visualization: " + f.Name(), Viz: f.Name()}
}
