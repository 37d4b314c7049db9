// Package kernel is the sync state machine of eidsync: a pure, deterministic,
// I/O-free core that brings two peers holding parts of a tree's history to
// the same history. It reads no clock, socket, disk or global random source,
// starts no goroutine, and gives the same outputs for the same inputs, bit
// for bit.
//
// # Vocabulary
//
//   - Entry: a vertex of a tree's Merkle-DAG (package entry); its hash is its ID.
//   - Tree: a database, identified by its root entry's ID.
//   - Tip: a stored entry of a tree that no stored entry lists as a parent.
//   - Peer, PeerID: another node, named by the driver.
//   - Orphan: a received entry whose parents are not stored yet. It is held
//     in memory (bounded), never announced, and stored once they are.
//   - Want: an entry asked for with GetEntries and not yet received.
//   - Session: one sync of one tree with one peer, both directions.
//   - Relation: a (peer, tree) pair synced in the background after a first
//     successful sync (relation.go).
//   - Grant, Settings: who may read, write or administer a tree, merged
//     from its _settings entries (package access; gate.go).
//   - Request auth: a signature over a request, bound to the server's key,
//     fresh and single use (auth.go, nonces.go).
//   - Approval request: a refused bootstrap asking for a key to be granted,
//     waiting for an admin's Decide (approval.go).
//
// # Usage
//
// The driver (the root package eidsync in production, package sim in tests)
// owns one Machine and loops: it turns inputs into Events and calls Step
// (Tick on a timer, Received for each decoded message, Persisted and Loaded
// when the store finishes, Committed and SyncAsked for local calls); then,
// while HasReady, it calls Ready and runs the lanes: Send envelopes through a
// transport (encoded with EncodeMessage), Persist writes to the store in one
// transaction each, Load reads from it, and delivers Notify to the user. Each
// completion goes back in as an Event carrying the effect's Seq.
//
// The caller's obligations:
//
//  1. Only one goroutine calls the Machine.
//  2. Every Envelope with Reply set goes back to the inbound request it
//     answers; every other Envelope is sent and answered with exactly one
//     Received{InReplyTo} or SendFailed.
//  3. Every Write is applied atomically, or not at all, and answered with
//     Persisted or PersistFailed; a Persisted write survives a crash.
//  4. Every Read is answered with Loaded (the entries found, in the order
//     asked, with Data and the decoded Entry) or LoadFailed.
//  5. After a crash, New is given the State read back from the store: every
//     persisted entry of every tree, in the order persisted.
//
// # Determinism
//
// All randomness comes from the machine's own PRNG seeded by Config.Seed.
// No output depends on map iteration order: anything emitted from a map is
// sorted first. Time enters only through Tick.
//
// # Implementation notes
//
// Nothing is announced before it is durable: tips, diffs and answers see
// only stored entries (the dag index), never entries in flight to the store
// or orphans. Received entries of every message kind go through one ingest
// path (tree.go), which checks hash, structure, signature, tree membership
// and parents before anything is written. The index keeps IDs and parent
// links only; entry bodies live in the store and are loaded to be sent.
//
// Nothing of a tree leaves toward a peer that may not read it: answers to
// SyncTree and GetEntries pass the read gate (the request's auth names a
// key the tree grants Read, unless it is world-readable), pushes pass the
// write gate on the receiving side, and the pushing side checks that the
// key the peer proved in the handshake may read (gate.go).
package kernel
