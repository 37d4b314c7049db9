package eidsync_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eidsync/eidsync"
	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Attack tests over HTTP, one per weakness of the reference listed in
// PROTOCOL.md 11.1-11.4. Each plays an attacker that speaks the wire
// protocol by hand against a real node, and each would pass against the
// reference's behaviour (where the attack works) only if it failed here.

// post sends one request body to addr and decodes the answer.
func post(t *testing.T, addr string, version uint32, msg kernel.Message) kernel.Message {
	t.Helper()
	body, err := kernel.EncodeMessage(version, msg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+addr+"/api/v0", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	reply, err := kernel.DecodeResponse(buf.Bytes(), kernel.DefaultWireLimits())
	if err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, buf.String(), err)
	}
	return reply
}

func refusal(t *testing.T, reply kernel.Message, want string) {
	t.Helper()
	e, ok := reply.(kernel.ErrorResponse)
	if !ok || !strings.Contains(e.Message, want) {
		t.Fatalf("reply %#v, want an Error containing %q", reply, want)
	}
}

func newKey(t *testing.T) entry.PrivateKey {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		t.Fatal(err)
	}
	return entry.NewPrivateKey(seed)
}

func challenge() []byte {
	c := make([]byte, 32)
	_, _ = rand.Read(c)
	return c
}

// handshake is the attacker's handshake; it returns the node's key.
func handshake(t *testing.T, addr string, me entry.PrivateKey, listen string) entry.PublicKey {
	t.Helper()
	c := challenge()
	reply := post(t, addr, 1, kernel.Handshake{PublicKey: me.Public(), ProtocolVersion: 1, Challenge: c,
		ListenAddresses: []kernel.Address{{TransportType: "http", Address: listen}}})
	hr, ok := reply.(kernel.HandshakeResponse)
	if !ok {
		t.Fatalf("handshake: %#v", reply)
	}
	if len(hr.AvailableTrees) != 0 {
		t.Fatalf("the handshake lists %d trees to a stranger", len(hr.AvailableTrees))
	}
	return hr.PublicKey
}

// privateDB makes a private database with one entry on a serving node.
func privateDB(t *testing.T, inst *eidsync.Instance) *eidsync.Database {
	t.Helper()
	ctx := context.Background()
	db, err := inst.CreateDatabase(ctx, "secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewTransaction().Set("doc", "k", "v").Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// child builds an entry of tree on parent signed by key.
func child(t *testing.T, tree, parent entry.ID, key entry.PrivateKey, data string) kernel.Blob {
	t.Helper()
	e, err := entry.NewBuilder(tree).Parents(parent).Height(9).Store(entry.StoreNode{Name: "data", Data: []byte(data)}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: key.Public()}}).Build()
	if err == nil {
		err = entry.Sign(e, key)
	}
	if err != nil {
		t.Fatal(err)
	}
	raw, id, err := entry.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return kernel.Blob{ID: id, Data: raw, Entry: e}
}

// TestAttackSigningOracle (11.1): the reference signs any challenge with
// its device key. Here a challenge that is not 32 bytes (an entry's signing
// bytes, say) is refused, and a v1 answer signs the challenge under a
// domain, so the signature is not one over the attacker's bytes.
func TestAttackSigningOracle(t *testing.T) {
	a, addrA := serving(t)
	attacker := newKey(t)
	e := child(t, entry.IDOf([]byte("some tree")), entry.IDOf([]byte("some parent")), attacker, "forged as the device")
	signing, err := entry.SigningBytes(e.Entry)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := kernel.EncodeMessage(0, kernel.Handshake{PublicKey: attacker.Public(), Challenge: signing, ListenAddresses: []kernel.Address{}})
	if status := postRaw(t, addrA, body); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a %d-byte challenge: status %d, want 413", len(signing), status)
	}
	refusal(t, post(t, addrA, 0, kernel.Handshake{PublicKey: attacker.Public(), Challenge: signing[:48], ListenAddresses: []kernel.Address{}}),
		"Invalid challenge")
	c := challenge()
	reply := post(t, addrA, 1, kernel.Handshake{PublicKey: attacker.Public(), ProtocolVersion: 1, Challenge: c, ListenAddresses: []kernel.Address{}})
	hr := reply.(kernel.HandshakeResponse)
	if hr.PublicKey != a.ID() || hr.PublicKey.Verify(c, hr.ChallengeResponse) {
		t.Fatal("the v1 handshake answer is a signature over the raw challenge: a signing oracle")
	}
	if !hr.PublicKey.Verify(append([]byte("eidsync/handshake/v1"), c...), hr.ChallengeResponse) {
		t.Fatal("the v1 handshake answer does not verify under its domain")
	}
}

