package eidsync

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eidsync/eidsync/adapters/store"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
	"github.com/eidsync/eidsync/transport"
)

// Options configure Open.
type Options struct {
	// DataDir holds the node's bbolt file (eidsync.db). Ignored with InMemory.
	DataDir string
	// InMemory keeps everything in memory: nothing survives Close.
	InMemory bool
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// TickInterval is the kernel's tick; default 100ms.
	TickInterval time.Duration
	// Tune may adjust the kernel's limits before the machine starts.
	Tune func(*kernel.Config)
	// StoreLockTimeout bounds the wait for another process's lock on
	// DataDir; default 500ms.
	StoreLockTimeout time.Duration
}

// Instance is one node: its store, its kernel machine and driver loop, its
// transports. It is safe for concurrent use.
type Instance struct {
	d      *driver
	st     durable
	key    entry.PrivateKey
	log    *slog.Logger
	limits kernel.WireLimits

	closeOnce sync.Once
	closeErr  error
}

// DBFile is the store's file name inside a data directory.
const DBFile = "eidsync.db"

// Open opens (or creates) a node. With a DataDir already in use by another
// process it fails at once with a message saying so.
func Open(ctx context.Context, opts Options) (*Instance, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(opts)
	if err != nil {
		return nil, err
	}
	key, err := deviceKey(st)
	if err != nil {
		st.Close()
		return nil, err
	}
	cfg := kernel.DefaultConfig()
	cfg.DeviceKey, cfg.DisplayName = key, "eidsync"
	var seed [8]byte
	if _, err := rand.Read(seed[:]); err != nil {
		st.Close()
		return nil, fmt.Errorf("eidsync: draw seed: %w", err)
	}
	cfg.Seed = binary.LittleEndian.Uint64(seed[:])
	if opts.Tune != nil {
		opts.Tune(&cfg)
	}
	restored, err := st.State()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("eidsync: read store: %w", err)
	}
	m, err := kernel.New(cfg, restored)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("eidsync: start kernel: %w", err)
	}
	tick := opts.TickInterval
	if tick <= 0 {
		tick = 100 * time.Millisecond
	}
	log.Info("eidsync: opened", "device", key.Public().String(), "seed", cfg.Seed, "trees", len(restored.Trees))
	inst := &Instance{st: st, key: key, log: log, limits: cfg.Wire, d: newDriver(m, key.Public(), st, log, tick)}
	go inst.d.run()
	return inst, nil
}

func openStore(opts Options) (durable, error) {
	if opts.InMemory {
		return newMemStore(), nil
	}
	if opts.DataDir == "" {
		return nil, fmt.Errorf("%w: no data directory (set DataDir or InMemory)", ErrInvalidArgument)
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("eidsync: create data directory %s: %w", opts.DataDir, err)
	}
	lock := opts.StoreLockTimeout
	if lock <= 0 {
		lock = 500 * time.Millisecond
	}
	return store.Open(filepath.Join(opts.DataDir, DBFile), store.Options{LockTimeout: lock})
}

// deviceKey loads the node's identity, or makes and stores one.
func deviceKey(st durable) (entry.PrivateKey, error) {
	raw, err := st.Meta("device_key")
	if err != nil {
		return entry.PrivateKey{}, fmt.Errorf("eidsync: read device key: %w", err)
	}
	if raw != nil {
		return entry.ParsePrivateKey(string(raw))
	}
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return entry.PrivateKey{}, fmt.Errorf("eidsync: draw device key: %w", err)
	}
	key := entry.NewPrivateKey(seed)
	if err := st.SetMeta("device_key", []byte(key.String())); err != nil {
		return entry.PrivateKey{}, fmt.Errorf("eidsync: store device key: %w", err)
	}
	return key, nil
}

// ID returns the node's device public key, its identity to peers.
func (in *Instance) ID() entry.PublicKey { return in.key.Public() }

// EnableSync lets the node answer peers and sync with them.
func (in *Instance) EnableSync(ctx context.Context) error {
	return in.d.call(ctx, func(d *driver) { d.syncEnabled = true })
}

// RegisterTransport builds a transport and registers it under name ("http").
// The first registered transport serves bare "host:port" peer addresses.
func (in *Instance) RegisterTransport(ctx context.Context, name string, b transport.Builder) error {
	if name == "" || b == nil {
		return fmt.Errorf("%w: transport needs a name and a builder", ErrInvalidArgument)
	}
	tr, err := b.Build(in.limits, in.log.With("transport", name))
	if err != nil {
		return fmt.Errorf("eidsync: build transport %s: %w", name, err)
	}
	var dup bool
	if err := in.d.call(ctx, func(d *driver) {
		if _, dup = d.transports[name]; !dup {
			d.transports[name] = tr
			d.order = append(d.order, name)
		}
	}); err != nil {
		return err
	}
	if dup {
		_ = tr.Close(ctx)
		return fmt.Errorf("%w: transport %q is already registered", ErrInvalidArgument, name)
	}
	return nil
}

