// Package dag is the in-memory index of one tree's stored entries: their IDs
// and parent links, never their bodies. It answers the questions sync asks of
// a tree's Merkle-DAG without touching storage: is this ID stored, what are
// the tips (PROTOCOL.md 1.5), what does a peer at these tips miss
// (PROTOCOL.md 3.2 and 11.6), how to stream a bootstrap in bounded batches,
// and how to summarise the history for a peer that cannot place our tips.
//
// # Vocabulary
//
// An Entry is a vertex of the DAG and its ID is its hash (package entry). A
// Node is the dense index this package gives an entry when it is added:
// nodes count up from 0 in insertion order. A Tip is a stored entry that no
// stored entry lists as a parent. The Depth of an entry is 0 without parents
// and otherwise one more than its deepest parent.
//
// # Usage
//
// Add every stored entry of a tree with its parent IDs, parents first: Add
// refuses an entry whose parent is not stored (ErrMissingParent), so the
// caller keeps orphans aside until their parents arrive. Insertion order is
// then a topological order, which Range streams. Missing computes the nodes
// reachable from one set of nodes but not from another, in ascending
// (Depth, Node) order, so that a receiver always gets parents before
// children. The caller maps a peer's tips to Nodes with Lookup and drops the
// ones it does not know.
//
// The caller's obligations:
//
//  1. Pass only Nodes this DAG returned; any other Node is a programmer error
//     and panics.
//  2. Use one DAG from one goroutine at a time; the kernel is single-threaded.
//  3. Seed the table (NewSeeded) from the machine's seed when entries come
//     from untrusted peers, so nobody can grind IDs into one probe cluster.
//
// # Determinism
//
// Every output is a function of the sequence of Add calls: no output depends
// on Go map iteration order. Tips and Frontier list IDs in ID order
// (PROTOCOL.md 1.3) or in an order derived from it.
//
// # Implementation notes
//
// The index is sized for a 1M-entry tree in at most 64 bytes per entry. The
// 32-byte BLAKE3 digest of a standard ID (CIDv1, dag-cbor, BLAKE3-256: the
// bytes 01 71 1e 20 and the digest) lives in one flat arena; any other CID
// lives in a small side map keyed by Node. An open-addressing table of
// uint32 nodes (linear probing, load at most 3/4) maps IDs to Nodes; it hashes
// the first 8 digest bytes, which BLAKE3 makes uniform. Parents are kept in
// CSR form (an offset per node into one flat list), with a depth per node, a
// bitset of nodes that have a child, and a tip count.
//
// Missing is git's paint_down_to_common generalised to sets: a max-heap by
// depth holds nodes flagged FROM and HAVE, flags flow to parents, and the walk
// stops as soon as every node left in the heap carries HAVE. Depth is
// computed here from the parent links, never taken from an entry's claimed
// height, so a lying height cannot make the walk stop early. The cost is
// proportional to the region between the two frontiers: a no-op or a
// one-entry catch-up touches O(1) nodes even on a 1M-entry chain.
package dag
