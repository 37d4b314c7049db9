package entry

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// jsonExpansionMax bounds v0 JSON relative to CBOR: a byte costs up to six
// characters, for a control character in a string ("\u0001"); a byte of a
// byte string costs up to four ("255,"), and no other item grows more.
const jsonExpansionMax = 6

// entryPlain has Entry's fields and tags but none of its methods, so that
// Entry.MarshalJSON can hand it to encoding/json without recursing.
type entryPlain Entry

// EncodeJSON returns the v0 JSON of e (PROTOCOL.md 2.2): fields in the
// reference's declaration order, absent options omitted, byte strings as
// arrays of integers, lists never null.
func EncodeJSON(e *Entry) ([]byte, error) {
	return marshalJSON((*entryPlain)(withEmptyLists(e)))
}

// MarshalJSON is EncodeJSON.
func (e *Entry) MarshalJSON() ([]byte, error) { return EncodeJSON(e) }

// withEmptyLists returns e, or a shallow copy of it in which every nil list
// is empty, because serde writes an empty Vec as [] and encoding/json a nil
// slice as null.
func withEmptyLists(e *Entry) *Entry {
	fix := e.Tree.Parents == nil || e.Stores == nil
	for _, s := range e.Stores {
		fix = fix || s.Parents == nil
	}
	for _, p := range e.Sig.Key.Path {
		fix = fix || p.Tips == nil
	}
	if !fix {
		return e
	}
	c := *e
	c.Tree.Parents = orEmpty(c.Tree.Parents)
	c.Stores = slices.Clone(orEmpty(c.Stores))
	for i := range c.Stores {
		c.Stores[i].Parents = orEmpty(c.Stores[i].Parents)
	}
	c.Sig.Key.Path = slices.Clone(c.Sig.Key.Path)
	for i := range c.Sig.Key.Path {
		c.Sig.Key.Path[i].Tips = orEmpty(c.Sig.Key.Path[i].Tips)
	}
	return &c
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// DecodeJSON decodes one v0 JSON entry with DefaultLimits; see Limits.DecodeJSON.
func DecodeJSON(data []byte) (*Entry, ID, error) { return DefaultLimits().DecodeJSON(data) }

// DecodeJSON decodes one v0 JSON entry and returns it with its ID. Defaults
// the reference writes or accepts ("h":0, "_v":0, "data":null,
// "is_global":false) are accepted and dropped, as the reference does when it
// re-encodes (PROTOCOL.md 12.2); unknown fields, strings for byte arrays and
// missing required fields are refused. data is not retained.
func (lim Limits) DecodeJSON(data []byte) (*Entry, ID, error) {
	if len(data) > jsonExpansionMax*lim.EntryBytesMax {
		return nil, ID{}, fmt.Errorf("%w: JSON entry of %d bytes", ErrTooLarge, len(data))
	}
	if !utf8.Valid(data) {
		return nil, ID{}, fmt.Errorf("%w: JSON is not valid UTF-8", errJSON)
	}
	e := new(Entry)
	if err := decodeJSON(data, e); err != nil {
		return nil, ID{}, err
	}
	if err := e.Validate(lim); err != nil {
		return nil, ID{}, err
	}
	enc, id, err := Encode(e)
	if err != nil {
		return nil, ID{}, schemaError(err)
	}
	if len(enc) > lim.EntryBytesMax {
		return nil, ID{}, fmt.Errorf("%w: entry of %d bytes, limit %d", ErrTooLarge, len(enc), lim.EntryBytesMax)
	}
	return e, id, nil
}

// MarshalJSON encodes id as its string form.
func (id ID) MarshalJSON() ([]byte, error) { return json.Marshal(id.String()) }

// UnmarshalJSON decodes the string form; null is refused.
func (id *ID) UnmarshalJSON(data []byte) error {
	var s *string
	if err := json.Unmarshal(data, &s); err != nil || s == nil {
		return fmt.Errorf("%w: want a JSON string", ErrBadID)
	}
	parsed, err := ParseID(*s)
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
