package kernel_test

import (
	"errors"
	"testing"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"github.com/eidsync/eidsync/sim"
)

// TestRefusedInputChangesNothing: every input Step refuses returns a
// specific error and leaves the machine exactly as it was: same status, no
// effect queued (STYLE.md 2.2, compute then apply).
func TestRefusedInputChangesNothing(t *testing.T) {
	env := sim.NewQuietEnv()
	p1, _ := env.AddMachine("p1", nil)
	p2, _ := env.AddMachine("p2", nil)
	var blobs []kernel.Blob
	for _, line := range []string{"t1", "e1: t1", "e2: e1"} {
		b, err := env.Entry(p1, line)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	env.Commit(p1, blobs...)
	env.Sync(p2, p1, blobs[0].ID)
	if err := env.Stabilize(100); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Entry(p1, "u1: e2"); err != nil {
		t.Fatal(err)
	}
	orphan, _ := env.Entry(p1, "u2: u1")
	lying := blobs[2]
	lying.ID = blobs[1].ID // data of e2 under the ID of e1
	flood := make([]entry.ID, p1.Config.Wire.IDsMax+1)
	for i := range flood {
		flood[i] = blobs[0].ID
	}
	tests := []struct {
		name string
		ev   kernel.Event
		want error
	}{
		{"reply to nothing", kernel.Received{From: "p2", InReplyTo: 999, Msg: kernel.Ack{}}, kernel.ErrUnknownSeq},
		{"request and reply at once", kernel.Received{From: "p2", Req: 7, InReplyTo: 1, Msg: kernel.Ack{}}, kernel.ErrMalformed},
		{"neither request nor reply", kernel.Received{From: "p2", Msg: kernel.Ack{}}, kernel.ErrMalformed},
		{"no message", kernel.Received{From: "p2", Req: 7}, kernel.ErrMalformed},
		{"a response sent as a request", kernel.Received{From: "p2", Req: 7, Msg: kernel.Count{N: 3}}, kernel.ErrMalformed},
		{"flood of tips", kernel.Received{From: "p2", Req: 7, Msg: kernel.SyncTree{TreeID: blobs[0].ID, OurTips: flood}}, kernel.ErrMessageTooLarge},
		{"send failure of nothing", kernel.SendFailed{Seq: 999}, kernel.ErrUnknownSeq},
		{"persisted of nothing", kernel.Persisted{Seq: 999}, kernel.ErrUnknownSeq},
		{"persist failure of nothing", kernel.PersistFailed{Seq: 999}, kernel.ErrUnknownSeq},
		{"loaded of nothing", kernel.Loaded{Seq: 999}, kernel.ErrUnknownSeq},
		{"load failure of nothing", kernel.LoadFailed{Seq: 999}, kernel.ErrUnknownSeq},
		{"commit whose data is not its ID", kernel.Committed{Ref: 1, Blob: lying}, kernel.ErrInvalidEntry},
		{"commit with a parent not stored", kernel.Committed{Ref: 1, Blob: orphan}, kernel.ErrInvalidEntry},
		{"commit of garbage", kernel.Committed{Ref: 1, Blob: kernel.Blob{Data: []byte{0xa0}}}, kernel.ErrInvalidEntry},
		{"sync without a peer", kernel.SyncAsked{Ref: 1, Tree: blobs[0].ID}, kernel.ErrMalformed},
		{"sync without a tree", kernel.SyncAsked{Ref: 1, Peer: "p2"}, kernel.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := kernel.DescribeStatus(p1.ID, p1.M.Status(), env.Name)
			err := p1.M.Step(tc.ev)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if after := kernel.DescribeStatus(p1.ID, p1.M.Status(), env.Name); after != before {
				t.Fatalf("status changed:\n%s\n%s", before, after)
			}
			if p1.M.HasReady() {
				t.Fatalf("refused input queued effects: %s", kernel.DescribeReady(p1.ID, p1.M.Ready(), env.Name))
			}
		})
	}
}
