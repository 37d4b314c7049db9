package eidsync

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/access"
	"github.com/eidsync/eidsync/kernel/entry"
)

// Database is one tree: a root entry and its history.
type Database struct {
	in *Instance
	id entry.ID
}

// settings is what a root's _settings store holds: the database's name
// and its auth (package kernel/access).
type settings struct {
	Name string          `json:"name"`
	Auth *access.AuthDoc `json:"auth,omitempty"`
}

// CreateDatabase makes a new tree whose root, signed by the device key,
// names it. The name is not unique; the ID is. The database is private: the
// device key is its admin, Admin(0), and no one else may read or write it
// until granted (Database.Grant, or by approving a bootstrap request);
// Public opens it to everyone at a level.
func (in *Instance) CreateDatabase(ctx context.Context, name string, opts ...DatabaseOption) (*Database, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: a database needs a name", ErrInvalidArgument)
	}
	var entropy [8]byte
	if _, err := rand.Read(entropy[:]); err != nil {
		return nil, err
	}
	auth := &access.AuthDoc{Keys: map[string]access.Grant{
		in.key.Public().String(): {Name: "device", Permissions: PermAdmin(0), Status: access.Active}}}
	for _, opt := range opts {
		opt(auth)
	}
	data, _ := json.Marshal(settings{Name: name, Auth: auth})
	e, err := entry.NewRoot(binary.LittleEndian.Uint64(entropy[:])).
		Store(entry.StoreNode{Name: entry.StoreSettings, Data: data}).
		SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: in.key.Public()}}).Build()
	if err != nil {
		return nil, err
	}
	id, err := in.commit(ctx, entry.ID{}, e)
	if err != nil {
		return nil, err
	}
	return &Database{in: in, id: id}, nil
}

// OpenDatabase opens a tree this node holds.
func (in *Instance) OpenDatabase(ctx context.Context, id entry.ID) (*Database, error) {
	ok, err := in.st.Has(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownDatabase, id)
	}
	return &Database{in: in, id: id}, ctx.Err()
}

// DatabaseInfo describes one tree.
type DatabaseInfo struct {
	ID      entry.ID   `json:"id"`
	Name    string     `json:"name"`
	Entries int        `json:"entries"`
	Tips    []entry.ID `json:"tips"`
}

