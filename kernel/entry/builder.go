package entry

import (
	"cmp"
	"fmt"
	"slices"
)

// Builder assembles a new entry. It is the only place where lists are
// sorted: parents in ID order and deduplicated (PROTOCOL.md 1.3), stores by
// name. Build validates the result against the rules of section 1.1 and the
// Builder's limits. The zero Builder is not usable; use NewBuilder or NewRoot.
type Builder struct {
	entry  Entry
	limits Limits
}

// NewBuilder starts a non-root entry of the tree whose root entry is root.
func NewBuilder(root ID) *Builder {
	return &Builder{entry: Entry{Tree: TreeNode{Root: root}}, limits: DefaultLimits()}
}

// NewRoot starts a root entry: it carries the _root store with empty data
// and metadata whose entropy makes the root, and so the tree ID, unique. The
// caller draws entropy (from crypto/rand in production).
func NewRoot(entropy uint64) *Builder {
	b := &Builder{limits: DefaultLimits()}
	b.entry.Tree.Metadata = Metadata{Entropy: Entropy(entropy)}.Encode()
	b.entry.Stores = []StoreNode{{Name: StoreRoot, Parents: []ID{}, Data: Bytes{}}}
	return b
}

// WithLimits replaces DefaultLimits.
func (b *Builder) WithLimits(lim Limits) *Builder { b.limits = lim; return b }

// Parents sets the main parents, in any order, duplicates allowed.
func (b *Builder) Parents(ids ...ID) *Builder {
	b.entry.Tree.Parents = slices.Clone(ids)
	return b
}

// Height sets the tree height; see NextHeight.
func (b *Builder) Height(h uint64) *Builder { b.entry.Tree.Height = h; return b }

// Metadata sets the tree metadata bytes (see Metadata.Encode); nil clears it.
func (b *Builder) Metadata(m Bytes) *Builder { b.entry.Tree.Metadata = m.clone(); return b }

// Store adds a store node. Its parents may be in any order; data nil means
// "participates without data". A second store of the same name is an error
// at Build.
func (b *Builder) Store(s StoreNode) *Builder {
	s.Parents = slices.Clone(s.Parents)
	s.Data = s.Data.clone()
	b.entry.Stores = append(b.entry.Stores, s)
	return b
}

// SigKey sets the key hint the signature will be made under; Sign signs.
func (b *Builder) SigKey(k SigKey) *Builder {
	k.Path = slices.Clone(k.Path)
	b.entry.Sig = SigInfo{Key: k}
	return b
}

// Build returns the sorted, validated, unsigned entry. The Builder can be
// reused; the entry does not share memory with it.
func (b *Builder) Build() (*Entry, error) {
	e := b.entry.Clone()
	e.Tree.Parents = SortIDs(orEmpty(e.Tree.Parents))
	e.Stores = orEmpty(e.Stores)
	for i := range e.Stores {
		e.Stores[i].Parents = SortIDs(orEmpty(e.Stores[i].Parents))
	}
	slices.SortFunc(e.Stores, func(x, y StoreNode) int { return cmp.Compare(x.Name, y.Name) })
	for i := 1; i < len(e.Stores); i++ {
		if e.Stores[i].Name == e.Stores[i-1].Name {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateStore, e.Stores[i].Name)
		}
	}
	if err := e.Validate(b.limits); err != nil {
		return nil, err
	}
	if n := encodedSize(e); n > b.limits.EntryBytesMax {
		return nil, fmt.Errorf("%w: entry of %d bytes, limit %d", ErrTooLarge, n, b.limits.EntryBytesMax)
	}
	return e, nil
}

func encodedSize(e *Entry) int {
	data, err := EncodeCBOR(e)
	if err != nil {
		panic("entry: assertion failed: a validated entry does not encode: " + err.Error())
	}
	return len(data)
}

// NextHeight is the default (Incremental) height strategy: 0 for a root,
// otherwise one more than the highest parent.
func NextHeight(parentHeights ...uint64) uint64 {
	if len(parentHeights) == 0 {
		return 0
	}
	return slices.Max(parentHeights) + 1
}
