package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// fixture is two trees: a has a fork and a merge, b a single child.
type fixture struct {
	a, a1, a2, a3, a4 kernel.Blob // a1 <- a2, a1 <- a3, (a2, a3) <- a4
	b, b1             kernel.Blob
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	var f fixture
	f.a = newRoot(t, 1)
	f.a1 = newChild(t, f.a.ID, payloadOf(1), f.a)
	f.a2 = newChild(t, f.a.ID, payloadOf(2), f.a1)
	f.a3 = newChild(t, f.a.ID, payloadOf(3), f.a1)
	f.a4 = newChild(t, f.a.ID, payloadOf(4), f.a2, f.a3)
	f.b = newRoot(t, 2)
	f.b1 = newChild(t, f.b.ID, payloadOf(5), f.b)
	return f
}

func (f fixture) writes() []kernel.Write {
	return []kernel.Write{
		{Seq: 1, Tree: f.a.ID, Blobs: []kernel.Blob{f.a, f.a1, f.a2, f.a3}},
		{Seq: 2, Tree: f.b.ID, Blobs: []kernel.Blob{f.b, f.b1}},
		{Seq: 3, Tree: f.a.ID, Blobs: []kernel.Blob{f.a4}},
	}
}

func (f fixture) state() kernel.State {
	return kernel.State{Trees: []kernel.TreeState{
		{Root: f.a.ID, Entries: indexedOf(f.a, f.a1, f.a2, f.a3, f.a4)},
		{Root: f.b.ID, Entries: indexedOf(f.b, f.b1)},
	}}
}