// TestAttackRelationshipSpoofing (11.2): in the reference a stranger that
// handshakes and names its key in a SyncTree becomes a peer that receives
// later commits. Here it gets nothing: no data, no relation, no push.
func TestAttackRelationshipSpoofing(t *testing.T) {
	ctx := context.Background()
	a, addrA := serving(t)
	db := privateDB(t, a)
	var calls atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "trap", http.StatusTeapot)
	}))
	defer trap.Close()
	attacker := newKey(t)
	listen := strings.TrimPrefix(trap.URL, "http://")
	handshake(t, addrA, attacker, listen)
	reply := post(t, addrA, 0, kernel.SyncTree{TreeID: db.ID(), OurTips: []entry.ID{}, PeerPubkey: attacker.Public()})
	refusal(t, reply, "Authentication required")
	// Signed with its own key, which the database does not grant.
	st := kernel.SyncTree{TreeID: db.ID(), OurTips: []entry.ID{}, PeerPubkey: attacker.Public()}
	st.Auth = kernel.SignAuth(attacker, a.ID(), st, uint64(time.Now().UnixMilli()), challenge())
	refusal(t, post(t, addrA, 0, st), "Permission denied")
	for i := range 3 {
		if _, err := db.NewTransaction().Set("doc", fmt.Sprint(i), "secret").Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // past the push delay and a few ticks
	if n := calls.Load(); n != 0 {
		t.Fatalf("the node sent %d requests to the stranger's address", n)
	}
	st2, _ := a.Status(ctx)
	for _, p := range st2.Peers {
		if len(p.Relations) > 0 {
			t.Fatalf("peer %s has relations %+v", p.Peer, p.Relations)
		}
	}
	// Exfiltration by invitation: A's own user syncs the database with a
	// node whose key may not read it, which answers "Tree not found" (as
	// any node lacking a tree does, inviting a push): A pushes nothing.
	b, addrB := serving(t)
	if _, err := a.SyncWithPeer(ctx, addrB, db.ID()); err == nil || !strings.Contains(err.Error(), "not pushing") {
		t.Fatalf("sync with a non-reader: %v, want a refusal to push", err)
	}
	if _, err := b.OpenDatabase(ctx, db.ID()); err == nil {
		t.Fatal("the non-reader received the private database")
	}
}

// TestAttackUnauthenticatedPush (11.3): the reference stores whatever any
// client pushes. Here a push into a private database needs a signed v1
// PushEntries by a key that may write, and a push naming one tree may not
// carry another's entries; refused pushes store nothing.
func TestAttackUnauthenticatedPush(t *testing.T) {
	ctx := context.Background()
	a, addrA := serving(t)
	db := privateDB(t, a)
	other, err := a.CreateDatabase(ctx, "other", eidsync.Public(eidsync.PermWrite(0)))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := db.Info(ctx)
	attacker := newKey(t)
	handshake(t, addrA, attacker, "127.0.0.1:1")
	bad := child(t, db.ID(), info.Tips[0], attacker, "injected")
	refusal(t, post(t, addrA, 0, kernel.SendEntries{Entries: []kernel.Blob{bad}}), "Authentication required")
	push := kernel.SendEntries{TreeID: db.ID(), Entries: []kernel.Blob{bad}}
	push.Auth = kernel.SignAuth(attacker, a.ID(), push, uint64(time.Now().UnixMilli()), challenge())
	refusal(t, post(t, addrA, 1, push), "Permission denied")
	// Cross-tree: a push naming the public tree carrying the private one's entry.
	cross := kernel.SendEntries{TreeID: other.ID(), Entries: []kernel.Blob{bad}}
	cross.Auth = kernel.SignAuth(attacker, a.ID(), cross, uint64(time.Now().UnixMilli()), challenge())
	refusal(t, post(t, addrA, 1, cross), "belongs to tree")
	if after, _ := db.Info(ctx); after.Entries != info.Entries {
		t.Fatalf("the private database went from %d to %d entries", info.Entries, after.Entries)
	}
}

