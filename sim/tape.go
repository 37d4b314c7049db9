package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"github.com/eidsync/eidsync/kernel"
)

// A shrunk run must stay close to the run it came from. Every stream is a
// single sequence, so with live draws one skipped fault that changes how
// many messages or writes follow re-phases every later draw of that
// stream, and the injections after it are numbered anew: measured on a
// real failure (seed 1141 with the orphan bug of regression 2893), a
// single skip kept on average a quarter of the later injections (same
// number, kind and node), 75% with the tape, and ddmin was searching runs
// that had little to do with the original.
//
// A Tape fixes both. Recording the full run of a seed files every draw
// under the *visit* that made it: one site handling one thing, named by
// the site, what it handles (a node, a link and a message type) and how
// many times that name came before, never by a global position. A
// replay takes a visit's draws from the tape, so the same message on the
// same link meets the same delay, drop and duplicate as in the original
// whatever happened elsewhere, and every injection keeps the number the
// full run gave it. A visit the original never made draws from a PRNG
// seeded by its name, and its injections get numbers past the full run's,
// which every skip list Shrink prints skips (it ends in an open range).
// Replaying with nothing skipped is the full run, bit for bit
// (TestTapeReplaysFullRun); live runs keep their plain PCG streams and pay
// a nil check per visit.

// Tape is the record of one full run of a seed (no skips, nothing
// disabled): the draws of every visit and the injections it numbered.
// It is read-only once recorded and may be shared by concurrent runs.
type Tape struct {
	seed   uint64
	draws  [streamCount]map[uint64][]uint64
	injs   map[uint64][]tapeInj
	total  int
	Result Result // the full run's result
}

type tapeInj struct {
	n    int
	kind Fault // faultCount for a workload action
}

// RecordTape runs opts's seed in full and records its tape: Skip,
// Disable and Ticks are ignored, since they are what a shrunk run changes
// (the full run is the profile's length).
func RecordTape(opts Options) *Tape {
	opts.Skip, opts.Disable, opts.Ticks, opts.Tape, opts.Trace, opts.VizDir = nil, 0, 0, nil, nil, ""
	t := &Tape{seed: opts.Seed, injs: map[uint64][]tapeInj{}}
	for s := range t.draws {
		t.draws[s] = map[uint64][]uint64{}
	}
	opts.record = t
	t.Result = Run(opts)
	t.total = t.Result.Injections
	return t
}

// Sites of visits: part of a visit's name.
const (
	siteLoose uint64 = iota // draws made outside any visit (set-up)
	siteAct
	siteDecide
	siteAsk
	siteTransmit
	siteNetTick
	siteNodeTick
	siteAddNode
	siteCrash
	siteClock
	siteInterval
	siteClockTick
	siteLatency
	siteSubmit
	siteComplete
	siteLoad
	siteDiskCrash
	siteRestore
)

// tapeRun is one run's side of a tape: recording, or replaying.
type tapeRun struct {
	t     *Tape
	rec   bool
	src   [streamCount]*tapeSource
	occ   map[uint64]uint64 // visits made per name, for the occurrence part
	cur   uint64            // the innermost visit, for numbering injections
	used  uint64            // its recorded injections already matched (bit i)
	fresh int               // injections numbered past the tape
}

// tapeSource is a stream's source in a taped run.
type tapeSource struct {
	run  *tapeRun
	s    stream
	live *rand.PCG // recording: the stream's own PCG
	key  uint64
	pos  int
	fb   *rand.PCG // replay: the visit's draws once its tape is spent
}

func (src *tapeSource) Uint64() uint64 {
	t := src.run.t
	if src.run.rec {
		x := src.live.Uint64()
		t.draws[src.s][src.key] = append(t.draws[src.s][src.key], x)
		return x
	}
	if d := t.draws[src.s][src.key]; src.pos < len(d) {
		src.pos++
		return d[src.pos-1]
	}
	if src.fb == nil {
		src.fb = rand.NewPCG(t.seed^src.key, uint64(src.s)+0x9e3779b97f4a7c15)
	}
	return src.fb.Uint64()
}

// newTapeRun sets up w's streams for recording t or replaying it.
func newTapeRun(w *world, t *Tape, rec bool) *tapeRun {
	tr := &tapeRun{t: t, rec: rec, occ: map[uint64]uint64{}}
	for s := range streamCount {
		src := &tapeSource{run: tr, s: s, key: visitHash(siteLoose, 0, 0)}
		if rec {
			// Seeded as newStreams seeds the live stream: the
			// recorded draws are exactly the live run's.
			src.live = pcgOf(w.opts.Seed, s)
		}
		tr.src[s] = src
		w.r[s] = rng{rand.New(src)}
	}
	return tr
}

// pcgOf is the PCG newStreams seeds stream s with.
func pcgOf(seed uint64, s stream) *rand.PCG {
	return rand.NewPCG(seed, streamSeq(s))
}

// visitMark is what enter saved, for leave to restore.
type visitMark struct {
	on       bool
	s        stream
	key, pos uint64
	fb       *rand.PCG
	cur      uint64
	used     uint64
}

// enter starts a visit of stream s at a site about a and b (node indices,
// a tick, a message kind): from here to the matching leave, s draws from
// this visit's tape and injections are numbered by it. Nothing in a live
// run.
func (w *world) enter(s stream, site, a, b uint64) visitMark {
	tr := w.tape
	if tr == nil {
		return visitMark{}
	}
	src := tr.src[s]
	m := visitMark{on: true, s: s, key: src.key, pos: uint64(src.pos), fb: src.fb, cur: tr.cur, used: tr.used}
	name := visitHash(site, a, b)
	key := visitHash(name, tr.occ[name], uint64(s))
	tr.occ[name]++
	src.key, src.pos, src.fb = key, 0, nil
	tr.cur, tr.used = key, 0
	return m
}

// leave ends the visit enter started.
func (w *world) leave(m visitMark) {
	if !m.on {
		return
	}
	tr := w.tape
	src := tr.src[m.s]
	src.key, src.pos, src.fb = m.key, int(m.pos), m.fb
	tr.cur, tr.used = m.cur, m.used
}

// number gives the next injection of kind its number: its run order in a
// live run or a recording, the full run's number for it in a replay.
func (w *world) number(kind Fault) int {
	w.injections++
	tr := w.tape
	if tr == nil {
		return w.injections
	}
	if tr.rec {
		tr.t.injs[tr.cur] = append(tr.t.injs[tr.cur], tapeInj{w.injections, kind})
		return w.injections
	}
	for i, in := range tr.t.injs[tr.cur] {
		if i < 64 && in.kind == kind && tr.used&(1<<i) == 0 {
			tr.used |= 1 << i
			return in.n
		}
	}
	tr.fresh++
	return tr.t.total + tr.fresh
}

// visitHash hashes a visit's parts (splitmix64 finalizer over each).
func visitHash(a, b, c uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, x := range [3]uint64{a, b, c} {
		h ^= x + 0x9e3779b97f4a7c15 + h<<6 + h>>2
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// linkName is the link part of a transmit visit's name: sender,
// receiver, and whether it is a reply.
func linkName(p *packet) uint64 {
	n := uint64(uint32(p.from+2))<<32 | uint64(uint32(p.to+2))
	if p.reply {
		n |= 1 << 63
	}
	return n
}

// msgKind names a message's type for its transmit visit, so that one
// message more or less of another type on the link (an extra Ack) leaves
// the others matched to their recorded draws. Only taped runs pay for it.
func (w *world) msgKind(m kernel.Message) uint64 {
	if w.tape == nil {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%T", m)
	return h.Sum64()
}
