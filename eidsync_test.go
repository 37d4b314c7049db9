package eidsync_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eidsync/eidsync"
	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/adapters/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, opts eidsync.Options) *eidsync.Instance {
	t.Helper()
	inst, err := eidsync.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Close(context.Background()) })
	return inst
}

// serving opens an in-memory node that accepts HTTP on an OS-chosen port.
func serving(t *testing.T) (*eidsync.Instance, string) {
	t.Helper()
	ctx := context.Background()
	inst := open(t, eidsync.Options{InMemory: true})
	if err := inst.EnableSync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inst.RegisterTransport(ctx, "http", httpadapter.Builder{Bind: "127.0.0.1:0", RequestTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	addrs, err := inst.AcceptConnections(ctx)
	if err != nil || len(addrs) != 1 {
		t.Fatalf("AcceptConnections: %v %v", addrs, err)
	}
	return inst, addrs[0]
}

// TestQuickStart is the package doc's quick start, end to end in memory.
func TestQuickStart(t *testing.T) {
	ctx := context.Background()
	a, addrA := serving(t)
	b, _ := serving(t)
	db, err := a.CreateDatabase(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewTransaction().Set("todo", "milk", "2 litres").Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewTransaction().Put("blob", []byte{1, 2, 3}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The database is private: B asks for access, A's admin approves.
	_, err = b.SyncWithPeer(ctx, addrA, db.ID(), eidsync.RequestAccess("b-laptop", eidsync.PermWrite(10)))
	var pending *eidsync.BootstrapPendingError
	if !errors.As(err, &pending) {
		t.Fatalf("first sync: %v, want BootstrapPendingError", err)
	}
	reqs, err := a.BootstrapRequests(ctx)
	if err != nil || len(reqs) != 1 || reqs[0].ID != pending.RequestID || reqs[0].Status != "Pending" {
		t.Fatalf("requests on A: %+v %v", reqs, err)
	}
	if err := a.ApproveRequest(ctx, pending.RequestID); err != nil {
		t.Fatal(err)
	}
	res, err := b.SyncWithPeer(ctx, addrA, db.ID())
	if err != nil {
		t.Fatal(err)
	}
	if res.Pulled != 4 { // root, two commits, the grant
		t.Fatalf("pulled %d, want 4", res.Pulled)
	}
	copyOnB, err := b.OpenDatabase(ctx, db.ID())
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := copyOnB.GetKey(ctx, "todo", "milk")
	if err != nil || !ok || v != "2 litres" {
		t.Fatalf("B reads %q %v %v", v, ok, err)
	}
	// B writes, syncs back: A gets it, and both agree on the tips.
	if _, err := copyOnB.NewTransaction().Set("todo", "eggs", "6").Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := b.SyncWithPeer(ctx, addrA, db.ID()); err != nil || res.Pushed != 1 {
		t.Fatalf("push back: %+v %v", res, err)
	}
	ia, _ := db.Info(ctx)
	ib, _ := copyOnB.Info(ctx)
	if ia.Entries != 5 || ib.Entries != 5 || len(ia.Tips) != 1 || ia.Tips[0] != ib.Tips[0] {
		t.Fatalf("A %+v B %+v", ia, ib)
	}
}

func TestTypedErrors(t *testing.T) {
	ctx := context.Background()
	inst := open(t, eidsync.Options{InMemory: true})
	db, err := inst.CreateDatabase(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.SyncWithPeer(ctx, "127.0.0.1:1", db.ID()); !errors.Is(err, eidsync.ErrSyncDisabled) {
		t.Fatalf("sync before EnableSync: %v", err)
	}
	if _, err := inst.AcceptConnections(ctx); !errors.Is(err, eidsync.ErrSyncDisabled) {
		t.Fatalf("accept before EnableSync: %v", err)
	}
	if err := inst.EnableSync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.SyncWithPeer(ctx, "127.0.0.1:1", db.ID()); !errors.As(err, new(*eidsync.SyncError)) {
		t.Fatalf("sync with no transport: %v", err)
	}
	if err := inst.RegisterTransport(ctx, "http", httpadapter.Builder{ConnectTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = inst.SyncWithPeer(ctx, "127.0.0.1:1", db.ID())
	var se *eidsync.SyncError
	if !errors.As(err, &se) || time.Since(start) > 5*time.Second {
		t.Fatalf("sync with a dead peer: %v after %v", err, time.Since(start))
	}
	if _, err := inst.CreateDatabase(ctx, ""); !errors.Is(err, eidsync.ErrInvalidArgument) {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := db.NewTransaction().Put("_root", []byte{1}).Commit(ctx); !errors.Is(err, eidsync.ErrInvalidArgument) {
		t.Fatalf("reserved store: %v", err)
	}
	if _, err := inst.OpenDatabase(ctx, db.ID()); err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewTransaction().Put("a", []byte{1}).Commit(ctx); !errors.Is(err, eidsync.ErrClosed) {
		t.Fatalf("commit after Close: %v", err)
	}
	if err := inst.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestDataDirLockedAndReopen: a second Open of a directory in use fails at
// once saying so; after Close, a reopen finds every committed entry.
func TestDataDirLockedAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	first, err := eidsync.Open(ctx, eidsync.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db, _ := first.CreateDatabase(ctx, "kept")
	ids, err := db.AppendMany(ctx, "log", [][]byte{[]byte("a"), []byte("b"), []byte("c")})
	if err != nil || len(ids) != 3 {
		t.Fatalf("AppendMany: %v %v", ids, err)
	}
	if _, err := eidsync.Open(ctx, eidsync.Options{DataDir: dir, StoreLockTimeout: 100 * time.Millisecond}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: %v", err)
	}
	id := first.ID()
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again := open(t, eidsync.Options{DataDir: dir})
	if again.ID() != id {
		t.Fatal("the device key changed across a restart")
	}
	kept, err := again.OpenDatabase(ctx, db.ID())
	if err != nil {
		t.Fatal(err)
	}
	if last, err := kept.Get(ctx, "log"); err != nil || string(last) != "c" {
		t.Fatalf("after reopen: %q %v", last, err)
	}
	info, _ := kept.Info(ctx)
	if info.Entries != 4 || info.Name != "kept" || len(info.Tips) != 1 || info.Tips[0] != ids[2] {
		t.Fatalf("after reopen: %+v", info)
	}
}

// TestAccessControl: a private database refuses a stranger and a reader
// what they may not do, each with a typed error, and Grant works.
func TestAccessControl(t *testing.T) {
	ctx := context.Background()
	a, addrA := serving(t)
	b, _ := serving(t)
	db, err := a.CreateDatabase(ctx, "private")
	if err != nil {
		t.Fatal(err)
	}
	var serr *eidsync.SyncError
	if _, err := b.SyncWithPeer(ctx, addrA, db.ID()); !errors.As(err, &serr) {
		t.Fatalf("stranger sync: %v, want a SyncError (refused)", err)
	}
	bKey := b.ID()
	if err := db.Grant(ctx, bKey, "b", eidsync.PermRead); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SyncWithPeer(ctx, addrA, db.ID()); err != nil {
		t.Fatalf("reader sync: %v", err)
	}
	onB, _ := b.OpenDatabase(ctx, db.ID())
	if _, err := onB.NewTransaction().Put("x", []byte("y")).Commit(ctx); !errors.Is(err, eidsync.ErrPermissionDenied) {
		t.Fatalf("reader commit: %v, want ErrPermissionDenied", err)
	}
	if err := onB.Grant(ctx, bKey, "me", eidsync.PermAdmin(0)); !errors.Is(err, eidsync.ErrPermissionDenied) {
		t.Fatalf("reader grant: %v, want ErrPermissionDenied", err)
	}
	acc, err := db.Access(ctx)
	if err != nil || acc.Open || acc.Public != nil || len(acc.Keys) != 2 {
		t.Fatalf("access: %+v %v", acc, err)
	}
	if err := a.ApproveRequest(ctx, "nope"); !errors.Is(err, eidsync.ErrRequestNotFound) {
		t.Fatalf("approve unknown: %v", err)
	}
	if _, err := b.SyncWithPeer(ctx, addrA, db.ID(), eidsync.RequestAccess("", eidsync.PermRead)); !errors.Is(err, eidsync.ErrInvalidArgument) {
		t.Fatalf("RequestAccess without a name: %v", err)
	}
	pub, err := a.CreateDatabase(ctx, "public", eidsync.Public(eidsync.PermRead))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SyncWithPeer(ctx, addrA, pub.ID()); err != nil {
		t.Fatalf("public sync: %v", err)
	}
}

// TestStatusPeersNotContacted: after a restart, a relation restored from
// the store is listed under its peer although nothing was exchanged with
// the peer since (it used to be omitted until the first contact).
func TestStatusPeersNotContacted(t *testing.T) {
	ctx := context.Background()
	a, addrA := serving(t)
	db, err := a.CreateDatabase(ctx, "shared", eidsync.Public(eidsync.PermRead))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "b")
	b, err := eidsync.Open(ctx, eidsync.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.EnableSync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.RegisterTransport(ctx, "http", httpadapter.Builder{RequestTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SyncWithPeer(ctx, addrA, db.ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again := open(t, eidsync.Options{DataDir: dir})
	st, err := again.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Peers) != 1 {
		t.Fatalf("peers after restart: %+v, want the one relation's peer", st.Peers)
	}
	p := st.Peers[0]
	if string(p.Peer) != addrA || p.Contacted || p.Handshaken || len(p.Relations) != 1 || p.Relations[0].Tree != db.ID() || p.Relations[0].State != "idle" {
		t.Fatalf("peer after restart: %+v", p)
	}
}