// TestAttackUnboundedRequests (11.4): the reference queues every request,
// a fresh one for each retry and for each rejected key. Here a key asking
// again gets its pending request's ID, a rejected key is told so, and the
// registry is bounded: past ApprovalsMax pending requests, asking is
// refused. (That approval clamps the grant to the approver's permission is
// shown by the kernel scenario bootstrap_approval.)
func TestAttackUnboundedRequests(t *testing.T) {
	ctx := context.Background()
	a := open(t, eidsync.Options{InMemory: true, Tune: func(c *kernel.Config) { c.ApprovalsMax = 3 }})
	if err := a.EnableSync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.RegisterTransport(ctx, "http", httpadapter.Builder{Bind: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	addrs, err := a.AcceptConnections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addrA := addrs[0]
	db := privateDB(t, a)
	ask := func(key entry.PrivateKey) kernel.Message {
		name, perm := "attacker", eidsync.PermAdmin(0)
		st := kernel.SyncTree{TreeID: db.ID(), OurTips: []entry.ID{}, RequestingKey: key.Public(),
			RequestingKeyName: &name, RequestedPermission: &perm}
		st.Auth = kernel.SignAuth(key, a.ID(), st, uint64(time.Now().UnixMilli()), challenge())
		return post(t, addrA, 0, st)
	}
	keys := []entry.PrivateKey{newKey(t), newKey(t), newKey(t), newKey(t)}
	first, ok := ask(keys[0]).(kernel.BootstrapPending)
	if !ok {
		t.Fatal("first request not queued")
	}
	if again, _ := ask(keys[0]).(kernel.BootstrapPending); again.RequestID != first.RequestID {
		t.Fatalf("the same key asking again got %q, want %q", again.RequestID, first.RequestID)
	}
	ask(keys[1])
	ask(keys[2])
	refusal(t, ask(keys[3]), "Busy")
	// A request naming a key it does not prove queues nothing: it could
	// pre-empt that key's own request, or have it rejected.
	name, perm := "spoof", eidsync.PermRead
	refusal(t, post(t, addrA, 0, kernel.SyncTree{TreeID: db.ID(), OurTips: []entry.ID{}, RequestingKey: newKey(t).Public(),
		RequestingKeyName: &name, RequestedPermission: &perm}), "must be signed by the requesting key")
	if err := a.RejectRequest(ctx, first.RequestID); err != nil {
		t.Fatal(err)
	}
	refusal(t, ask(keys[0]), "rejected")
	if err := a.RejectRequest(ctx, first.RequestID); err == nil {
		t.Fatal("rejecting twice succeeded")
	}
	reqs, _ := a.BootstrapRequests(ctx)
	if len(reqs) != 3 {
		t.Fatalf("%d requests held, want 3", len(reqs))
	}
	big := []byte(`{"pad":"` + strings.Repeat("x", 20<<10) + `"}`)
	name, perm = "big", eidsync.PermRead
	body, _ := kernel.EncodeMessage(0, kernel.SyncTree{TreeID: db.ID(), OurTips: []entry.ID{}, RequestingKey: keys[3].Public(),
		RequestingKeyName: &name, RequestedPermission: &perm, Metadata: big})
	if status := postRaw(t, addrA, body); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("20 KiB of request metadata: status %d, want 413", status)
	}
}

func postRaw(t *testing.T, addr string, body []byte) int {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/api/v0", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
