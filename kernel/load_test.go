package kernel_test

import (
	"testing"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/sim"
)

// TestStreamedLoadFollowsFit: a streamed bootstrap loads about what one
// message holds, not Wire.EntriesMax each time. It loaded 50,000 entries
// per answer of ~3,300, so a 100k-entry bootstrap read and hashed every
// entry about ten times on the server.
func TestStreamedLoadFollowsFit(t *testing.T) {
	env := sim.NewQuietEnv()
	chain, err := env.Chain("t1", "e", 3000, 192)
	if err != nil {
		t.Fatal(err)
	}
	// About 80 entries of 485 wire bytes fit a message.
	srv, err := env.AddMachine("srv", func(c *kernel.Config) { c.Wire.MessageBytesMax, c.Wire.Entry.EntryBytesMax = 40_000, 4_000 })
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Preload(srv, chain[0].ID, chain); err != nil {
		t.Fatal(err)
	}
	var resume *uint64
	got, prev := 0, 0
	for req := kernel.ReqID(1); got < len(chain); req++ {
		if req > 200 {
			t.Fatalf("no progress: %d of %d entries after %d requests", got, len(chain), req)
		}
		msg := kernel.SyncTree{TreeID: chain[0].ID, Resume: resume}
		if err := srv.M.Step(kernel.Received{From: "asker", Req: req, Version: kernel.ProtocolV1, Msg: msg}); err != nil {
			t.Fatal(err)
		}
		rd := srv.M.Ready()
		if len(rd.Load) != 1 {
			t.Fatalf("request %d: %d loads, want 1", req, len(rd.Load))
		}
		asked := len(rd.Load[0].IDs)
		if err := srv.M.Step(kernel.Loaded{Seq: rd.Load[0].Seq, Blobs: srv.Store.Read(rd.Load[0])}); err != nil {
			t.Fatal(err)
		}
		rd = srv.M.Ready()
		if len(rd.Send) != 1 {
			t.Fatalf("request %d: %d sends, want 1", req, len(rd.Send))
		}
		var sent []kernel.Blob
		var cont kernel.Continuation
		switch r := rd.Send[0].Msg.(type) {
		case kernel.BootstrapResponse:
			sent, cont = append([]kernel.Blob{r.RootEntry}, r.AllEntries...), r.Continuation
		case kernel.IncrementalResponse:
			sent, cont = r.MissingEntries, r.Continuation
		default:
			t.Fatalf("request %d: answer %T", req, r)
		}
		for i, b := range sent {
			if b.ID != chain[got+i].ID {
				t.Fatalf("request %d: entry %d is not the stream's %d", req, i, got+i)
			}
		}
		got += len(sent)
		// The first load is a guess; after it, at most a quarter more than
		// the last answer carried, plus one.
		if req > 1 && asked > prev+prev/4+1 {
			t.Errorf("request %d: loaded %d entries after an answer of %d", req, asked, prev)
		}
		prev = len(sent)
		if !cont.More {
			break
		}
		resume = cont.Resume
	}
	if got != len(chain) {
		t.Fatalf("streamed %d of %d entries", got, len(chain))
	}
}
