package entry

import (
	"fmt"
	"slices"
)

// Reserved store names (PROTOCOL.md 1.1).
const (
	StoreRoot     = "_root"     // marks a root entry; its data is an empty byte string
	StoreSettings = "_settings" // auth and database settings
	StoreIndex    = "_index"    // store registry
)

// Entry is an immutable vertex of a tree's Merkle-DAG (PROTOCOL.md 1.1).
//
// Field order is the reference's declaration order, which the v0 JSON keeps;
// the CBOR encoder sorts keys length-first as DAG-CBOR requires. An Entry
// returned by a decoder or the Builder is owned by the caller; treat it as
// read-only once its ID has been computed, since any change changes the ID.
type Entry struct {
	// Version is the format version _v. Only 0 exists; anything else is refused.
	Version uint8 `json:"_v,omitzero" cbor:"_v,omitzero"`
	// Tree is the main-tree node.
	Tree TreeNode `json:"tree" cbor:"tree"`
	// Stores holds one node per named store the entry touches (the
	// reference's "subtrees"), sorted by name when built.
	Stores []StoreNode `json:"subtrees" cbor:"subtrees"`
	// Sig is the entry's authentication.
	Sig SigInfo `json:"sig" cbor:"sig"`
}

// TreeNode is the main-tree part of an entry.
type TreeNode struct {
	// Root is the tree's root entry ID, zero for a root entry itself.
	Root ID `json:"root,omitzero" cbor:"root,omitzero"`
	// Parents are the main parents, sorted and deduplicated when built;
	// empty only for a root entry.
	Parents []ID `json:"parents" cbor:"parents"`
	// Metadata is opaque bytes, by convention the JSON of Metadata. Nil is
	// absent; an empty non-nil value is present and hashes differently.
	Metadata Bytes `json:"metadata,omitzero" cbor:"metadata,omitzero"`
	// Height is 0 for a root and max(parent heights)+1 by default; 0 is
	// omitted from both encodings.
	Height uint64 `json:"h,omitzero" cbor:"h,omitzero"`
}

// StoreNode is one named store's part of an entry (the reference's SubTreeNode).
type StoreNode struct {
	// Name is the store's non-empty name.
	Name string `json:"name" cbor:"name"`
	// Parents are this entry's parents within the store.
	Parents []ID `json:"parents" cbor:"parents"`
	// Data is the store payload. Nil means "participates without data"; an
	// empty non-nil value is present and distinct.
	Data Bytes `json:"data,omitzero" cbor:"data,omitzero"`
	// Height is the store's own height; nil inherits the tree height, and a
	// pointer to 0 is encoded and distinct from nil.
	Height *uint64 `json:"h,omitempty" cbor:"h,omitempty"`
}

// SigInfo is an entry's authentication: the key hint and the signature.
type SigInfo struct {
	// Sig is the standard base64 text of the 64-byte Ed25519 signature, ""
	// when unsigned. NB: in DAG-CBOR it is a text string, not bytes (12.5).
	Sig string `json:"sig,omitzero" cbor:"sig,omitzero"`
	// Key says which key signed.
	Key SigKey `json:"key" cbor:"key"`
}

// SigKey is the reference's SigKey enum: Direct{hint} when Delegated is false,
// Delegation{path, hint} when it is true. The zero value is Direct with an
// empty hint, which with an empty Sig is an unsigned entry.
type SigKey struct {
	Delegated bool
	Path      []DelegationStep // only for a delegation
	Hint      KeyHint
}

// KeyHint names the signing key. Each field's zero value means absent.
type KeyHint struct {
	PubKey PublicKey `json:"pubkey,omitzero" cbor:"pubkey,omitzero"`
	Name   string    `json:"name,omitzero" cbor:"name,omitzero"`
	// Global means "signing under the * grant with PubKey".
	Global bool `json:"is_global,omitzero" cbor:"is_global,omitzero"`
}

// DelegationStep is one hop of a delegation path: a tree and the tips of it
// at which the delegation was resolved.
type DelegationStep struct {
	Tree ID   `json:"tree" cbor:"tree"`
	Tips []ID `json:"tips" cbor:"tips"`
}

// IsZero reports whether the hint names nothing.
func (h KeyHint) IsZero() bool { return h == KeyHint{} }

// IsRoot reports whether e is a root entry: it carries the _root store, has
// no main parents and no root field.
func (e *Entry) IsRoot() bool {
	return e.Tree.Root.IsZero() && len(e.Tree.Parents) == 0 && e.Store(StoreRoot) != nil
}

// Store returns the node of the named store, or nil.
func (e *Entry) Store(name string) *StoreNode {
	for i := range e.Stores {
		if e.Stores[i].Name == name {
			return &e.Stores[i]
		}
	}
	return nil
}

// TreeID returns the ID of the tree e belongs to: its Root field, or id
// itself for a root entry (whose ID the caller computed).
func (e *Entry) TreeID(id ID) ID {
	if e.Tree.Root.IsZero() {
		return id
	}
	return e.Tree.Root
}

