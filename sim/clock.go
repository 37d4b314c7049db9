package sim

// clock is a node's wall clock and tick source (SIMULATION.md 2.4): a
// constant offset, a linear drift, steps forward and back (Jepsen's "bump",
// about ±262-288 s, sometimes reset to true time), and uneven tick
// intervals. The kernel sees the wall clock only as Tick.NowMs, which it
// keeps for request-auth freshness; its timeouts count ticks, so these
// faults must never change what it does with requests, orphans or syncs.
type clock struct {
	offsetMs  int64
	driftPpm  int64
	jumpMs    int64
	jitterPct int
	lastMs    int64
}

// epochMs is the simulated wall clock at time 0 (2023-11-14).
const epochMs = 1_700_000_000_000

func newClock(w *world, n *node) clock {
	defer w.leave(w.enter(streamClock, siteClock, uint64(n.idx), 0))
	r := w.r[streamClock]
	offset := r.between(-w.sw.Rate[FaultClockOffset], w.sw.Rate[FaultClockOffset])
	drift := r.between(-w.sw.Rate[FaultClockDrift], w.sw.Rate[FaultClockDrift])
	jitter := r.between(1, max(1, w.sw.Rate[FaultTickJitter]))
	var c clock
	if offset != 0 && w.on(FaultClockOffset) && w.inject(FaultClockOffset, n) {
		c.offsetMs = int64(offset)
	}
	if drift != 0 && w.on(FaultClockDrift) && w.inject(FaultClockDrift, n) {
		c.driftPpm = int64(drift)
	}
	if w.on(FaultTickJitter) && w.inject(FaultTickJitter, n) {
		c.jitterPct = jitter
	}
	return c
}

// read returns the node's wall clock at simulated time now.
func (c *clock) read(w *world, now int64) int64 {
	v := epochMs + now + c.offsetMs + now*c.driftPpm/1_000_000 + c.jumpMs
	if v < c.lastMs {
		w.mark(MarkClockBack)
	}
	c.lastMs = v
	return v
}

// interval is the time to the node's next tick.
func (c *clock) interval(w *world, n *node) int64 {
	defer w.leave(w.enter(streamClock, siteInterval, uint64(n.idx), 0))
	r := w.r[streamClock]
	base := w.prof.TickMs
	spread := base * c.jitterPct / 100
	d := r.between(base-spread, base+spread)
	return int64(max(1, d))
}

// tickFaults draws a clock step for one world tick.
func (c *clock) tickFaults(w *world, n *node) {
	defer w.leave(w.enter(streamClock, siteClockTick, uint64(n.idx), 0))
	r := w.r[streamClock]
	size, back, reset := int64(r.between(262_000, 288_000)), r.chance(5000), r.chance(2500)
	if !w.roll(r, FaultClockJump, n) {
		return
	}
	switch {
	case reset:
		c.jumpMs = 0
	case back:
		c.jumpMs -= size
	default:
		c.jumpMs += size
	}
	w.tr.line("fault clock %s jumps to %+dms", n.id, c.jumpMs)
}