func TestApplyReadState(t *testing.T) {
	s, f := openTemp(t), newFixture(t)
	mustApply(t, s, f.writes()...)

	if got := mustState(t, s); !equalState(got, f.state()) {
		t.Fatalf("state:\n got %v\nwant %v", got, f.state())
	}
	unknown := entry.IDOf([]byte("never stored"))
	got, err := s.Read(kernel.Read{Seq: 9, Tree: f.a.ID, IDs: []entry.ID{f.a4.ID, unknown, f.a.ID, f.b1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	want := []kernel.Blob{f.a4, f.a, f.b1}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("read IDs %v, want %v", ids(got), ids(want))
	}
	for i, b := range got {
		again, err := entry.EncodeCBOR(b.Entry)
		if err != nil || !bytes.Equal(b.Data, want[i].Data) || !bytes.Equal(again, b.Data) {
			t.Fatalf("read %s: data or decoded entry differs (%v)", b.ID, err)
		}
	}
	// NB: writing to bbolt's read-only mmap would crash: Data is a copy.
	clear(got[0].Data)
	if again, _ := s.Read(kernel.Read{IDs: []entry.ID{f.a4.ID}}); !bytes.Equal(again[0].Data, f.a4.Data) {
		t.Fatal("Read returned memory shared with the store")
	}
	if trees, err := s.Trees(); err != nil || !slices.Equal(trees, []entry.ID{f.a.ID, f.b.ID}) {
		t.Fatalf("trees %v, %v", trees, err)
	}
}

func TestApplyIdempotent(t *testing.T) {
	s, f := openTemp(t), newFixture(t)
	mustApply(t, s, f.writes()...)
	before := mustState(t, s)

	mustApply(t, s, f.writes()...)
	// A write may repeat an entry of its own batch or of its own blobs.
	mustApply(t, s, kernel.Write{Tree: f.a.ID, Blobs: []kernel.Blob{f.a4, f.a4, f.a}},
		kernel.Write{Tree: f.a.ID, Blobs: []kernel.Blob{f.a4}})
	if after := mustState(t, s); !equalState(after, before) {
		t.Fatalf("state changed:\n got %v\nwant %v", after, before)
	}
	if n, _ := s.Count(f.a.ID); n != 5 {
		t.Fatalf("count %d, want 5", n)
	}

	// Duplicates inside one new batch are stored once.
	c := newRoot(t, 3)
	c1 := newChild(t, c.ID, payloadOf(6), c)
	mustApply(t, s, kernel.Write{Tree: c.ID, Blobs: []kernel.Blob{c, c1, c1}},
		kernel.Write{Tree: c.ID, Blobs: []kernel.Blob{c, c1}})
	if n, _ := s.Count(c.ID); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	if err := s.Apply(nil); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRefusesWholeBatch(t *testing.T) {
	f := newFixture(t)
	c := newRoot(t, 3)
	c1 := newChild(t, c.ID, payloadOf(6), c)
	d := newRoot(t, 4)
	d1 := newChild(t, d.ID, payloadOf(9), d)
	orphan := newChild(t, f.a.ID, payloadOf(7), newChild(t, f.a.ID, payloadOf(8), f.a))
	forged := f.a4
	forged.Data = f.a3.Data
	noEntry := c1
	noEntry.Entry = nil
	d1NoEntry := d1
	d1NoEntry.Entry = nil

	tests := []struct {
		name string
		bad  kernel.Write
		want string
	}{
		{"missing parent", kernel.Write{Tree: f.a.ID, Blobs: []kernel.Blob{orphan}}, "is not stored"},
		{"missing parent in a new tree", kernel.Write{Tree: d.ID, Blobs: []kernel.Blob{d1}}, "is not stored"},
		{"ID does not match data", kernel.Write{Tree: f.a.ID, Blobs: []kernel.Blob{forged}}, "hashes to"},
		{"entry of another tree", kernel.Write{Tree: f.b.ID, Blobs: []kernel.Blob{f.a4}}, "belongs to tree"},
		{"new tree without its root", kernel.Write{Tree: d.ID, Blobs: []kernel.Blob{f.b1}}, "belongs to tree"},
		{"root of another tree", kernel.Write{Tree: d.ID, Blobs: []kernel.Blob{f.b}}, "belongs to tree"},
		{"data that is not an entry", kernel.Write{Tree: d.ID, Blobs: []kernel.Blob{{ID: entry.IDOf([]byte{1}), Data: []byte{1}}}}, "entry"},
		{"child before parent", kernel.Write{Tree: d.ID, Blobs: []kernel.Blob{d1NoEntry, d}}, "not stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			mustApply(t, s, f.writes()[:2]...)
			before := mustState(t, s)
			// A good write of a new tree and one entry of an existing tree come first.
			good := []kernel.Write{f.writes()[2], {Tree: c.ID, Blobs: []kernel.Blob{c, noEntry}}}
			err := s.Apply(append(good, tt.bad))
			if !errors.Is(err, store.ErrRefused) || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "store: persist entry ") {
				t.Fatalf("err = %v, want ErrRefused mentioning %q", err, tt.want)
			}
			if after := mustState(t, s); !equalState(after, before) {
				t.Fatalf("refused batch changed the state:\n got %v\nwant %v", after, before)
			}
			for _, id := range []entry.ID{c.ID, c1.ID, f.a4.ID} {
				if has, _ := s.Has(id); has {
					t.Fatalf("refused batch stored %s", id)
				}
			}
			mustApply(t, s, good...) // the good part alone is accepted, and a nil Entry is decoded
		})
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eidsync.db")
	f := newFixture(t)
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, f.writes()...)
	if err := s.SetMeta("device-key", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	if s.Path() != path {
		t.Fatalf("path %q", s.Path())
	}
	if got := mustState(t, s); !equalState(got, f.state()) {
		t.Fatalf("state after reopen:\n got %v\nwant %v", got, f.state())
	}
	if v, err := s.Meta("device-key"); err != nil || string(v) != "secret" {
		t.Fatalf("meta after reopen %q, %v", v, err)
	}
	// The state restores a machine.
	cfg := kernel.DefaultConfig()
	cfg.DeviceKey = entry.NewPrivateKey([32]byte{1})
	if _, err := kernel.New(cfg, mustState(t, s)); err != nil {
		t.Fatalf("kernel.New from the store's state: %v", err)
	}
}

func TestEntriesCountHas(t *testing.T) {
	s := openTemp(t)
	c := chain(t, 7, 600, 16) // more than one read chunk
	for i := 0; i < len(c); i += 100 {
		mustApply(t, s, kernel.Write{Tree: c[0].ID, Blobs: c[i:min(i+100, len(c))]})
	}
	for _, from := range []uint64{0, 1, 255, 256, 300, 599, 600, 1000} {
		var seen []entry.ID
		err := s.Entries(c[0].ID, from, func(seq uint64, b kernel.Blob) error {
			if seq != from+uint64(len(seen)) || b.Entry == nil || !bytes.Equal(b.Data, c[seq].Data) {
				return fmt.Errorf("entry %d: bad seq, data or entry", seq)
			}
			seen = append(seen, b.ID)
			return nil
		})
		if want := ids(c[min(int(from), len(c)):]); err != nil || !slices.Equal(seen, want) {
			t.Fatalf("from %d: %d entries, want %d (%v)", from, len(seen), len(want), err)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Entries(c[0].ID, 0, func(uint64, kernel.Blob) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Fatalf("fn error: got %v after %d calls", err, calls)
	}
	unknown := entry.IDOf([]byte("no tree"))
	if err := s.Entries(unknown, 0, func(uint64, kernel.Blob) error { return stop }); err != nil {
		t.Fatalf("unknown tree: %v", err)
	}
	if n, err := s.Count(c[0].ID); n != 600 || err != nil {
		t.Fatalf("count %d, %v", n, err)
	}
	if n, err := s.Count(unknown); n != 0 || err != nil {
		t.Fatalf("count of unknown tree %d, %v", n, err)
	}
	if has, err := s.Has(c[599].ID); !has || err != nil {
		t.Fatalf("has stored: %v, %v", has, err)
	}
	if has, err := s.Has(unknown); has || err != nil {
		t.Fatalf("has unknown: %v, %v", has, err)
	}
}

// Entries calls fn outside any transaction, so fn may write, even enough to
// make bbolt grow and remap the file (which would deadlock inside a read).
func TestEntriesFnMayApply(t *testing.T) {
	s := openTemp(t)
	small, big := chain(t, 8, 300, 8), chain(t, 9, 300, 4000)
	mustApply(t, s, kernel.Write{Tree: small[0].ID, Blobs: small})
	visited := 0
	err := s.Entries(small[0].ID, 0, func(seq uint64, _ kernel.Blob) error {
		visited++
		return s.Apply([]kernel.Write{{Tree: big[0].ID, Blobs: big[seq : seq+1]}})
	})
	if n, _ := s.Count(big[0].ID); err != nil || visited != len(small) || n != len(big) {
		t.Fatalf("visited %d, stored %d, err %v", visited, n, err)
	}
}

func TestMeta(t *testing.T) {
	s := openTemp(t)
	if v, err := s.Meta("device-key"); v != nil || err != nil {
		t.Fatalf("absent key: %q, %v", v, err)
	}
	value := []byte("k1")
	if err := s.SetMeta("device-key", value); err != nil {
		t.Fatal(err)
	}
	value[0] = 'X' // the store kept a copy
	if v, err := s.Meta("device-key"); string(v) != "k1" || err != nil {
		t.Fatalf("got %q, %v", v, err)
	}
	if err := s.SetMeta("empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Meta("empty"); v == nil || len(v) != 0 || err != nil {
		t.Fatalf("empty value: %q (nil %t), %v", v, v == nil, err)
	}
	for _, key := range []string{"", "schema"} {
		if err := s.SetMeta(key, []byte("x")); err == nil {
			t.Fatalf("SetMeta(%q) accepted", key)
		}
	}
}

func TestClosed(t *testing.T) {
	s, f := openTemp(t), newFixture(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{
		"Apply":   s.Apply(f.writes()),
		"SetMeta": s.SetMeta("k", nil),
		"Entries": s.Entries(f.a.ID, 0, func(uint64, kernel.Blob) error { return nil }),
	}
	_, checks["Read"] = s.Read(kernel.Read{IDs: []entry.ID{f.a.ID}})
	_, checks["State"] = s.State()
	_, checks["Trees"] = s.Trees()
	_, checks["Count"] = s.Count(f.a.ID)
	_, checks["Has"] = s.Has(f.a.ID)
	_, checks["Meta"] = s.Meta("k")
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestRelationsRoundTrip: background-sync relation records are upserted by
// Apply and come back in State after a reopen.
func TestRelationsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rel.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	tree := entry.IDOf([]byte("tree"))
	recs := []kernel.RelationRecord{{Peer: "127.0.0.1:1", Tree: tree, Dirty: true, Attempts: 3}}
	if err := s.Apply([]kernel.Write{{Seq: 1, Relations: recs}}); err != nil {
		t.Fatal(err)
	}
	recs[0].Attempts, recs[0].GaveUp = 20, true
	if err := s.Apply([]kernel.Write{{Seq: 2, Relations: recs}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply([]kernel.Write{{Seq: 3, Relations: []kernel.RelationRecord{{Peer: "bad\x00peer", Tree: tree}}}}); !errors.Is(err, store.ErrRefused) {
		t.Fatalf("peer with a NUL: %v", err)
	}
	s.Close()
	if s, err = store.Open(path, store.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.State()
	if err != nil || len(st.Relations) != 1 || st.Relations[0] != recs[0] {
		t.Fatalf("State relations %+v, %v; want %+v", st.Relations, err, recs)
	}
}

// TestAccessRecordsRoundTrip: what the kernel's access control keeps
// durable comes back in State after a reopen: the _settings data and signer
// of entries that have some (and nothing for those that do not), bootstrap
// requests upserted and deleted by ID, and nonce floors upserted and
// deleted by key, with the global floor under the zero key.
func TestAccessRecordsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.db")
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	key := entry.NewPrivateKey([32]byte{7})
	settings := []byte(`{"auth":{"global":{"permissions":"Read","status":"Active"}}}`)
	root, err := entry.NewRoot(3).Store(entry.StoreNode{Name: entry.StoreSettings, Data: settings}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}).Build()
	rootBlob := blobOf(t, root, err)
	plain := newChild(t, rootBlob.ID, payloadOf(1), rootBlob)
	reqs := []kernel.ApprovalRequest{
		{ID: "r1", Tree: rootBlob.ID, Key: key.Public(), KeyName: "k", Requested: kernel.Permission{Level: kernel.PermRead}, Status: kernel.ApprovalPending, AtMs: 5},
		{ID: "r2", Tree: rootBlob.ID, Key: key.Public(), KeyName: "k2", Requested: kernel.Permission{Level: kernel.PermWrite, Priority: 3},
			Status: kernel.ApprovalApproved, Granted: kernel.Permission{Level: kernel.PermWrite, Priority: 4}, DecidedBy: key.Public(), AtMs: 6},
	}
	floors := []kernel.NonceFloor{{Key: key.Public(), Ms: 100}, {Ms: 50}}
	if err := s.Apply([]kernel.Write{{Seq: 1, Tree: rootBlob.ID, Blobs: []kernel.Blob{rootBlob, plain}},
		{Seq: 2, Approvals: reqs, NonceFloors: floors}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply([]kernel.Write{{Seq: 3, Approvals: []kernel.ApprovalRequest{{ID: "r1"}}, NonceFloors: []kernel.NonceFloor{{Key: key.Public()}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = store.Open(path, store.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	entries := st.Trees[0].Entries
	if !bytes.Equal(entries[0].Settings, settings) || entries[0].Signer != key.Public() || entries[1].Settings != nil {
		t.Fatalf("settings records: %+v", entries)
	}
	if len(st.Approvals) != 1 || st.Approvals[0].ID != "r2" || st.Approvals[0].Granted != reqs[1].Granted || st.Approvals[0].DecidedBy != key.Public() {
		t.Fatalf("approvals %+v", st.Approvals)
	}
	if len(st.NonceFloors) != 1 || st.NonceFloors[0] != (kernel.NonceFloor{Ms: 50}) {
		t.Fatalf("nonce floors %+v", st.NonceFloors)
	}
}
