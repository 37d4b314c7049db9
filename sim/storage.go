package sim

import (
	"github.com/eidsync/eidsync/internal/memimage"
	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// disk is a node's durable store, faulted at the Persist boundary
// (SIMULATION.md 2.3). A Write is applied whole when it completes, then
// Persisted is stepped; until then it is pending, and a crash decides its
// fate: lost, kept, or (torn) the pending writes kept up to some point.
// One Write is atomic, as the kernel's obligation 3 requires; a Ready batch
// of several is not. Reads see the store when they complete and may fail
// or return a flipped bit. The adversarial profile adds lost fsync
// (acknowledged writes vanish at a crash) and stale restore (a restart from
// an older snapshot): both cut the write log to a prefix, which keeps the
// store parent-closed, since every write's parents were acknowledged, and
// so applied, before it was issued.
type disk struct {
	n       *node
	im      memimage.Image // what is durable
	log     []kernel.Write // applied writes: new entries, relation records
	pending []*pendingWrite
	rel     relWatch // for checkRelationsKept
	busy    int64    // completions are FIFO: the device is busy until then
}

// crashOnWriteBp is the chance that a node with crashes on crashes right
// after handing the store a batch of writes: a crash at a random tick
// rarely finds writes in flight.
const crashOnWriteBp = 1000

type pendingWrite struct {
	w    kernel.Write
	inc  int
	ord  int // 1 for the first write this store was given, across restarts
	done bool
}

func newDisk(n *node) *disk {
	return &disk{n: n, im: memimage.New()}
}

func (d *disk) size() int { return len(d.im.Blobs) }

func (d *disk) has(id entry.ID) bool { return d.im.Has(id) }

// latency is how long one operation takes: a floor, plus an exponential
// tail when slow storage is on; nothing once faults are off.
func (d *disk) latency() int64 {
	w := d.n.w
	defer w.leave(w.enter(streamStorage, siteLatency, uint64(d.n.idx), 0))
	r := w.r[streamStorage]
	extra := r.exp(max(w.sw.Rate[FaultSlowStorage], 1))
	if w.faultsOff {
		return 0
	}
	if w.on(FaultSlowStorage) && extra > 0 && w.inject(FaultSlowStorage, d.n) {
		return int64(w.sw.StorageMinMs + extra)
	}
	return int64(w.sw.StorageMinMs)
}

// schedule queues an operation on the device and returns its completion time.
func (d *disk) schedule() int64 {
	at := max(d.busy, d.n.w.now) + d.latency()
	d.busy = at
	return at
}

// submit takes the writes of one Ready batch. A crash may be scheduled
// right now, before any of them completes, so that crashes find writes in
// flight (more often when several are: what a torn write needs).
func (d *disk) submit(writes []kernel.Write) {
	n, w := d.n, d.n.w
	m := w.enter(streamStorage, siteSubmit, uint64(n.idx), 0)
	bp := crashOnWriteBp
	if len(d.pending)+len(writes) >= 2 {
		bp *= 5
	}
	// NB: G14 writes hundreds of entries a second: crashes on writes would
	// restart its peers constantly; its restarts are the per-tick ones.
	if !w.prof.G14 && w.rollBp(w.r[streamStorage], FaultCrash, n, bp) {
		w.q.push(w.now, func() {
			if n.state == stUp {
				n.crash()
			}
		})
	}
	w.leave(m)
	for _, wr := range writes {
		checkRewrite(w, n, wr)
		if len(wr.Blobs) > 0 {
			w.countQuiet(n, wr.Tree, "writes "+describeIDs(blobIDs(wr.Blobs), w.tr.namer), true)
		}
		d.rel.submitted++
		pw := &pendingWrite{w: wr, inc: n.inc, ord: d.rel.submitted}
		d.pending = append(d.pending, pw)
		w.q.push(d.schedule(), func() { d.complete(pw) })
	}
}

// complete applies a write (or fails it) and tells the machine; a paused
// machine hears of it on resume, though the write is already durable.
func (d *disk) complete(pw *pendingWrite) {
	n, w := d.n, d.n.w
	if pw.done {
		return
	}
	pw.done = true
	d.dropPending(pw)
	m := w.enter(streamStorage, siteComplete, uint64(n.idx), 0)
	failed := w.roll(w.r[streamStorage], FaultPersistError, n)
	w.leave(m)
	if !failed {
		d.apply(pw.w)
	} else {
		d.rel.failed(pw.w.Relations)
	}
	n.deliver(pw.inc, func() {
		if failed {
			n.step(kernel.PersistFailed{Seq: pw.w.Seq, Reason: "injected I/O error"}, fromSim)
			return
		}
		for _, b := range pw.w.Blobs {
			n.ackOne(pw.w.Tree, b.ID, b.Entry.Tree.Parents)
		}
		n.step(kernel.Persisted{Seq: pw.w.Seq}, fromSim)
	})
}

func (d *disk) dropPending(pw *pendingWrite) {
	for i, p := range d.pending {
		if p == pw {
			d.pending = append(d.pending[:i], d.pending[i+1:]...)
			return
		}
	}
}

// apply makes a write durable, skipping entries already stored, and
// upserts its relation records. The integrity and closure checkers see
// every new blob.
func (d *disk) apply(wr kernel.Write) {
	w := d.n.w
	applied := kernel.Write{Seq: wr.Seq, Tree: wr.Tree, Relations: wr.Relations, NonceFloors: wr.NonceFloors, Approvals: wr.Approvals}
	d.rel.applied(wr.Relations)
	applied.Blobs = d.im.Apply(wr, func(b kernel.Blob) {
		w.checkApply(d, wr.Tree, b)
		w.foreign(d.n, b)
	})
	if len(applied.Blobs)+len(applied.Relations)+len(applied.NonceFloors)+len(applied.Approvals) > 0 {
		d.log = append(d.log, applied)
	}
}

// read answers a Read from the store when it completes: LoadFailed on an
// injected I/O error, or the blobs found with maybe one bit flipped.
func (d *disk) read(rd kernel.Read) {
	n, w := d.n, d.n.w
	inc := n.inc
	w.q.push(d.schedule(), func() {
		n.deliver(inc, func() { d.load(rd) })
	})
}

func (d *disk) load(rd kernel.Read) {
	n, w := d.n, d.n.w
	defer w.leave(w.enter(streamStorage, siteLoad, uint64(n.idx), 0))
	r := w.r[streamStorage]
	if w.roll(r, FaultLoadError, n) {
		n.step(kernel.LoadFailed{Seq: rd.Seq, Reason: "injected I/O error"}, fromSim)
		return
	}
	blobs := d.im.Read(rd.IDs)
	var corrupt []byte
	if len(blobs) > 0 && w.roll(r, FaultReadCorrupt, n) {
		i := r.pick(len(blobs))
		corrupt = flipBit(r, blobs[i].Data)
		blobs[i] = kernel.Blob{ID: blobs[i].ID, Data: corrupt, Entry: blobs[i].Entry}
	}
	n.stepAll([]kernel.Event{kernel.Loaded{Seq: rd.Seq, Blobs: blobs}}, fromSim, corrupt)
}

// flipBit returns a copy of data with one bit flipped.
func flipBit(r rng, data []byte) []byte {
	out := append([]byte(nil), data...)
	if len(out) > 0 {
		out[r.pick(len(out))] ^= 1 << r.pick(8)
	}
	return out
}

// crash decides the fate of the writes in flight: with torn writes on, a
// prefix of them survives and the rest is lost; otherwise each is lost or
// kept on its own. In the adversarial profile the last acknowledged writes
// may vanish too (lost fsync).
func (d *disk) crash() {
	n, w := d.n, d.n.w
	defer w.leave(w.enter(streamStorage, siteDiskCrash, uint64(n.idx), 0))
	r := w.r[streamStorage]
	pending := d.pending
	d.rel.crashed(d)
	d.pending, d.busy = nil, w.now
	n.torn = false
	tornAt := r.between(1, max(1, len(pending)-1))
	if len(pending) >= 2 && w.roll(r, FaultTornWrite, n) {
		n.torn = true
		w.tr.line("fault torn write %s: %d of %d writes in flight survive", n.id, tornAt, len(pending))
		for i, pw := range pending {
			d.settle(pw, i < tornAt)
		}
	} else {
		for _, pw := range pending {
			d.settle(pw, !w.roll(r, FaultLostWrite, n))
		}
	}
	if len(d.log) > 0 && w.roll(r, FaultLostFsync, n) {
		keep := max(0, len(d.log)-r.between(1, 3))
		w.tr.line("fault lost fsync %s: %d acknowledged writes vanish", n.id, len(d.log)-keep)
		d.rollback(keep)
	}
}

func (d *disk) settle(pw *pendingWrite, keep bool) {
	pw.done = true
	if keep {
		d.apply(pw.w)
	} else {
		d.n.w.tr.line("fault lost write %s seq=%d", d.n.id, pw.w.Seq)
	}
}

// staleRestore (adversarial) restarts from an older snapshot.
func (d *disk) staleRestore() {
	w := d.n.w
	defer w.leave(w.enter(streamStorage, siteRestore, uint64(d.n.idx), 0))
	r := w.r[streamStorage]
	keep := r.between(0, len(d.log))
	if keep < len(d.log) && w.roll(r, FaultStaleRestore, d.n) {
		w.tr.line("fault stale restore %s: %d of %d writes", d.n.id, keep, len(d.log))
		d.rollback(keep)
	}
}

// rollback keeps the first keep writes of the log.
func (d *disk) rollback(keep int) {
	log := d.log[:keep]
	d.rel.seen = nil // records may be gone with the rest: nothing is judged at this boot
	d.im, d.log = memimage.New(), nil
	for _, wr := range log {
		d.apply(wr)
	}
}

func (d *disk) wipe() { d.rollback(0) }

// state is what a restarted machine gets: every tree, in applied order,
// and the latest record of every relation.
func (d *disk) state() kernel.State { return d.im.State() }

func blobIDs(blobs []kernel.Blob) []entry.ID {
	ids := make([]entry.ID, len(blobs))
	for i, b := range blobs {
		ids[i] = b.ID
	}
	return ids
}

// foreign records an entry nobody wrote that a store holds: a corrupted
// but valid unsigned entry (see checkIntegrity).
func (w *world) foreign(n *node, b kernel.Blob) {
	if w.reg.entries[b.ID] == nil && w.reg.poison[b.ID] == "" {
		w.reg.entries[b.ID] = b.Entry
		w.mark(MarkForeignStored)
		w.tr.line("%s stores %s, a valid entry nobody wrote (corruption of an unsigned entry)", n.id, w.tr.namer(b.ID))
	}
}
