package sim

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"strconv"

	"github.com/eidsync/eidsync/kernel"
	"github.com/eidsync/eidsync/kernel/entry"
)

// tracer hashes everything a run does, and prints it when asked. The hash
// covers every event given to a machine, every Ready batch (rendered by
// kernel.DescribeReady) and every encoded message, so two runs of the same
// seed agree only if they did exactly the same thing (SIMULATION.md G1).
// Lines carry simulated time only, never wall time or addresses (P3).
type tracer struct {
	h     hash.Hash
	out   io.Writer
	buf   []byte
	at    int64
	names map[entry.ID]string
	// tick holds the printed form of the last Tick line: it is printed
	// only if effects follow, so that the readable trace is not mostly
	// ticks. The hash covers every line.
	tick []byte
	rd   []byte // scratch for ready
}

func newTracer(out io.Writer) *tracer {
	return &tracer{h: sha256.New(), out: out, names: map[entry.ID]string{}}
}

// line hashes (and prints) one line, prefixed by the simulated time.
func (t *tracer) line(format string, args ...any) {
	t.buf = strconv.AppendInt(t.buf[:0], t.at, 10)
	t.buf = append(t.buf, "ms "...)
	t.buf = fmt.Appendf(t.buf, format, args...)
	t.buf = append(t.buf, '\n')
	t.flush()
}

func (t *tracer) flush() {
	t.h.Write(t.buf)
	t.print(t.buf)
}

// print writes to the readable trace, after the held Tick line if b is
// its effects (indented).
func (t *tracer) print(b []byte) {
	if t.out == nil {
		return
	}
	if t.tick != nil && len(b) > 0 && b[0] == ' ' {
		t.out.Write(t.tick)
	}
	t.tick = t.tick[:0:0]
	t.out.Write(b)
}

// tickLine hashes a Tick line and holds it for printing.
func (t *tracer) tickLine(self kernel.PeerID, nowMs int64) {
	t.buf = strconv.AppendInt(t.buf[:0], t.at, 10)
	t.buf = append(t.buf, "ms "...)
	t.buf = append(t.buf, self...)
	t.buf = append(t.buf, " <- Tick now="...)
	t.buf = strconv.AppendInt(t.buf, nowMs, 10)
	t.buf = append(t.buf, '\n')
	t.h.Write(t.buf)
	if t.out != nil {
		t.tick = append(t.tick[:0], t.buf...)
	}
}

// text hashes and prints preformatted lines (a Ready batch), indented.
func (t *tracer) text(s []byte) {
	t.buf = t.buf[:0]
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			t.buf = append(t.buf, "    "...)
			t.buf = append(t.buf, s[start:i+1]...)
			start = i + 1
		}
	}
	t.flush()
}

// ready hashes and prints a Ready batch of machine self, and returns its
// text (valid until the next call).
func (t *tracer) ready(self kernel.PeerID, rd kernel.Ready) []byte {
	t.rd = kernel.AppendReady(t.rd[:0], self, rd, t.namer)
	t.text(t.rd)
	return t.rd
}

// bytes hashes encoded bytes without printing them.
func (t *tracer) bytes(b []byte) { t.h.Write(b) }

func (t *tracer) sum() [32]byte {
	var s [32]byte
	copy(s[:], t.h.Sum(nil))
	return s
}

// name gives an ID its alias for traces.
func (t *tracer) name(id entry.ID, alias string) { t.names[id] = alias }

// namer prints aliases (t1, e7, x2), or "?" and the ID's last six
// characters for an entry the simulator did not make (a corrupted one).
func (t *tracer) namer(id entry.ID) string {
	if n, ok := t.names[id]; ok {
		return n
	}
	s := id.String()
	return "?" + s[max(0, len(s)-6):]
}

func (t *tracer) header(w *world) {
	t.line("seed %d profile %s", w.opts.Seed, w.prof.Name)
	t.text([]byte(w.sw.String()))
}

// event renders one event given to machine self.
func (t *tracer) event(self kernel.PeerID, ev kernel.Event) {
	switch ev := ev.(type) {
	case kernel.Tick:
		t.tickLine(self, ev.NowMs)
	case kernel.Received:
		// NB: the commonest line, built without fmt.
		b := strconv.AppendInt(t.buf[:0], t.at, 10)
		b = append(append(append(append(append(b, "ms "...), self...), " <- "...), ev.From...), ' ')
		if ev.Req != 0 {
			b = strconv.AppendUint(append(b, "req="...), uint64(ev.Req), 10)
			b = strconv.AppendUint(append(b, " v"...), uint64(ev.Version), 10)
		} else {
			b = strconv.AppendUint(append(b, "reply seq="...), uint64(ev.InReplyTo), 10)
		}
		t.buf = append(kernel.AppendMessage(append(b, ' '), ev.Msg, t.namer), '\n')
		t.flush()
	case kernel.SendFailed:
		t.line("%s <- SendFailed seq=%d %q", self, ev.Seq, ev.Reason)
	case kernel.Persisted:
		t.line("%s <- Persisted seq=%d", self, ev.Seq)
	case kernel.PersistFailed:
		t.line("%s <- PersistFailed seq=%d %q", self, ev.Seq, ev.Reason)
	case kernel.Loaded:
		ids := make([]entry.ID, len(ev.Blobs))
		for i, b := range ev.Blobs {
			ids[i] = b.ID
		}
		t.line("%s <- Loaded seq=%d %s", self, ev.Seq, describeIDs(ids, t.namer))
	case kernel.LoadFailed:
		t.line("%s <- LoadFailed seq=%d %q", self, ev.Seq, ev.Reason)
	case kernel.Committed:
		t.line("%s <- Committed ref=%d %s", self, ev.Ref, t.namer(ev.Blob.ID))
	case kernel.SyncAsked:
		t.line("%s <- SyncAsked ref=%d peer=%s tree=%s", self, ev.Ref, ev.Peer, t.namer(ev.Tree))
	case kernel.FlushAsked:
		t.line("%s <- FlushAsked ref=%d", self, ev.Ref)
	default:
		t.line("%s <- %T", self, ev)
	}
}

func describeIDs(ids []entry.ID, n kernel.Namer) string {
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, n(id)...)
	}
	return string(append(b, ']'))
}
