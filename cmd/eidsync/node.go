package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/eidsync/eidsync"
	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel/entry"
)

// node is what the commands need: an Instance opened here, or a running
// `serve` reached through its admin socket.
type node interface {
	Create(ctx context.Context, req createRequest) (eidsync.DatabaseInfo, error)
	List(ctx context.Context) ([]eidsync.DatabaseInfo, error)
	Put(ctx context.Context, req putRequest) ([]entry.ID, error)
	Get(ctx context.Context, req getRequest) (getReply, error)
	Log(ctx context.Context, tree entry.ID) ([]eidsync.LogEntry, error)
	Sync(ctx context.Context, req syncRequest) (eidsync.SyncResult, error)
	Status(ctx context.Context) (statusReply, error)
	Grant(ctx context.Context, req grantRequest) error
	Access(ctx context.Context, tree entry.ID) (eidsync.Access, error)
	Requests(ctx context.Context) ([]eidsync.BootstrapRequest, error)
	Decide(ctx context.Context, req decideRequest) error
	Close(ctx context.Context) error
}

type createRequest struct {
	Name   string `json:"name"`
	Public string `json:"public,omitempty"` // a permission everyone gets, or ""
}

type grantRequest struct {
	Tree       entry.ID `json:"tree"`
	Key        string   `json:"key"`
	Name       string   `json:"name"`
	Permission string   `json:"permission"` // "revoke" takes the grant away
}

type decideRequest struct {
	ID      string `json:"id"`
	Approve bool   `json:"approve"`
}

type putRequest struct {
	Tree  entry.ID `json:"tree"`
	Store string   `json:"store"`
	Key   string   `json:"key,omitempty"` // set: a document store
	Value string   `json:"value"`
	Count int      `json:"count"` // commit this many entries (value suffixed by #i)
}

type getRequest struct {
	Tree  entry.ID `json:"tree"`
	Store string   `json:"store"`
	Key   string   `json:"key,omitempty"`
}

type getReply struct {
	Value string `json:"value"`
	Found bool   `json:"found"`
}

type syncRequest struct {
	Peer    string   `json:"peer"`
	Tree    entry.ID `json:"tree"`
	Access  string   `json:"request_access,omitempty"` // ask for this permission if refused
	KeyName string   `json:"key_name,omitempty"`
}

type statusReply struct {
	Device    string                 `json:"device"`
	Databases []eidsync.DatabaseInfo `json:"databases"`
	Peers     []peerView             `json:"peers"`
}

type peerView struct {
	Relations  []relationView `json:"relations"`
	Peer       string         `json:"peer"`
	Key        string         `json:"key"`
	Version    uint32         `json:"protocol_version"`
	Handshaken bool           `json:"handshaken"`
	Contacted  bool           `json:"contacted"` // false: known only from a relation restored at start
	EntriesIn  int            `json:"entries_in"`
	EntriesOut int            `json:"entries_out"`
	Requests   int            `json:"requests_out"`
	BytesIn    int            `json:"entry_bytes_in"`
	BytesOut   int            `json:"entry_bytes_out"`
	Redundant  int            `json:"redundant"`
	Rejected   int            `json:"rejected"`
}

// relationView is one tree synced with a peer in the background.
type relationView struct {
	Tree        string `json:"tree"`
	State       string `json:"state"`
	Dirty       bool   `json:"pending_push"`
	Attempts    int    `json:"failed_attempts"`
	NextRetryIn uint64 `json:"next_retry_in_ticks"`
	LastSuccess uint64 `json:"last_success_tick"`
	LastError   string `json:"last_error,omitempty"`
}

const socketName = "eidsync.sock"

// openNode reaches the node of dir: through the socket of a running serve,
// or by opening the store here.
func openNode(ctx context.Context, g *globals) (node, error) {
	if err := g.needData(); err != nil {
		return nil, err
	}
	sock := filepath.Join(g.data, socketName)
	if conn, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		conn.Close()
		return newRemote(sock), nil
	}
	inst, err := eidsync.Open(ctx, eidsync.Options{DataDir: g.data, Logger: g.logger()})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w (and its admin socket %s does not answer)", err, sock)
	}
	if err != nil {
		return nil, err
	}
	if err := inst.EnableSync(ctx); err != nil {
		return nil, err
	}
	return &local{inst: inst}, nil
}

// local serves the commands from an Instance in this process.
type local struct{ inst *eidsync.Instance }

func (l *local) Create(ctx context.Context, req createRequest) (eidsync.DatabaseInfo, error) {
	var opts []eidsync.DatabaseOption
	if req.Public != "" {
		p, err := eidsync.ParsePermission(req.Public)
		if err != nil {
			return eidsync.DatabaseInfo{}, fmt.Errorf("--public: %w", err)
		}
		opts = append(opts, eidsync.Public(p))
	}
	db, err := l.inst.CreateDatabase(ctx, req.Name, opts...)
	if err != nil {
		return eidsync.DatabaseInfo{}, err
	}
	return db.Info(ctx)
}

func (l *local) List(ctx context.Context) ([]eidsync.DatabaseInfo, error) {
	return l.inst.Databases(ctx)
}

