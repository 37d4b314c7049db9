package sim

import (
	"testing"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// TestApprovalModel checks hand-made registry histories: good ones pass,
// and each bad one (two IDs for one pending key, two decisions for one
// request, a decision lost at a restart, a queue past its bound) fails.
func TestApprovalModel(t *testing.T) {
	tree := entry.IDOf([]byte("tree"))
	k1, k2 := entry.PublicKey{1}, entry.PublicKey{2}
	req := func(c, r int64, k entry.PublicKey, res, id string) ApprovalOp {
		return ApprovalOp{Node: "n1", Kind: ApRequest, Tree: tree, Key: k, Result: res, ID: id, Call: c, Return: r}
	}
	dec := func(c, r int64, id string, approve bool, res string) ApprovalOp {
		return ApprovalOp{Node: "n1", Kind: ApDecide, ID: id, Approve: approve, Result: res, Call: c, Return: r}
	}
	list := func(at int64, recs ...apRecord) ApprovalOp {
		return ApprovalOp{Node: "n1", Kind: ApList, List: recs, Call: at, Return: at}
	}
	rec := func(id string, k entry.PublicKey, st kernel.ApprovalStatus) apRecord {
		return apRecord{ID: id, Tree: tree, Key: k, Status: st}
	}
	cases := []struct {
		name string
		ok   bool
		ops  []ApprovalOp
	}{
		{"request, duplicate, approve", true, []ApprovalOp{req(1, 3, k1, apPending, "a"), req(2, 4, k1, apPending, "a"),
			dec(5, 8, "a", true, apOK), dec(6, 7, "a", false, apDeciding), list(9, rec("a", k1, kernel.ApprovalApproved))}},
		{"rejected is remembered", true, []ApprovalOp{req(1, 2, k1, apPending, "a"), dec(3, 4, "a", false, apOK),
			req(5, 6, k1, apRejected, ""), dec(7, 8, "a", true, apAlready)}},
		{"bounded: busy, then eviction of a decided one", true, []ApprovalOp{req(1, 2, k1, apPending, "a"),
			req(3, 4, k2, apBusy, ""), dec(5, 6, "a", true, apOK), req(7, 8, k2, apPending, "b"), list(9, rec("b", k2, kernel.ApprovalPending))}},
		{"unknown request resolved absent", true, []ApprovalOp{{Node: "n1", Kind: ApRequest, Tree: tree, Key: k1, Call: 1, Return: 2, Unknown: true},
			list(3)}},
		{"two IDs for one pending key", false, []ApprovalOp{req(1, 2, k1, apPending, "a"), req(3, 4, k1, apPending, "b")}},
		{"two decisions", false, []ApprovalOp{req(1, 2, k1, apPending, "a"), dec(3, 4, "a", true, apOK), dec(5, 6, "a", false, apOK)}},
		{"decision lost", false, []ApprovalOp{req(1, 2, k1, apPending, "a"), dec(3, 4, "a", true, apOK), list(5, rec("a", k1, kernel.ApprovalPending))}},
		{"busy with a decided record to evict", false, []ApprovalOp{req(1, 2, k1, apPending, "a"), dec(3, 4, "a", true, apOK), req(5, 6, k2, apBusy, "")}},
		{"decide an unknown request", false, []ApprovalOp{dec(1, 2, "zz", true, apOK)}},
	}
	for _, c := range cases {
		_, _, err := CheckApprovals(c.ops, 1, "")
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
