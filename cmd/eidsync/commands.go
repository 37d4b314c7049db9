package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eidsync/eidsync"
	httpadapter "github.com/eidsync/eidsync/adapters/http"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

func serveCommand(g *globals) *cobra.Command {
	var bind, cert, key string
	var bg background
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the node: answer peers over HTTP until interrupted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := g.needData()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			log := g.logger()
			opts := eidsync.Options{DataDir: g.data, Logger: log, TickInterval: bg.tick}
			if opts.Tune, err = bg.tune(); err != nil {
				return err
			}
			inst, err := eidsync.Open(ctx, opts)
			if err != nil {
				return err
			}
			defer inst.Close(context.Background())
			if err := inst.EnableSync(ctx); err != nil {
				return err
			}
			if err := inst.RegisterTransport(ctx, "http", httpadapter.Builder{Bind: bind, TLSCertFile: cert, TLSKeyFile: key}); err != nil {
				return err
			}
			addrs, err := inst.AcceptConnections(ctx)
			if err != nil {
				return err
			}
			stopAdmin, err := serveAdmin(ctx, filepath.Join(g.data, socketName), &local{inst: inst})
			if err != nil {
				return err
			}
			defer stopAdmin()
			log.Info("serving", "http", strings.Join(addrs, ","), "device", inst.ID().String(), "data", g.data)
			output(g, map[string]any{"serving": addrs, "device": inst.ID().String()}, fmt.Sprintf("serving on %s (device %s)", strings.Join(addrs, ","), inst.ID()))
			<-ctx.Done()
			log.Info("stopping")
			return nil
		},
	}
	cmd.Flags().StringVar(&bind, "http", "127.0.0.1:8080", "address to serve HTTP sync on")
	cmd.Flags().StringVar(&cert, "tls-cert", "", "TLS certificate file (with --tls-key: serve HTTPS)")
	cmd.Flags().StringVar(&key, "tls-key", "", "TLS key file")
	cmd.Flags().DurationVar(&bg.tick, "tick", 100*time.Millisecond, "the sync engine's clock tick")
	cmd.Flags().DurationVar(&bg.pushDelay, "push-delay", 200*time.Millisecond, "push local commits this long after the first, coalescing the rest")
	cmd.Flags().DurationVar(&bg.repair, "repair-every", time.Minute, "sync every known (peer, database) both ways this often")
	cmd.Flags().DurationVar(&bg.retryMin, "retry-min", time.Second, "first retry of a failed background sync")
	cmd.Flags().DurationVar(&bg.retryMax, "retry-max", time.Minute, "longest wait between retries")
	cmd.Flags().IntVar(&bg.attempts, "retry-attempts", 20, "failed retries before giving up until the next repair")
	return cmd
}

// background holds serve's background-sync flags, in wall time.
type background struct {
	tick, pushDelay, repair, retryMin, retryMax time.Duration
	attempts                                    int
}

// tune turns the durations into kernel ticks.
func (b background) tune() (func(*kernel.Config), error) {
	if b.tick <= 0 {
		return nil, fmt.Errorf("--tick must be positive")
	}
	ticks := func(d time.Duration) uint64 { return uint64(max(1, d/b.tick)) }
	return func(c *kernel.Config) {
		c.PushDelayTicks, c.RepairTicks = ticks(b.pushDelay), ticks(b.repair)
		c.RetryTicksMin, c.RetryTicksMax = ticks(b.retryMin), ticks(max(b.retryMax, b.retryMin))
		c.RetryAttemptsMax = max(1, b.attempts)
	}, nil
}

func dbCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Create, write, read and list databases"}
	var public string
	create := &cobra.Command{Use: "create NAME", Short: "Create a private database (this node is its admin) and print its ID", Args: cobra.ExactArgs(1),
		RunE: withNode(g, func(ctx context.Context, n node, args []string) error {
			info, err := n.Create(ctx, createRequest{Name: args[0], Public: public})
			if err == nil {
				output(g, info, info.ID.String())
			}
			return err
		})}
	create.Flags().StringVar(&public, "public", "", "let everyone read or write it: read, write[:N]")
	cmd.AddCommand(create, grantCommand(g), accessCommand(g),
		&cobra.Command{Use: "list", Short: "List databases", Args: cobra.NoArgs,
			RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
				infos, err := n.List(ctx)
				if err == nil {
					output(g, infos, describeDatabases(infos))
				}
				return err
			})},
		putCommand(g), getCommand(g), logCommand(g))
	return cmd
}

func putCommand(g *globals) *cobra.Command {
	var req putRequest
	var tree string
	cmd := &cobra.Command{Use: "put", Short: "Commit a value to a store (with --key: a document key)", Args: cobra.NoArgs,
		RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
			var err error
			if req.Tree, err = parseTree(tree); err != nil {
				return err
			}
			ids, err := n.Put(ctx, req)
			if err == nil {
				output(g, ids, fmt.Sprintf("committed %d entr%s, last %s", len(ids), plural(len(ids), "y", "ies"), ids[len(ids)-1]))
			}
			return err
		})}
	cmd.Flags().StringVar(&tree, "tree", "", "database ID (required)")
	cmd.Flags().StringVar(&req.Store, "store", "data", "store name")
	cmd.Flags().StringVar(&req.Key, "key", "", "document key (omit for a bytes store)")
	cmd.Flags().StringVar(&req.Value, "value", "", "value to write")
	cmd.Flags().IntVar(&req.Count, "count", 1, "commit this many entries (values suffixed #i)")
	return cmd
}

