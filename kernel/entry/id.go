package entry

import (
	"bytes"
	"cmp"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/zeebo/blake3"
)

// CID constants of the only ID kind this package produces (PROTOCOL.md 1.2).
const (
	cidVersion1   = 0x01
	codecDagCBOR  = 0x71
	hashBLAKE3    = 0x1e
	digestBytes   = 32
	multibaseB32  = 'b'
	idBytesMax    = 128 // a CID longer than this is refused: no real multihash needs it
	cborTagCIDNum = 42
)

var base32Lower = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID identifies an entry: a CIDv1 held in its binary form. The zero ID is the
// reference's empty ID; it prints as "" and parses from "".
//
// ID is comparable and can be a map key. Two IDs are equal exactly when their
// binary CIDs are equal.
type ID struct{ cid string }

// IDOf returns the ID of an entry whose canonical DAG-CBOR encoding is data:
// CIDv1, codec dag-cbor, multihash BLAKE3-256 of data.
func IDOf(data []byte) ID {
	sum := blake3.Sum256(data)
	var b [4 + digestBytes]byte
	b[0], b[1], b[2], b[3] = cidVersion1, codecDagCBOR, hashBLAKE3, digestBytes
	copy(b[4:], sum[:])
	return ID{cid: string(b[:])}
}

// IsIDOf reports whether id is IDOf(data), without making an ID: a check
// of every entry a store hands back, where the allocation showed.
func (id ID) IsIDOf(data []byte) bool {
	if len(id.cid) != 4+digestBytes || id.cid[:4] != string([]byte{cidVersion1, codecDagCBOR, hashBLAKE3, digestBytes}) {
		return false
	}
	sum := blake3.Sum256(data)
	return id.cid[4:] == string(sum[:])
}

// IDFromBytes parses a binary CIDv1. It accepts any codec and multihash code,
// as the reference parses and preserves them, but produces only BLAKE3 ones.
func IDFromBytes(b []byte) (ID, error) {
	if _, err := parseCID(b); err != nil {
		return ID{}, err
	}
	return ID{cid: string(b)}, nil
}

// ParseID parses the multibase base32-lower string form. "" parses as the
// zero ID. Any other multibase, upper case, CIDv0 or a non-canonical base32
// tail is refused.
func ParseID(s string) (ID, error) {
	if s == "" {
		return ID{}, nil
	}
	if s[0] != multibaseB32 || len(s) > 2*idBytesMax {
		return ID{}, fmt.Errorf("%w: %q: want multibase base32-lower (prefix b)", ErrBadID, clip(s))
	}
	b, err := base32Lower.DecodeString(s[1:])
	if err != nil || base32Lower.EncodeToString(b) != s[1:] {
		return ID{}, fmt.Errorf("%w: %q: not canonical base32-lower", ErrBadID, clip(s))
	}
	return IDFromBytes(b)
}

// MustParseID is ParseID for constants in tests and examples; it panics on error.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// IsZero reports whether id is the empty ID.
func (id ID) IsZero() bool { return id.cid == "" }

// String returns the multibase base32-lower form ("bafyr4i..." for entry IDs),
// or "" for the empty ID.
func (id ID) String() string {
	if id.cid == "" {
		return ""
	}
	return string(multibaseB32) + base32Lower.EncodeToString([]byte(id.cid))
}

// AppendText appends String's form to b, without String's allocations.
func (id ID) AppendText(b []byte) []byte {
	if id.cid == "" {
		return b
	}
	return base32Lower.AppendEncode(append(b, multibaseB32), []byte(id.cid))
}

// Bytes returns a copy of the binary CID.
func (id ID) Bytes() []byte { return []byte(id.cid) }

// Binary returns the binary CID as a string: Bytes without the copy, for
// lookups that only read it.
func (id ID) Binary() string { return id.cid }

// Compare orders IDs as the reference does (PROTOCOL.md 1.3): the empty ID
// first, then by (version, codec, hash code, digest length, digest). This is
// binary-CID order, never string order.
func (id ID) Compare(other ID) int {
	a, b := id.cid, other.cid
	if a == "" || b == "" {
		return cmp.Compare(len(a), len(b))
	}
	if singleByteVarints(a) && singleByteVarints(b) {
		// NB: with one-byte varints the tuple order is plain byte order, which
		// is the case for every ID the reference produces.
		return cmp.Compare(a, b)
	}
	ca, errA := parseCID([]byte(a))
	cb, errB := parseCID([]byte(b))
	if errA != nil || errB != nil {
		panic("entry: assertion failed: ID holds an unparsable CID")
	}
	return cmp.Or(
		cmp.Compare(ca.version, cb.version),
		cmp.Compare(ca.codec, cb.codec),
		cmp.Compare(ca.hashCode, cb.hashCode),
		cmp.Compare(len(ca.digest), len(cb.digest)),
		bytes.Compare(ca.digest, cb.digest),
	)
}

func singleByteVarints(c string) bool {
	return len(c) >= 4 && c[0] < 0x80 && c[1] < 0x80 && c[2] < 0x80 && c[3] < 0x80
}

// cid is a parsed binary CIDv1.
type cid struct {
	version, codec, hashCode uint64
	digest                   []byte
}

func parseCID(b []byte) (cid, error) {
	if len(b) == 0 || len(b) > idBytesMax {
		return cid{}, fmt.Errorf("%w: binary CID of %d bytes", ErrBadID, len(b))
	}
	var c cid
	rest := b
	for _, field := range []*uint64{&c.version, &c.codec, &c.hashCode} {
		v, n := binary.Uvarint(rest)
		if n <= 0 || n != uvarintLen(v) {
			return cid{}, fmt.Errorf("%w: bad varint in binary CID", ErrBadID)
		}
		*field, rest = v, rest[n:]
	}
	size, n := binary.Uvarint(rest)
	if n <= 0 || n != uvarintLen(size) || uint64(len(rest)-n) != size {
		return cid{}, fmt.Errorf("%w: multihash length does not match its digest", ErrBadID)
	}
	if c.version != cidVersion1 {
		return cid{}, fmt.Errorf("%w: CID version %d, want 1", ErrBadID, c.version)
	}
	c.digest = rest[n:]
	return c, nil
}

// uvarintLen is the minimal length of v as a varint; longer forms are refused
// so that one CID has one binary form.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// SortIDs sorts ids in place in ID order and removes duplicates, returning the
// shortened slice. This is the reference's Snapshot and parent-list order.
func SortIDs(ids []ID) []ID {
	slices.SortFunc(ids, ID.Compare)
	return slices.Compact(ids)
}
