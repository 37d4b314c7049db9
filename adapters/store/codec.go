package store

import (
	"encoding/binary"
	"fmt"

	"github.com/eidsync/eidsync/kernel/entry"
)

// Bucket and key names; see the layout in the package doc.
var (
	bucketMeta    = []byte("meta")
	bucketEntries = []byte("entries")
	bucketRoots   = []byte("roots")
	bucketTrees   = []byte("trees")
	bucketOrder   = []byte("order")
	// bucketRelations holds the kernel's background-sync relations: key
	// peer 0x00 tree-ID, value the JSON of the record's other fields.
	bucketRelations = []byte("relations")
	// bucketSettings, inside a tree's bucket, holds the _settings data of
	// its entries that have some: key the order number, value the signing
	// key (32 bytes) then the data. The kernel rebuilds permissions from it.
	bucketSettings = []byte("settings")
	keySchema      = []byte("schema")
	keyCount       = []byte("count")
	// bucketApprovals holds the kernel's bootstrap-request records: key
	// the request ID, value kernel.EncodeApproval's bytes.
	bucketApprovals = []byte("approvals")
	// bucketNonceFloors holds the kernel's nonce floors: key 'k' then the
	// public key (none for the global floor), value the u64 ms.
	bucketNonceFloors = []byte("nonce_floors")
)

// schemaVersion is the layout this package writes and reads.
const schemaVersion = 1

// orderFillPercent fills the append-only order buckets nearly full instead
// of splitting pages in half, as nothing is ever inserted before the end.
const orderFillPercent = 0.9

// u64 encodes v as an 8-byte big-endian key or value.
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// readU64 decodes an 8-byte big-endian value.
func readU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%d bytes where 8 were expected", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// recordSize bounds the length of an order record.
func recordSize(id entry.ID, parents []entry.ID) int {
	size := len(id.Binary()) + binary.MaxVarintLen16
	for _, p := range parents {
		size += len(p.Binary()) + binary.MaxVarintLen16
	}
	return size
}

// appendRecord appends an order record to out: id and its parents, each a
// uvarint length and the binary CID.
func appendRecord(out []byte, id entry.ID, parents []entry.ID) []byte {
	out = appendID(out, id)
	for _, p := range parents {
		out = appendID(out, p)
	}
	return out
}

func appendID(out []byte, id entry.ID) []byte {
	b := id.Binary()
	out = binary.AppendUvarint(out, uint64(len(b)))
	return append(out, b...)
}

// decodeRecord parses an order record. The parents are appended to
// scratch[:0], which the caller may reuse once it has copied them.
func decodeRecord(rec []byte, scratch []entry.ID) (entry.ID, []entry.ID, error) {
	id, rest, err := nextID(rec)
	if err != nil {
		return entry.ID{}, nil, err
	}
	parents := scratch[:0]
	for len(rest) > 0 {
		var p entry.ID
		if p, rest, err = nextID(rest); err != nil {
			return entry.ID{}, nil, fmt.Errorf("parent %d: %w", len(parents)+1, err)
		}
		parents = append(parents, p)
	}
	return id, parents, nil
}

// arenaChunk is how many IDs an idArena allocates at a time.
const arenaChunk = 4096

// idArena hands out small ID slices carved from large chunks, so that the
// parent lists of a million entries cost a few hundred allocations.
type idArena struct{ buf []entry.ID }

// clone returns a copy of ids backed by the arena (nil when empty).
func (a *idArena) clone(ids []entry.ID) []entry.ID {
	if len(ids) == 0 {
		return nil
	}
	if cap(a.buf)-len(a.buf) < len(ids) {
		a.buf = make([]entry.ID, 0, max(arenaChunk, len(ids)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, ids...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// recordID parses only the ID at the head of an order record.
func recordID(rec []byte) (entry.ID, error) {
	id, _, err := nextID(rec)
	return id, err
}

func nextID(b []byte) (entry.ID, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > uint64(len(b)-k) {
		return entry.ID{}, nil, fmt.Errorf("bad ID length at %d of %d bytes", k, len(b))
	}
	id, err := entry.IDFromBytes(b[k : k+int(n)])
	if err != nil {
		return entry.ID{}, nil, err
	}
	return id, b[k+int(n):], nil
}
