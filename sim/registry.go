package sim

import (
	"fmt"
	"sync"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// registry is the simulator's god's-eye record of entries: every entry the
// workload made or any store holds (parents and heights for the checkers
// and for building children), the poison entries that must never be stored,
// and the IDs whose bytes were already verified once.
type registry struct {
	tr       *tracer
	entries  map[entry.ID]*entry.Entry
	poison   map[entry.ID]string // why it is poison
	verified map[entry.ID]bool
	count    [3]int // trees, entries, rogue entries made
}

func newRegistry(tr *tracer) *registry {
	return &registry{tr: tr, entries: map[entry.ID]*entry.Entry{}, poison: map[entry.ID]string{}, verified: map[entry.ID]bool{}}
}

// parents returns the parents of a known entry (nil for a root or unknown).
func (g *registry) parents(id entry.ID) []entry.ID {
	if e := g.entries[id]; e != nil {
		return e.Tree.Parents
	}
	return nil
}

// tree returns the tree of a known entry (zero for an unknown one).
func (g *registry) tree(id entry.ID) entry.ID {
	if e := g.entries[id]; e != nil {
		return e.TreeID(id)
	}
	return entry.ID{}
}

func (g *registry) height(id entry.ID) uint64 {
	if e := g.entries[id]; e != nil {
		return e.Tree.Height
	}
	return 0
}

// blob encodes a built entry, records it and names it.
func (g *registry) blob(e *entry.Entry, alias string) kernel.Blob {
	data, id, err := entry.Encode(e)
	if err != nil {
		panic(fmt.Sprintf("sim: encode a built entry: %v", err))
	}
	b := kernel.Blob{ID: id, Data: data, Entry: e}
	g.record(b, alias)
	return b
}

func (g *registry) record(b kernel.Blob, alias string) {
	g.entries[b.ID] = b.Entry
	g.tr.name(b.ID, alias)
}

// root makes a new tree's root entry.
func (g *registry) root(entropy uint64) kernel.Blob { return g.rootWith(entropy, nil) }

// rootWith makes a root whose _settings store holds settings (none if nil).
func (g *registry) rootWith(entropy uint64, settings []byte) kernel.Blob {
	b := entry.NewRoot(entropy)
	if settings != nil {
		b.Store(entry.StoreNode{Name: entry.StoreSettings, Data: settings})
	}
	e, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("sim: build root: %v", err))
	}
	g.count[0]++
	return g.blob(e, fmt.Sprintf("t%d", g.count[0]))
}

// child makes an entry of tree on parents, signed by key unless key is nil.
// The payload makes it unique.
func (g *registry) child(tree entry.ID, parents []entry.ID, payload []byte, key *entry.PrivateKey) kernel.Blob {
	var hint entry.PublicKey
	if key != nil {
		hint = key.Public()
	}
	e := g.build(tree, parents, payload, hint, nil)
	g.count[1]++
	if key == nil {
		return g.blob(e, fmt.Sprintf("e%d", g.count[1]))
	}
	// Signed as the Go API signs a commit (kernel.Seal), so that the
	// machine skips checking its own writer's signature there too.
	b, err := kernel.Seal(e, *key)
	if err != nil {
		panic(fmt.Sprintf("sim: seal entry: %v", err))
	}
	g.record(b, fmt.Sprintf("e%d", g.count[1]))
	return b
}

// build makes an entry whose signature hint names hint (none when zero),
// signed by signer (unsigned when nil): the rogue peer sets them apart.
func (g *registry) build(tree entry.ID, parents []entry.ID, payload []byte, hint entry.PublicKey, signer *entry.PrivateKey) *entry.Entry {
	var h uint64
	for _, p := range parents {
		h = max(h, g.height(p)+1)
	}
	b := entry.NewBuilder(tree).Parents(parents...).Height(h).Store(entry.StoreNode{Name: "data", Data: payload})
	if !hint.IsZero() {
		b.SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: hint}})
	}
	e, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("sim: build entry: %v", err))
	}
	if signer != nil {
		if err := entry.Sign(e, *signer); err != nil {
			panic(fmt.Sprintf("sim: sign entry: %v", err))
		}
	}
	return e
}

// rogueBlob names and records a bad entry; poison says why it must never
// be stored ("" for an entry that is valid but can never be placed).
func (g *registry) rogueBlob(e *entry.Entry, poison string) kernel.Blob {
	g.count[2]++
	data, id, err := entry.Encode(e)
	if err != nil {
		panic(fmt.Sprintf("sim: encode a rogue entry: %v", err))
	}
	g.tr.name(id, fmt.Sprintf("x%d", g.count[2]))
	if poison != "" {
		g.poison[id] = poison
	} else {
		g.entries[id] = e
	}
	return kernel.Blob{ID: id, Data: data, Entry: e}
}

// nodeKey is a node's identity, stable across restarts and wipes.
type nodeKey struct {
	priv entry.PrivateKey
	pub  entry.PublicKey
}

const keysMax = 32

// keys derives the identities once per process: Ed25519 key derivation is
// the slowest part of starting a run, and the keys depend only on the
// node's name.
var keys = sync.OnceValue(func() []nodeKey {
	out := make([]nodeKey, keysMax+1)
	for i := range out {
		_, seed := seedFor(fmt.Sprintf("node/%d", i))
		k := entry.NewPrivateKey(seed)
		out[i] = nodeKey{priv: k, pub: k.Public()}
	}
	return out
})

// rogueKey is the key of the misbehaving peer that sends bad entries.
func rogueKey() entry.PrivateKey { return keys()[keysMax].priv }
