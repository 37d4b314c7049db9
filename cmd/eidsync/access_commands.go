package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eidsync/eidsync"
)

// The commands of access control: grants on a database, and the bootstrap
// requests peers made for access to this node's databases.

func grantCommand(g *globals) *cobra.Command {
	var req grantRequest
	var tree string
	cmd := &cobra.Command{Use: "grant KEY PERMISSION", Short: "Grant a key read, write[:N] or admin[:N] on a database (revoke takes it away)",
		Args: cobra.ExactArgs(2),
		RunE: withNode(g, func(ctx context.Context, n node, args []string) error {
			var err error
			if req.Tree, err = parseTree(tree); err != nil {
				return err
			}
			req.Key, req.Permission = args[0], args[1]
			if err := n.Grant(ctx, req); err != nil {
				return err
			}
			output(g, req, fmt.Sprintf("%s: %s now %s", tree, req.Key, req.Permission))
			return nil
		})}
	cmd.Flags().StringVar(&tree, "tree", "", "database ID (required)")
	cmd.Flags().StringVar(&req.Name, "name", "", "a name for the key")
	return cmd
}

func accessCommand(g *globals) *cobra.Command {
	var tree string
	cmd := &cobra.Command{Use: "access", Short: "Show who may read and write a database", Args: cobra.NoArgs,
		RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
			id, err := parseTree(tree)
			if err != nil {
				return err
			}
			acc, err := n.Access(ctx, id)
			if err != nil {
				return err
			}
			output(g, acc, describeAccess(acc))
			return nil
		})}
	cmd.Flags().StringVar(&tree, "tree", "", "database ID (required)")
	return cmd
}

func describeAccess(acc eidsync.Access) string {
	var b strings.Builder
	switch {
	case acc.Open:
		b.WriteString("open: no auth, anyone may read and write\n")
	case acc.Public != nil:
		fmt.Fprintf(&b, "public: everyone holds %v\n", *acc.Public)
	default:
		b.WriteString("private\n")
	}
	for _, k := range acc.Keys {
		state := "active"
		if !k.Active {
			state = "revoked"
		}
		fmt.Fprintf(&b, "%s %v %s %q\n", k.Key, k.Permission, state, k.Name)
	}
	return strings.TrimRight(b.String(), "\n")
}

func requestsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "requests", Short: "List, approve or reject peers' requests for access to this node's databases"}
	cmd.AddCommand(
		&cobra.Command{Use: "list", Short: "List requests, oldest first", Args: cobra.NoArgs,
			RunE: withNode(g, func(ctx context.Context, n node, _ []string) error {
				reqs, err := n.Requests(ctx)
				if err != nil {
					return err
				}
				var b strings.Builder
				for _, r := range reqs {
					fmt.Fprintf(&b, "%s %s database=%s key=%s name=%q asked=%v", r.ID, r.Status, r.Database, r.Key, r.KeyName, r.Requested)
					if r.Granted != nil {
						fmt.Fprintf(&b, " granted=%v", *r.Granted)
					}
					b.WriteByte('\n')
				}
				if len(reqs) == 0 {
					b.WriteString("no requests")
				}
				output(g, reqs, strings.TrimRight(b.String(), "\n"))
				return nil
			})},
		decideCommand(g, true), decideCommand(g, false))
	return cmd
}

func decideCommand(g *globals, approve bool) *cobra.Command {
	use, short, done := "approve ID", "Approve a pending request: grant the key what it asked, up to this node's own permission", "approved"
	if !approve {
		use, short, done = "reject ID", "Reject a pending request; the key asking again is told so", "rejected"
	}
	return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: withNode(g, func(ctx context.Context, n node, args []string) error {
			if err := n.Decide(ctx, decideRequest{ID: args[0], Approve: approve}); err != nil {
				return err
			}
			output(g, map[string]string{"id": args[0], "decision": done}, fmt.Sprintf("request %s %s", args[0], done))
			return nil
		})}
}