func (l *local) Put(ctx context.Context, req putRequest) ([]entry.ID, error) {
	db, err := l.inst.OpenDatabase(ctx, req.Tree)
	if err != nil {
		return nil, err
	}
	if req.Count > 1 && req.Key == "" {
		values := make([][]byte, req.Count)
		for i := range values {
			values[i] = fmt.Appendf(nil, "%s#%d", req.Value, i)
		}
		return db.AppendMany(ctx, req.Store, values)
	}
	var ids []entry.ID
	for i := range max(req.Count, 1) {
		value := req.Value
		if req.Count > 1 {
			value = fmt.Sprintf("%s#%d", req.Value, i)
		}
		tx := db.NewTransaction()
		if req.Key != "" {
			tx.Set(req.Store, req.Key, value)
		} else {
			tx.Put(req.Store, []byte(value))
		}
		id, err := tx.Commit(ctx)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (l *local) Get(ctx context.Context, req getRequest) (getReply, error) {
	db, err := l.inst.OpenDatabase(ctx, req.Tree)
	if err != nil {
		return getReply{}, err
	}
	if req.Key != "" {
		v, ok, err := db.GetKey(ctx, req.Store, req.Key)
		return getReply{Value: v, Found: ok}, err
	}
	data, err := db.Get(ctx, req.Store)
	return getReply{Value: string(data), Found: data != nil}, err
}

func (l *local) Log(ctx context.Context, tree entry.ID) ([]eidsync.LogEntry, error) {
	db, err := l.inst.OpenDatabase(ctx, tree)
	if err != nil {
		return nil, err
	}
	return db.Log(ctx)
}

func (l *local) Sync(ctx context.Context, req syncRequest) (eidsync.SyncResult, error) {
	var opts []eidsync.SyncOption
	if req.Access != "" {
		p, err := eidsync.ParsePermission(req.Access)
		if err != nil {
			return eidsync.SyncResult{}, fmt.Errorf("--request-access: %w", err)
		}
		opts = append(opts, eidsync.RequestAccess(req.KeyName, p))
	}
	return l.inst.SyncWithPeer(ctx, req.Peer, req.Tree, opts...)
}

func (l *local) Grant(ctx context.Context, req grantRequest) error {
	db, err := l.inst.OpenDatabase(ctx, req.Tree)
	if err != nil {
		return err
	}
	key, err := entry.ParsePublicKey(req.Key)
	if err != nil {
		return fmt.Errorf("key %q: %w (want ed25519:<base64>, as `eidsync status` prints the device)", req.Key, err)
	}
	if req.Permission == "revoke" {
		return db.Revoke(ctx, key)
	}
	p, err := eidsync.ParsePermission(req.Permission)
	if err != nil {
		return err
	}
	return db.Grant(ctx, key, req.Name, p)
}

func (l *local) Access(ctx context.Context, tree entry.ID) (eidsync.Access, error) {
	db, err := l.inst.OpenDatabase(ctx, tree)
	if err != nil {
		return eidsync.Access{}, err
	}
	return db.Access(ctx)
}

func (l *local) Requests(ctx context.Context) ([]eidsync.BootstrapRequest, error) {
	return l.inst.BootstrapRequests(ctx)
}

func (l *local) Decide(ctx context.Context, req decideRequest) error {
	if req.Approve {
		return l.inst.ApproveRequest(ctx, req.ID)
	}
	return l.inst.RejectRequest(ctx, req.ID)
}

func (l *local) Status(ctx context.Context) (statusReply, error) {
	st, err := l.inst.Status(ctx)
	if err != nil {
		return statusReply{}, err
	}
	dbs, err := l.inst.Databases(ctx)
	out := statusReply{Device: string(st.Device), Databases: dbs}
	for _, p := range st.Peers {
		// A peer with a relation restored from the store and not contacted
		// since the start has no key yet: its zero key is not shown.
		key := ""
		if p.Handshaken {
			key = p.Key.String()
		}
		pv := peerView{Peer: string(p.Peer), Key: key, Version: p.Version, Handshaken: p.Handshaken, Contacted: p.Contacted,
			EntriesIn: p.Stats.EntriesIn, EntriesOut: p.Stats.EntriesOut, Redundant: p.Stats.Redundant, Rejected: p.Stats.Rejected,
			Requests: p.Stats.RequestsOut, BytesIn: p.Stats.BytesIn, BytesOut: p.Stats.BytesOut}
		for _, r := range p.Relations {
			pv.Relations = append(pv.Relations, relationView{Tree: r.Tree.String(), State: r.State, Dirty: r.Dirty, Attempts: r.Attempts,
				NextRetryIn: r.NextRetryIn, LastSuccess: r.LastSuccessAt, LastError: r.LastError})
		}
		out.Peers = append(out.Peers, pv)
	}
	return out, err
}

func (l *local) Close(ctx context.Context) error { return l.inst.Close(ctx) }

// removeStaleSocket deletes a socket file no process answers on.
func removeStaleSocket(path string) error {
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("another eidsync serve answers on %s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