// Clone returns a deep copy of e.
func (e *Entry) Clone() *Entry {
	c := *e
	c.Tree.Parents = slices.Clone(e.Tree.Parents)
	c.Tree.Metadata = e.Tree.Metadata.clone()
	c.Stores = slices.Clone(e.Stores)
	for i := range c.Stores {
		s := &c.Stores[i]
		s.Parents = slices.Clone(s.Parents)
		s.Data = s.Data.clone()
		if s.Height != nil {
			h := *s.Height
			s.Height = &h
		}
	}
	c.Sig.Key.Path = slices.Clone(e.Sig.Key.Path)
	for i := range c.Sig.Key.Path {
		c.Sig.Key.Path[i].Tips = slices.Clone(c.Sig.Key.Path[i].Tips)
	}
	return &c
}

// Limits bounds every field a peer controls. The zero value is not usable;
// start from DefaultLimits.
type Limits struct {
	EntryBytesMax      int // canonical CBOR encoding of one entry
	ParentsMax         int // IDs in one parent list or one delegation step's tips
	StoresMax          int // stores in one entry
	NameBytesMax       int // a store name or a key-hint name
	DelegationStepsMax int // steps in one delegation path
}

// DefaultLimits are generous for real databases and small enough that a peer
// cannot make one entry cost more than about a megabyte.
func DefaultLimits() Limits {
	return Limits{
		EntryBytesMax:      1 << 20,
		ParentsMax:         1024,
		StoresMax:          256,
		NameBytesMax:       256,
		DelegationStepsMax: 16,
	}
}

// Validate checks the rules of PROTOCOL.md 1.1 and the limits. It never
// reorders anything: received entries keep their list order.
func (e *Entry) Validate(lim Limits) error {
	if e.Version != 0 {
		return fmt.Errorf("%w: _v=%d", ErrUnsupportedVersion, e.Version)
	}
	if err := checkParents(func() string { return "tree.parents" }, e.Tree.Parents, lim); err != nil {
		return err
	}
	if len(e.Stores) > lim.StoresMax {
		return fmt.Errorf("%w: %d stores, limit %d", ErrTooLarge, len(e.Stores), lim.StoresMax)
	}
	hasRootStore := false
	for i := range e.Stores {
		s := &e.Stores[i]
		if s.Name == "" {
			return fmt.Errorf("%w: subtrees[%d]", ErrEmptyStoreName, i)
		}
		if len(s.Name) > lim.NameBytesMax {
			return fmt.Errorf("%w: store name of %d bytes, limit %d", ErrTooLarge, len(s.Name), lim.NameBytesMax)
		}
		if err := checkParents(func() string { return "subtrees[" + s.Name + "].parents" }, s.Parents, lim); err != nil {
			return err
		}
		hasRootStore = hasRootStore || s.Name == StoreRoot
	}
	switch {
	case hasRootStore && len(e.Tree.Parents) > 0:
		return ErrRootWithParents
	case len(e.Tree.Parents) == 0 && !(hasRootStore && e.Tree.Root.IsZero()):
		return ErrMissingParents
	}
	return e.Sig.validate(lim)
}

// checkParents checks one parent list; field names it in an error, and is
// called only then (building the name for every store of every entry was
// an allocation each).
func checkParents(field func() string, ids []ID, lim Limits) error {
	if len(ids) > lim.ParentsMax {
		return fmt.Errorf("%w: %s has %d IDs, limit %d", ErrTooLarge, field(), len(ids), lim.ParentsMax)
	}
	for _, id := range ids {
		if id.IsZero() {
			return fmt.Errorf("%w: in %s", ErrEmptyParentID, field())
		}
	}
	return nil
}

// sigTextBytes is the base64 length of a 64-byte signature.
const sigTextBytes = 88

func (s *SigInfo) validate(lim Limits) error {
	if len(s.Sig) > sigTextBytes {
		return fmt.Errorf("%w: sig of %d characters", ErrTooLarge, len(s.Sig))
	}
	if len(s.Key.Hint.Name) > lim.NameBytesMax {
		return fmt.Errorf("%w: key hint name of %d bytes, limit %d", ErrTooLarge, len(s.Key.Hint.Name), lim.NameBytesMax)
	}
	if !s.Key.Delegated && len(s.Key.Path) > 0 {
		return fmt.Errorf("%w: direct key with a delegation path", ErrMalformedSig)
	}
	if len(s.Key.Path) > lim.DelegationStepsMax {
		return fmt.Errorf("%w: delegation path of %d steps, limit %d", ErrTooLarge, len(s.Key.Path), lim.DelegationStepsMax)
	}
	for _, step := range s.Key.Path {
		if len(step.Tips) > lim.ParentsMax {
			return fmt.Errorf("%w: delegation step with %d tips, limit %d", ErrTooLarge, len(step.Tips), lim.ParentsMax)
		}
	}
	return nil
}