// AcceptConnections starts every registered transport's server and returns
// the addresses bound, in registration order. Nothing listens before it.
func (in *Instance) AcceptConnections(ctx context.Context) ([]string, error) {
	var trs []transport.Transport
	var syncOn bool
	if err := in.d.call(ctx, func(d *driver) {
		syncOn = d.syncEnabled
		for _, name := range d.order {
			trs = append(trs, d.transports[name])
		}
	}); err != nil {
		return nil, err
	}
	if !syncOn {
		return nil, ErrSyncDisabled
	}
	var addrs []string
	for _, tr := range trs {
		addr, err := tr.Serve(in.d.handle)
		if err != nil {
			return addrs, err
		}
		if addr != "" {
			addrs = append(addrs, addr)
		}
	}
	return addrs, nil
}

// SyncResult reports one finished sync.
type SyncResult struct {
	Requests  int `json:"requests"`  // requests sent (handshake included)
	Pulled    int `json:"pulled"`    // entries received and stored
	Pushed    int `json:"pushed"`    // entries sent to the peer
	Redundant int `json:"redundant"` // entries received that were already held
}

// SyncWithPeer syncs one database with the peer at address, both ways,
// and returns when done. address is "host:port" for the first registered
// transport, or "name://host:port".
//
// A database the peer does not let this node's key read is refused; with
// RequestAccess, a refused bootstrap instead queues a request for an admin
// there to approve, and the error is a *BootstrapPendingError.
func (in *Instance) SyncWithPeer(ctx context.Context, address string, tree entry.ID, opts ...SyncOption) (SyncResult, error) {
	if address == "" || tree.IsZero() {
		return SyncResult{}, fmt.Errorf("%w: SyncWithPeer needs an address and a database ID", ErrInvalidArgument)
	}
	var on bool
	if err := in.d.call(ctx, func(d *driver) { on = d.syncEnabled }); err != nil {
		return SyncResult{}, err
	}
	if !on {
		return SyncResult{}, ErrSyncDisabled
	}
	ask := kernel.SyncAsked{Peer: kernel.PeerID(address), Tree: tree}
	for _, opt := range opts {
		if err := opt(&ask); err != nil {
			return SyncResult{}, err
		}
	}
	n, err := in.d.await(ctx, func(_ *driver, ref kernel.Ref) (kernel.Event, error) {
		ask.Ref = ref
		return ask, nil
	})
	if err != nil {
		return SyncResult{}, err
	}
	res := SyncResult{Requests: n.Stats.Requests, Pulled: n.Stats.Pulled, Pushed: n.Stats.Pushed, Redundant: n.Stats.Redundant}
	if n.Pending != "" {
		return res, &BootstrapPendingError{Peer: address, Tree: tree, RequestID: n.Pending}
	}
	if n.Kind != kernel.NoticeSyncDone {
		return res, &SyncError{Peer: address, Tree: tree, Reason: n.Err}
	}
	return res, nil
}

// Status is a snapshot of the node.
type Status struct {
	Device kernel.PeerID
	kernel.Status
}

// Status returns a snapshot of the kernel's state.
func (in *Instance) Status(ctx context.Context) (Status, error) {
	var st kernel.Status
	err := in.d.call(ctx, func(d *driver) { st = d.m.Status() })
	return Status{Device: kernel.PeerID(in.key.Public().String()), Status: st}, err
}

// Close stops serving, stops the driver and closes the store. Entries
// already committed are durable; a second Close returns the first's result.
func (in *Instance) Close(ctx context.Context) error {
	in.closeOnce.Do(func() {
		var trs []transport.Transport
		_ = in.d.call(ctx, func(d *driver) {
			for _, name := range d.order {
				trs = append(trs, d.transports[name])
			}
		})
		var errs []error
		for _, tr := range trs {
			errs = append(errs, tr.Close(ctx))
		}
		in.d.shutdown()
		errs = append(errs, in.st.Close())
		in.closeErr = errors.Join(errs...)
	})
	return in.closeErr
}

// Flush pushes every pending background push now and returns when each has
// been delivered or has failed: the barrier before a shutdown or a test
// assertion. A non-nil error lists what failed; those pushes stay queued
// and are retried with backoff.
func (in *Instance) Flush(ctx context.Context) error {
	n, err := in.d.await(ctx, func(_ *driver, ref kernel.Ref) (kernel.Event, error) {
		return kernel.FlushAsked{Ref: ref}, nil
	})
	if err != nil {
		return err
	}
	if n.Err != "" {
		return fmt.Errorf("eidsync: flush: %s", n.Err)
	}
	return nil
}
