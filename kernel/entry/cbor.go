package entry

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// encMode is DAG-CBOR as serde_ipld_dagcbor writes it: map keys length-first
// then bytewise, minimal integers, definite lengths, nil lists as [].
var encMode = mustEncMode(cbor.EncOptions{
	Sort:          cbor.SortLengthFirst,
	IndefLength:   cbor.IndefLengthForbidden,
	NilContainers: cbor.NilContainerAsEmpty,
	TagsMd:        cbor.TagsAllowed,
})

// decMode reads the entry schema strictly. Canonical form is checked before
// it runs (checkCanonical) and again by re-encoding after it.
var decMode = mustDecMode(cbor.DecOptions{
	DupMapKey:         cbor.DupMapKeyEnforcedAPF,
	IndefLength:       cbor.IndefLengthForbidden,
	TagsMd:            cbor.TagsAllowed,
	ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	MaxNestedLevels:   cborDepthMax,
	UTF8:              cbor.UTF8RejectInvalid,
})

// cborDepthMax bounds nesting; the deepest entry path (sig.key.Delegation.
// path[i].tips[j] with its tag) is 8 levels.
const cborDepthMax = 16

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}

// errSchema reports CBOR that is canonical but not an entry.
var errSchema = malformed("CBOR does not match the entry schema")

// EncodeCBOR returns the canonical DAG-CBOR encoding of e, the bytes its ID
// hashes. It does not validate e; the Builder and decoders do. The error is
// always nil (appendEntry cannot fail); it stays for the callers.
func EncodeCBOR(e *Entry) ([]byte, error) {
	return appendEntry(make([]byte, 0, encodedSizeHint(e)), e, true), nil
}

// Encode returns e's canonical encoding and its ID.
func Encode(e *Entry) ([]byte, ID, error) {
	data, err := EncodeCBOR(e)
	if err != nil {
		return nil, ID{}, err
	}
	return data, IDOf(data), nil
}

// ComputeID returns e's ID: the hash of its canonical encoding.
func ComputeID(e *Entry) (ID, error) {
	_, id, err := Encode(e)
	return id, err
}

// DecodeCBOR decodes one entry with DefaultLimits; see Limits.DecodeCBOR.
func DecodeCBOR(data []byte) (*Entry, ID, error) { return DefaultLimits().DecodeCBOR(data) }

// DecodeCBOR decodes one entry and returns it with its ID. Input that is not
// exactly the canonical encoding of a valid entry is refused with an error
// wrapping ErrMalformed and naming the cause. data is not retained.
func (lim Limits) DecodeCBOR(data []byte) (*Entry, ID, error) {
	if len(data) > lim.EntryBytesMax {
		return nil, ID{}, fmt.Errorf("%w: entry of %d bytes, limit %d", ErrTooLarge, len(data), lim.EntryBytesMax)
	}
	// NB: an entry the fast decoder reads, that is valid and re-encodes to
	// data, is one the path below accepts as the same entry; anything else
	// takes that path, for its answer and its error.
	if e, ok := lim.decodeFast(data); ok {
		return e, IDOf(data), nil
	}
	return lim.decodeReflect(data)
}

// decodeFast returns the fast decoder's entry if it is valid and
// re-encodes to data, and ok false for anything else.
func (lim Limits) decodeFast(data []byte) (*Entry, bool) {
	e, ok := decodeFast(data)
	var room [1024]byte // NB: the re-encoding stays on the stack when it fits
	if !ok || e.Validate(lim) != nil || !bytes.Equal(appendEntry(room[:0], e, true), data) {
		return nil, false
	}
	return e, true
}

// decodeReflect is DecodeCBOR through the reflective decoder, which names
// the cause of any refusal.
func (lim Limits) decodeReflect(data []byte) (*Entry, ID, error) {
	if err := checkCanonical(data); err != nil {
		return nil, ID{}, err
	}
	e := new(Entry)
	if err := decMode.Unmarshal(data, e); err != nil {
		if errors.Is(err, ErrMalformed) {
			return nil, ID{}, err
		}
		return nil, ID{}, fmt.Errorf("%w: %v", errSchema, err)
	}
	if err := e.Validate(lim); err != nil {
		return nil, ID{}, err
	}
	if again := appendEntry(make([]byte, 0, len(data)), e, true); !bytes.Equal(again, data) {
		// NB: structure was canonical, so the difference is an explicit
		// default (_v 0, h 0, is_global false, an empty name) that the
		// reference's encoder never writes.
		return nil, ID{}, fmt.Errorf("%w: explicit default value", ErrNonCanonical)
	}
	return e, IDOf(data), nil
}

// MarshalCBOR encodes id as a DAG-CBOR link: tag 42 around a byte string of
// 0x00 (the identity multibase) and the binary CID; the zero ID is null.
func (id ID) MarshalCBOR() ([]byte, error) {
	if id.IsZero() {
		return []byte{0xf6}, nil
	}
	out := make([]byte, 0, 2+9+1+len(id.cid))
	out = append(out, 0xd8, cborTagCIDNum)
	out = appendHead(out, 2, uint64(1+len(id.cid)))
	out = append(out, 0x00)
	return append(out, id.cid...), nil
}

// UnmarshalCBOR decodes a DAG-CBOR link or null.
func (id *ID) UnmarshalCBOR(data []byte) error {
	if len(data) == 1 && data[0] == 0xf6 {
		*id = ID{}
		return nil
	}
	var tag cbor.RawTag
	if err := decMode.Unmarshal(data, &tag); err != nil || tag.Number != cborTagCIDNum {
		return fmt.Errorf("%w: want a tag-42 CID link", ErrBadID)
	}
	// NB: the decoder would read a byte string through further tags, so the
	// content's major type is checked first.
	if len(tag.Content) == 0 || tag.Content[0]>>5 != 2 {
		return fmt.Errorf("%w: tag-42 content must be a byte string", ErrBadID)
	}
	var raw []byte
	if err := decMode.Unmarshal(tag.Content, &raw); err != nil || len(raw) < 2 || raw[0] != 0x00 {
		return fmt.Errorf("%w: tag-42 content must be 0x00 and a binary CID", ErrBadID)
	}
	parsed, err := IDFromBytes(raw[1:])
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// appendHead appends a minimal CBOR head.
func appendHead(out []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(out, m|byte(arg))
	case arg <= 0xff:
		return append(out, m|24, byte(arg))
	case arg <= 0xffff:
		return binary.BigEndian.AppendUint16(append(out, m|25), uint16(arg))
	case arg <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(out, m|26), uint32(arg))
	default:
		return binary.BigEndian.AppendUint64(append(out, m|27), arg)
	}
}
