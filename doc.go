// Package eidsync embeds an Eidetica-compatible sync node in a Go program.
//
// It reads like the reference's quick start:
//
//	inst, err := eidsync.Open(ctx, eidsync.Options{DataDir: "data"})
//	db, err := inst.CreateDatabase(ctx, "notes")
//	tx := db.NewTransaction()
//	tx.Set("todo", "milk", "2 litres")
//	id, err := tx.Commit(ctx)
//
//	err = inst.EnableSync(ctx)
//	err = inst.RegisterTransport("http", httpadapter.Builder{Bind: "127.0.0.1:0"})
//	addrs, err := inst.AcceptConnections(ctx) // nothing listens before this
//	res, err := inst.SyncWithPeer(ctx, "127.0.0.1:8080", db.ID())
//	err = inst.Close(ctx)
//
// One driver goroutine owns the kernel.Machine (as raft's node.go owns its
// RawNode): it turns ticks, received messages, store completions and user
// calls into events, steps them, and runs the effects of each Ready batch:
// all writes of a batch in one store transaction, reads from the store, sends
// on their transport (each on its own goroutine, bounded), replies to the
// inbound request waiting for them, and notices to the callers waiting for
// them. Every call takes a context and returns typed errors.
package eidsync
