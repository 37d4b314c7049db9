package entry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// This file holds the decode side of both encodings. Each type decodes
// through a twin whose fields are pointers, so that a required field that is
// absent, and an optional one that is present but empty, are told apart from
// a zero value and refused instead of silently changing the entry's ID.

type entryIn struct {
	Version *uint8       `json:"_v" cbor:"_v"`
	Tree    *TreeNode    `json:"tree" cbor:"tree"`
	Stores  *[]StoreNode `json:"subtrees" cbor:"subtrees"`
	Sig     *SigInfo     `json:"sig" cbor:"sig"`
}

func (w *entryIn) into(e *Entry) error {
	if w.Tree == nil || w.Stores == nil || w.Sig == nil {
		return fmt.Errorf("%w: entry needs tree, subtrees and sig", ErrMissingField)
	}
	*e = Entry{Tree: *w.Tree, Stores: *w.Stores, Sig: *w.Sig}
	if w.Version != nil {
		e.Version = *w.Version
	}
	return nil
}

type treeIn struct {
	Root     presentID `json:"root" cbor:"root"` // null is present and empty
	Parents  *[]ID     `json:"parents" cbor:"parents"`
	Metadata Bytes     `json:"metadata" cbor:"metadata"`
	Height   *uint64   `json:"h" cbor:"h"`
}

func (w *treeIn) into(t *TreeNode) error {
	if w.Parents == nil {
		return fmt.Errorf("%w: tree.parents", ErrMissingField)
	}
	if w.Root.present && w.Root.id.IsZero() {
		return fmt.Errorf("%w: tree.root is present but empty", ErrBadID)
	}
	*t = TreeNode{Root: w.Root.id, Parents: *w.Parents, Metadata: w.Metadata}
	if w.Height != nil {
		t.Height = *w.Height
	}
	return nil
}

type storeIn struct {
	Name    *string `json:"name" cbor:"name"`
	Parents *[]ID   `json:"parents" cbor:"parents"`
	Data    Bytes   `json:"data" cbor:"data"`
	Height  *uint64 `json:"h" cbor:"h"`
}

func (w *storeIn) into(s *StoreNode) error {
	if w.Name == nil || w.Parents == nil {
		return fmt.Errorf("%w: subtrees[] needs name and parents", ErrMissingField)
	}
	*s = StoreNode{Name: *w.Name, Parents: *w.Parents, Data: w.Data, Height: w.Height}
	return nil
}

type sigInfoIn struct {
	Sig *string `json:"sig" cbor:"sig"`
	Key *SigKey `json:"key" cbor:"key"`
}

func (w *sigInfoIn) into(s *SigInfo) error {
	if w.Key == nil {
		return fmt.Errorf("%w: sig.key", ErrMissingField)
	}
	if w.Sig != nil && *w.Sig == "" {
		return fmt.Errorf("%w: sig.sig is present but empty", ErrMalformedSig)
	}
	*s = SigInfo{Key: *w.Key}
	if w.Sig != nil {
		s.Sig = *w.Sig
	}
	return nil
}

type keyHintIn struct {
	PubKey *PublicKey `json:"pubkey" cbor:"pubkey"`
	Name   *string    `json:"name" cbor:"name"`
	Global *bool      `json:"is_global" cbor:"is_global"`
}

func (w *keyHintIn) into(h *KeyHint) error {
	if w.Name != nil && *w.Name == "" {
		return fmt.Errorf("%w: hint name is present but empty", ErrMalformedSig)
	}
	*h = KeyHint{}
	if w.PubKey != nil {
		h.PubKey = *w.PubKey
	}
	if w.Name != nil {
		h.Name = *w.Name
	}
	if w.Global != nil {
		h.Global = *w.Global
	}
	return nil
}

type stepIn struct {
	Tree presentID `json:"tree" cbor:"tree"`
	Tips *[]ID     `json:"tips" cbor:"tips"`
}

func (w *stepIn) into(s *DelegationStep) error {
	if !w.Tree.present || w.Tips == nil {
		return fmt.Errorf("%w: delegation step needs tree and tips", ErrMissingField)
	}
	*s = DelegationStep{Tree: w.Tree.id, Tips: *w.Tips}
	return nil
}

// presentID is a required ID field that may hold the empty ID, which DAG-CBOR
// writes as null (PROTOCOL.md 1.2). A *ID cannot be used: the CBOR decoder
// sets a pointer to nil on null, which would read as an absent field.
type presentID struct {
	id      ID
	present bool
}

func (p *presentID) UnmarshalCBOR(b []byte) error {
	p.present = true
	return p.id.UnmarshalCBOR(b)
}

func (p *presentID) UnmarshalJSON(b []byte) error {
	p.present = true
	return p.id.UnmarshalJSON(b)
}

// sigKeyWire is the externally tagged enum: exactly one variant is set.
type sigKeyWire struct {
	Direct     *directWire     `json:"Direct,omitempty" cbor:"Direct,omitempty"`
	Delegation *delegationWire `json:"Delegation,omitempty" cbor:"Delegation,omitempty"`
}

type directWire struct {
	Hint *KeyHint `json:"hint" cbor:"hint"`
}

