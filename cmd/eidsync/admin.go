package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/eidsync/eidsync"
	"github.com/eidsync/eidsync/kernel/entry"
)

// The admin socket: JSON over HTTP on a Unix socket in the data directory,
// mode 0600, so that only the node's user can drive a running node.

type adminReply struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// serveAdmin answers the commands on sock with n until ctx ends.
func serveAdmin(ctx context.Context, sock string, n node) (func(), error) {
	if err := removeStaleSocket(sock); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	route := func(op string, fn func(ctx context.Context, body []byte) (any, error)) {
		mux.HandleFunc("POST /admin/v0/"+op, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
			var res any
			if err == nil {
				res, err = fn(r.Context(), body)
			}
			reply := adminReply{}
			if err != nil {
				reply.Error = err.Error()
			} else {
				reply.Result, _ = json.Marshal(res)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(reply)
		})
	}
	route("create", func(ctx context.Context, b []byte) (any, error) {
		var req createRequest
		return decodeThen(b, &req, func() (any, error) { return n.Create(ctx, req) })
	})
	route("grant", func(ctx context.Context, b []byte) (any, error) {
		var req grantRequest
		return decodeThen(b, &req, func() (any, error) { return nil, n.Grant(ctx, req) })
	})
	route("access", func(ctx context.Context, b []byte) (any, error) {
		var tree entry.ID
		return decodeThen(b, &tree, func() (any, error) { return n.Access(ctx, tree) })
	})
	route("requests", func(ctx context.Context, _ []byte) (any, error) { return n.Requests(ctx) })
	route("decide", func(ctx context.Context, b []byte) (any, error) {
		var req decideRequest
		return decodeThen(b, &req, func() (any, error) { return nil, n.Decide(ctx, req) })
	})
	route("list", func(ctx context.Context, _ []byte) (any, error) { return n.List(ctx) })
	route("put", func(ctx context.Context, b []byte) (any, error) {
		var req putRequest
		return decodeThen(b, &req, func() (any, error) { return n.Put(ctx, req) })
	})
	route("get", func(ctx context.Context, b []byte) (any, error) {
		var req getRequest
		return decodeThen(b, &req, func() (any, error) { return n.Get(ctx, req) })
	})
	route("log", func(ctx context.Context, b []byte) (any, error) {
		var tree entry.ID
		return decodeThen(b, &tree, func() (any, error) { return n.Log(ctx, tree) })
	})
	route("sync", func(ctx context.Context, b []byte) (any, error) {
		var req syncRequest
		return decodeThen(b, &req, func() (any, error) { return n.Sync(ctx, req) })
	})
	route("status", func(ctx context.Context, _ []byte) (any, error) { return n.Status(ctx) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = os.Remove(sock)
	}, nil
}

func decodeThen(body []byte, v any, fn func() (any, error)) (any, error) {
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("bad admin request: %w", err)
	}
	return fn()
}

// remote drives a running serve through its admin socket.
type remote struct{ client *http.Client }

func newRemote(sock string) *remote {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	return &remote{client: &http.Client{Transport: tr}}
}

func (r *remote) do(ctx context.Context, op string, req, res any) error {
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://node/admin/v0/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := r.client.Do(hreq)
	if err != nil {
		return fmt.Errorf("reach the running node: %w", err)
	}
	defer resp.Body.Close()
	var reply adminReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("the running node answered garbage: %w", err)
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	if res == nil {
		return nil
	}
	return json.Unmarshal(reply.Result, res)
}

func (r *remote) Create(ctx context.Context, req createRequest) (info eidsync.DatabaseInfo, err error) {
	return info, r.do(ctx, "create", req, &info)
}

func (r *remote) Grant(ctx context.Context, req grantRequest) error {
	return r.do(ctx, "grant", req, nil)
}

func (r *remote) Access(ctx context.Context, tree entry.ID) (acc eidsync.Access, err error) {
	return acc, r.do(ctx, "access", tree, &acc)
}

func (r *remote) Requests(ctx context.Context) (reqs []eidsync.BootstrapRequest, err error) {
	return reqs, r.do(ctx, "requests", nil, &reqs)
}

func (r *remote) Decide(ctx context.Context, req decideRequest) error {
	return r.do(ctx, "decide", req, nil)
}

func (r *remote) List(ctx context.Context) (infos []eidsync.DatabaseInfo, err error) {
	return infos, r.do(ctx, "list", nil, &infos)
}

func (r *remote) Put(ctx context.Context, req putRequest) (ids []entry.ID, err error) {
	return ids, r.do(ctx, "put", req, &ids)
}

func (r *remote) Get(ctx context.Context, req getRequest) (rep getReply, err error) {
	return rep, r.do(ctx, "get", req, &rep)
}

func (r *remote) Log(ctx context.Context, tree entry.ID) (log []eidsync.LogEntry, err error) {
	return log, r.do(ctx, "log", tree, &log)
}

func (r *remote) Sync(ctx context.Context, req syncRequest) (res eidsync.SyncResult, err error) {
	return res, r.do(ctx, "sync", req, &res)
}

func (r *remote) Status(ctx context.Context) (st statusReply, err error) {
	return st, r.do(ctx, "status", nil, &st)
}

func (r *remote) Close(context.Context) error {
	r.client.CloseIdleConnections()
	return nil
}