func getCommand(g *globals) *cobra.Command {
	var req getRequest
	var tree string
	cmd := &cobra.Command{Use: "get", Short: "Read a store (with --key: a document key)", Args: cobra.NoArgs,
		RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
			var err error
			if req.Tree, err = parseTree(tree); err != nil {
				return err
			}
			rep, err := n.Get(ctx, req)
			if err == nil && !rep.Found && !g.json {
				return fmt.Errorf("not found: store %q key %q", req.Store, req.Key)
			}
			if err == nil {
				output(g, rep, rep.Value)
			}
			return err
		})}
	cmd.Flags().StringVar(&tree, "tree", "", "database ID (required)")
	cmd.Flags().StringVar(&req.Store, "store", "data", "store name")
	cmd.Flags().StringVar(&req.Key, "key", "", "document key")
	return cmd
}

func logCommand(g *globals) *cobra.Command {
	var tree string
	cmd := &cobra.Command{Use: "log", Short: "List a database's entries (height, then ID)", Args: cobra.NoArgs,
		RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
			id, err := parseTree(tree)
			if err != nil {
				return err
			}
			log, err := n.Log(ctx, id)
			if err == nil {
				var b strings.Builder
				for _, e := range log {
					fmt.Fprintf(&b, "%s h=%d stores=%s\n", e.ID, e.Height, strings.Join(e.Stores, ","))
				}
				output(g, log, strings.TrimRight(b.String(), "\n"))
			}
			return err
		})}
	cmd.Flags().StringVar(&tree, "tree", "", "database ID (required)")
	return cmd
}

func syncCommand(g *globals) *cobra.Command {
	var req syncRequest
	var tree string
	cmd := &cobra.Command{Use: "sync", Short: "Sync a database with a peer, both ways", Args: cobra.NoArgs,
		RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
			var err error
			if req.Tree, err = parseTree(tree); err != nil {
				return err
			}
			if req.Peer == "" {
				return fmt.Errorf("--peer is required: the peer's host:port")
			}
			res, err := n.Sync(ctx, req)
			if err == nil {
				output(g, res, fmt.Sprintf("synced with %s: pulled %d, pushed %d, %d requests", req.Peer, res.Pulled, res.Pushed, res.Requests))
			}
			return err
		})}
	cmd.Flags().StringVar(&req.Peer, "peer", "", "peer address host:port (required)")
	cmd.Flags().StringVar(&tree, "tree", "", "database ID (required)")
	cmd.Flags().StringVar(&req.Access, "request-access", "", "if the peer refuses, ask its admin for this permission: read, write[:N], admin[:N]")
	cmd.Flags().StringVar(&req.KeyName, "key-name", "", "the name this node's key goes by in that request")
	return cmd
}

func statusCommand(g *globals) *cobra.Command {
	return &cobra.Command{Use: "status", Short: "Show the node's databases and peers", Args: cobra.NoArgs,
		RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
			st, err := n.Status(ctx)
			if err != nil {
				return err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "device %s\n%s", st.Device, describeDatabases(st.Databases))
			for _, p := range st.Peers {
				fmt.Fprintf(&b, "\npeer %s v%d in=%d out=%d redundant=%d rejected=%d", p.Peer, p.Version, p.EntriesIn, p.EntriesOut, p.Redundant, p.Rejected)
				if !p.Contacted {
					b.WriteString(" (not contacted since start)")
				}
				for _, r := range p.Relations {
					fmt.Fprintf(&b, "\n  tree %s: %s pending_push=%t failed_attempts=%d next_retry_in=%d last_error=%q",
						r.Tree, r.State, r.Dirty, r.Attempts, r.NextRetryIn, r.LastError)
				}
			}
			output(g, st, b.String())
			return nil
		})}
}

// withNode opens the node for a command and closes it after.
func withNode(g *globals, run func(ctx context.Context, n node, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		n, err := openNode(cmd.Context(), g)
		if err != nil {
			return err
		}
		defer n.Close(context.Background())
		return run(cmd.Context(), n, args)
	}
}

func parseTree(s string) (entry.ID, error) {
	if s == "" {
		return entry.ID{}, fmt.Errorf("--tree is required: a database ID (bafyr4i...)")
	}
	id, err := entry.ParseID(s)
	if err != nil {
		return entry.ID{}, fmt.Errorf("--tree: %w", err)
	}
	return id, nil
}

func describeDatabases(infos []eidsync.DatabaseInfo) string {
	var b strings.Builder
	for _, d := range infos {
		tips := make([]string, len(d.Tips))
		for i, t := range d.Tips {
			tips[i] = t.String()
		}
		fmt.Fprintf(&b, "%s %q entries=%d tips=%s\n", d.ID, d.Name, d.Entries, strings.Join(tips, ","))
	}
	return strings.TrimRight(b.String(), "\n")
}

// output writes v as JSON with --json, else the human text.
func output(g *globals, v any, human string) {
	if g.json {
		enc := json.NewEncoder(os.Stdout)
		_ = enc.Encode(v)
		return
	}
	if human != "" {
		fmt.Println(human)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