// Databases lists the trees this node holds, oldest first.
func (in *Instance) Databases(ctx context.Context) ([]DatabaseInfo, error) {
	roots, err := in.st.Trees()
	if err != nil {
		return nil, err
	}
	var out []DatabaseInfo
	for _, root := range roots {
		db := &Database{in: in, id: root}
		info, err := db.Info(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// ID returns the tree's ID (its root entry's ID).
func (db *Database) ID() entry.ID { return db.id }

// Info returns the tree's name, size and tips.
func (db *Database) Info(ctx context.Context) (DatabaseInfo, error) {
	info := DatabaseInfo{ID: db.id}
	blobs, err := db.in.st.Read(kernel.Read{IDs: []entry.ID{db.id}})
	if err != nil || len(blobs) == 0 {
		return info, errors.Join(fmt.Errorf("%w: %s", ErrUnknownDatabase, db.id), err)
	}
	if s := blobs[0].Entry.Store(entry.StoreSettings); s != nil {
		var set settings
		_ = json.Unmarshal(s.Data, &set)
		info.Name = set.Name
	}
	if info.Entries, err = db.in.st.Count(db.id); err != nil {
		return info, err
	}
	err = db.in.d.call(ctx, func(d *driver) { info.Tips = d.m.Tips(db.id) })
	return info, err
}

// Transaction gathers store writes for one entry. It is not safe for
// concurrent use; Commit it once.
type Transaction struct {
	db    *Database
	bytes map[string][]byte
	docs  map[string]map[string]string
}

// NewTransaction starts a transaction on the database.
func (db *Database) NewTransaction() *Transaction {
	return &Transaction{db: db, bytes: map[string][]byte{}, docs: map[string]map[string]string{}}
}

// Put sets a bytes store to data (the store's whole value).
func (tx *Transaction) Put(store string, data []byte) *Transaction {
	tx.bytes[store] = append([]byte{}, data...)
	return tx
}

// Set sets key to value in a key/value document store.
func (tx *Transaction) Set(store, key, value string) *Transaction {
	if tx.docs[store] == nil {
		tx.docs[store] = map[string]string{}
	}
	tx.docs[store][key] = value
	return tx
}

// Commit writes the transaction as one entry whose parents are the tree's
// current tips, signed by the device key, and returns its ID once durable.
func (tx *Transaction) Commit(ctx context.Context) (entry.ID, error) {
	if len(tx.bytes)+len(tx.docs) == 0 {
		return entry.ID{}, fmt.Errorf("%w: empty transaction", ErrInvalidArgument)
	}
	if err := tx.db.need(ctx, writePerm, "write"); err != nil {
		return entry.ID{}, err
	}
	b := entry.NewBuilder(tx.db.id).SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: tx.db.in.key.Public()}})
	for _, name := range slices.Sorted(maps.Keys(tx.bytes)) {
		if _, clash := tx.docs[name]; clash || name == "" || name[0] == '_' {
			return entry.ID{}, fmt.Errorf("%w: store name %q is empty, reserved or used twice", ErrInvalidArgument, name)
		}
		b.Store(entry.StoreNode{Name: name, Data: tx.bytes[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(tx.docs)) {
		if name == "" || name[0] == '_' {
			return entry.ID{}, fmt.Errorf("%w: store name %q is empty or reserved", ErrInvalidArgument, name)
		}
		data, _ := json.Marshal(tx.docs[name])
		b.Store(entry.StoreNode{Name: name, Data: data})
	}
	return tx.db.in.commitChild(ctx, tx.db.id, b)
}

// commitChild completes b on the loop with the tree's tips as parents and
// commits it.
func (in *Instance) commitChild(ctx context.Context, tree entry.ID, b *entry.Builder) (entry.ID, error) {
	var built *entry.Entry
	n, err := in.d.await(ctx, func(d *driver, ref kernel.Ref) (kernel.Event, error) {
		tips := d.m.Tips(tree)
		if len(tips) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownDatabase, tree)
		}
		parents, err := d.st.Read(kernel.Read{IDs: tips})
		if err != nil {
			return nil, err
		}
		var height uint64
		for _, p := range parents {
			height = max(height, p.Entry.Tree.Height+1)
		}
		if built, err = b.Parents(tips...).Height(height).Build(); err != nil {
			return nil, err
		}
		return in.committed(ref, built)
	})
	return in.result(tree, n, err)
}

// commit commits a built entry (a root) and waits until it is durable.
func (in *Instance) commit(ctx context.Context, tree entry.ID, e *entry.Entry) (entry.ID, error) {
	n, err := in.d.await(ctx, func(_ *driver, ref kernel.Ref) (kernel.Event, error) {
		return in.committed(ref, e)
	})
	return in.result(tree, n, err)
}

// committed signs e and makes the Committed event.
func (in *Instance) committed(ref kernel.Ref, e *entry.Entry) (kernel.Event, error) {
	b, err := kernel.Seal(e, in.key)
	if err != nil {
		return nil, err
	}
	return kernel.Committed{Ref: ref, Blob: b}, nil
}

func (in *Instance) result(tree entry.ID, n kernel.Notice, err error) (entry.ID, error) {
	if err != nil {
		return entry.ID{}, err
	}
	if n.Kind != kernel.NoticeCommitted {
		return entry.ID{}, &CommitError{Tree: tree, Reason: n.Err}
	}
	return n.ID, nil
}

// LogEntry is one entry of a database's history.
type LogEntry struct {
	ID      entry.ID   `json:"id"`
	Height  uint64     `json:"height"`
	Parents []entry.ID `json:"parents"`
	Stores  []string   `json:"stores"`
}

// Log returns the history in a canonical order (height, then ID) that every
// node holding the same entries agrees on.
func (db *Database) Log(ctx context.Context) ([]LogEntry, error) {
	var out []LogEntry
	err := db.in.st.Entries(db.id, 0, func(_ uint64, b kernel.Blob) error {
		le := LogEntry{ID: b.ID, Height: b.Entry.Tree.Height, Parents: b.Entry.Tree.Parents}
		for _, s := range b.Entry.Stores {
			le.Stores = append(le.Stores, s.Name)
		}
		out = append(out, le)
		return ctx.Err()
	})
	slices.SortFunc(out, func(a, b LogEntry) int { return cmp.Or(cmp.Compare(a.Height, b.Height), a.ID.Compare(b.ID)) })
	return out, err
}

// Get returns a bytes store's value: the data of the last entry, in the
// canonical order, that wrote it; nil when none did.
func (db *Database) Get(ctx context.Context, store string) ([]byte, error) {
	var last []byte
	err := db.inOrder(ctx, store, func(data []byte) { last = data })
	return last, err
}

// GetKey returns key of a document store, merged over the history in the
// canonical order (a later entry's value wins); ok is false when unset.
func (db *Database) GetKey(ctx context.Context, store, key string) (value string, ok bool, err error) {
	err = db.inOrder(ctx, store, func(data []byte) {
		var doc map[string]string
		if json.Unmarshal(data, &doc) == nil {
			if v, set := doc[key]; set {
				value, ok = v, true
			}
		}
	})
	return value, ok, err
}

// inOrder calls fn with the data of every entry writing store, in the
// canonical order.
func (db *Database) inOrder(ctx context.Context, store string, fn func([]byte)) error {
	type write struct {
		height uint64
		id     entry.ID
		data   []byte
	}
	var ws []write
	err := db.in.st.Entries(db.id, 0, func(_ uint64, b kernel.Blob) error {
		if s := b.Entry.Store(store); s != nil && s.Data != nil {
			ws = append(ws, write{b.Entry.Tree.Height, b.ID, s.Data})
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	slices.SortFunc(ws, func(a, b write) int { return cmp.Or(cmp.Compare(a.height, b.height), a.id.Compare(b.id)) })
	for _, w := range ws {
		fn(w.data)
	}
	return nil
}

// chainBatchMax bounds one bulk append: its entries wait in the kernel for
// their parents' writes, and that wait is bounded by OrphansMax.
const chainBatchMax = 4096

// AppendMany commits one entry per value to a bytes store, each the child
// of the previous (the first a child of the current tips), and returns their
// IDs once all are durable. The kernel writes them in a few large store
// transactions instead of one per entry: the bulk path for imports.
func (db *Database) AppendMany(ctx context.Context, store string, values [][]byte) ([]entry.ID, error) {
	if err := db.need(ctx, writePerm, "write"); err != nil {
		return nil, err
	}
	if store == "" || store[0] == '_' {
		return nil, fmt.Errorf("%w: store name %q is empty or reserved", ErrInvalidArgument, store)
	}
	var ids []entry.ID
	for len(values) > 0 {
		n := min(len(values), chainBatchMax)
		batch, err := db.appendBatch(ctx, store, values[:n])
		ids = append(ids, batch...)
		if err != nil {
			return ids, err
		}
		values = values[n:]
	}
	return ids, nil
}

func (db *Database) appendBatch(ctx context.Context, store string, values [][]byte) ([]entry.ID, error) {
	in := db.in
	chans := make([]chan kernel.Notice, len(values))
	var stepErr error
	err := in.d.call(ctx, func(d *driver) {
		tips := d.m.Tips(db.id)
		parents, err := d.st.Read(kernel.Read{IDs: tips})
		if err != nil || len(tips) == 0 {
			stepErr = errors.Join(fmt.Errorf("%w: %s", ErrUnknownDatabase, db.id), err)
			return
		}
		var height uint64
		for _, p := range parents {
			height = max(height, p.Entry.Tree.Height+1)
		}
		for i, v := range values {
			e, err := entry.NewBuilder(db.id).Parents(tips...).Height(height).
				SigKey(entry.SigKey{Hint: entry.KeyHint{PubKey: in.key.Public()}}).
				Store(entry.StoreNode{Name: store, Data: v}).Build()
			if err != nil {
				stepErr = err
				return
			}
			d.nextRef++
			ev, err := in.committed(d.nextRef, e)
			if err != nil {
				stepErr = err
				return
			}
			chans[i] = make(chan kernel.Notice, 1)
			d.waiters[d.nextRef] = chans[i]
			if stepErr = d.step(ev); stepErr != nil {
				delete(d.waiters, d.nextRef)
				return
			}
			tips, height = []entry.ID{ev.(kernel.Committed).Blob.ID}, height+1
		}
	})
	if err == nil {
		err = stepErr
	}
	var ids []entry.ID
	for _, ch := range chans {
		if ch == nil {
			break
		}
		var n kernel.Notice
		select {
		case n = <-ch:
		case <-ctx.Done():
			return ids, ctx.Err()
		}
		id, cerr := in.result(db.id, n, nil)
		if cerr != nil {
			return ids, cerr
		}
		ids = append(ids, id)
	}
	return ids, err
}
