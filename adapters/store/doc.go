// Package store is the durable store of an eidsync node: a bbolt database
// that runs the kernel's Persist and Load effects and gives back, at start,
// the State a machine is rebuilt from. It is the durable twin of the
// simulator's in-memory store and keeps the caller's obligations 3 to 5 of
// package kernel:
//
//   - Apply makes every Write of one Ready batch durable in one bbolt
//     transaction, all or nothing, and is answered with Persisted or
//     PersistFailed by the driver;
//   - Read returns the entries asked for that are stored, in the order
//     asked, each with a private copy of its bytes and the decoded entry;
//   - State returns every tree in creation order, each with its entries in
//     the order they were persisted, from the index alone.
//
// A Store is safe for concurrent use. Only one process may open a database
// file at a time: a second Open fails with ErrLocked after
// Options.LockTimeout.
//
// # Layout
//
// All integers are 8-byte big-endian, so that bbolt's byte order is numeric
// order. IDs are binary CIDs (entry.ID.Bytes), never their text form.
//
//	meta                          bucket
//	  "schema"  -> uint64         schema version, 1
//	  <key>     -> bytes          node settings (Meta, SetMeta), such as the device key
//	entries                       bucket
//	  <ID>      -> bytes          the entry's canonical DAG-CBOR; its hash is <ID>
//	roots                         bucket, tree creation order
//	  <seq>     -> <root ID>      seq from 1 (the bucket's sequence)
//	trees                         bucket
//	  <root ID>                   bucket, one per tree
//	    "count" -> uint64         number of entries in "order"
//	    order                     bucket, insertion order, append-only
//	      <seq> -> record         seq from 0; the root is seq 0
//
// An order record is the entry's ID followed by its parent IDs, each as a
// uvarint length and the binary CID:
//
//	len(ID) ID len(P1) P1 len(P2) P2 ...
//
// State reads only roots and the order records, so a restart never decodes
// an entry body. Entries are shared by all trees ("entries" is keyed by ID
// alone); an entry already stored is skipped, so applying a write twice
// changes nothing the second time.
//
// # Checks
//
// Apply checks every blob before the transaction commits, and refuses the
// whole batch with ErrRefused when one fails: its ID must be the hash of its
// bytes (paired with the kernel's own check on ingest), it must belong to the
// write's tree, a new tree must begin with its root, and each parent must be
// stored already or earlier in the same batch. Read checks each body it
// returns: bytes that do not decode or do not hash to their key are reported
// with ErrCorrupt, as is any malformed index record. Bad data on disk never
// makes the store panic: a panic inside bbolt, which it raises on damaged
// pages, and a memory fault on a damaged page number are returned as
// ErrCorrupt.
//
// # Tuning
//
// The database uses bbolt's map freelist (fast with many free pages), and
// the append-only order buckets are filled to 90% rather than split in half,
// which makes bulk loads smaller and faster. Options.NoSync skips fsync and
// is for tests only.
package store