type delegationWire struct {
	Path *[]DelegationStep `json:"path" cbor:"path"`
	Hint *KeyHint          `json:"hint" cbor:"hint"`
}

func (k SigKey) wire() sigKeyWire {
	hint := k.Hint
	if !k.Delegated {
		return sigKeyWire{Direct: &directWire{Hint: &hint}}
	}
	path := k.Path
	if path == nil {
		path = []DelegationStep{}
	}
	return sigKeyWire{Delegation: &delegationWire{Path: &path, Hint: &hint}}
}

func (w *sigKeyWire) into(k *SigKey) error {
	switch {
	case w.Direct != nil && w.Delegation == nil:
		if w.Direct.Hint == nil {
			return fmt.Errorf("%w: Direct.hint", ErrMissingField)
		}
		*k = SigKey{Hint: *w.Direct.Hint}
	case w.Delegation != nil && w.Direct == nil:
		if w.Delegation.Hint == nil || w.Delegation.Path == nil {
			return fmt.Errorf("%w: Delegation needs path and hint", ErrMissingField)
		}
		*k = SigKey{Delegated: true, Path: *w.Delegation.Path, Hint: *w.Delegation.Hint}
	default:
		return fmt.Errorf("%w: sig.key must be exactly one of Direct or Delegation", ErrMalformedSig)
	}
	return nil
}

// MarshalCBOR encodes the enum as a one-entry map {variant: fields}.
func (k SigKey) MarshalCBOR() ([]byte, error) { return encMode.Marshal(k.wire()) }

// MarshalJSON encodes the enum as serde does: {"Direct":{"hint":...}}.
func (k SigKey) MarshalJSON() ([]byte, error) { return marshalJSON(k.wire()) }

// The Unmarshal methods below decode through the pointer twins above.

func (e *Entry) UnmarshalCBOR(b []byte) error {
	var w entryIn
	return viaCBOR(b, &w, func() error { return w.into(e) })
}
func (e *Entry) UnmarshalJSON(b []byte) error {
	var w entryIn
	return viaJSON(b, &w, func() error { return w.into(e) })
}

func (t *TreeNode) UnmarshalCBOR(b []byte) error {
	var w treeIn
	return viaCBOR(b, &w, func() error { return w.into(t) })
}
func (t *TreeNode) UnmarshalJSON(b []byte) error {
	var w treeIn
	return viaJSON(b, &w, func() error { return w.into(t) })
}

func (s *StoreNode) UnmarshalCBOR(b []byte) error {
	var w storeIn
	return viaCBOR(b, &w, func() error { return w.into(s) })
}
func (s *StoreNode) UnmarshalJSON(b []byte) error {
	var w storeIn
	return viaJSON(b, &w, func() error { return w.into(s) })
}

func (s *SigInfo) UnmarshalCBOR(b []byte) error {
	var w sigInfoIn
	return viaCBOR(b, &w, func() error { return w.into(s) })
}
func (s *SigInfo) UnmarshalJSON(b []byte) error {
	var w sigInfoIn
	return viaJSON(b, &w, func() error { return w.into(s) })
}

func (h *KeyHint) UnmarshalCBOR(b []byte) error {
	var w keyHintIn
	return viaCBOR(b, &w, func() error { return w.into(h) })
}
func (h *KeyHint) UnmarshalJSON(b []byte) error {
	var w keyHintIn
	return viaJSON(b, &w, func() error { return w.into(h) })
}

func (s *DelegationStep) UnmarshalCBOR(b []byte) error {
	var w stepIn
	return viaCBOR(b, &w, func() error { return w.into(s) })
}
func (s *DelegationStep) UnmarshalJSON(b []byte) error {
	var w stepIn
	return viaJSON(b, &w, func() error { return w.into(s) })
}

func (k *SigKey) UnmarshalCBOR(b []byte) error {
	var w sigKeyWire
	return viaCBOR(b, &w, func() error { return w.into(k) })
}
func (k *SigKey) UnmarshalJSON(b []byte) error {
	var w sigKeyWire
	return viaJSON(b, &w, func() error { return w.into(k) })
}

func viaCBOR(b []byte, w any, into func() error) error {
	if err := decMode.Unmarshal(b, w); err != nil {
		return schemaError(err)
	}
	return into()
}

func viaJSON(b []byte, w any, into func() error) error {
	if err := decodeJSON(b, w); err != nil {
		return err
	}
	if err := checkJSONKeys(b); err != nil {
		return err
	}
	return into()
}

// errJSON reports JSON that is not an entry.
var errJSON = malformed("JSON does not match the entry schema")

// decodeJSON decodes exactly one JSON value into v, refusing unknown fields
// (dropping one would change the entry's ID) and trailing data.
func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		if errors.Is(err, ErrMalformed) {
			return err
		}
		return fmt.Errorf("%w: %v", errJSON, err)
	}
	if len(bytes.TrimLeft(data[d.InputOffset():], " \t\r\n")) != 0 {
		return fmt.Errorf("%w: trailing data after JSON value", errJSON)
	}
	return nil
}

func schemaError(err error) error {
	if errors.Is(err, ErrMalformed) {
		return err
	}
	return fmt.Errorf("%w: %v", errSchema, err)
}

// marshalJSON is json.Marshal without HTML escaping, as serde_json writes.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
