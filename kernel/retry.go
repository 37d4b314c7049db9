package kernel

import "fmt"

// timeout is TigerBeetle's Timeout (src/vsr.zig) in ticks: started, stopped,
// backed off with jitter from the machine's PRNG, and fired when due. A
// fired timeout must be reset, backed off or stopped in the same step.
type timeout struct {
	ticksMin, ticksMax uint64
	attempts           int    // backoffs since the last start
	deadline           uint64 // tick it fires at; 0 when stopped
	armed              uint64 // tick it was last armed at
}

// start arms the timeout for ticksMin from now and clears the attempts.
func (t *timeout) start(now uint64) {
	t.attempts = 0
	t.armed, t.deadline = now, now+t.ticksMin
}

// stop disarms it.
func (t *timeout) stop() { t.deadline = 0 }

// ticking reports whether it is armed.
func (t *timeout) ticking() bool { return t.deadline != 0 }

// fired reports whether an armed timeout is due at now.
func (t *timeout) fired(now uint64) bool { return t.deadline != 0 && now >= t.deadline }

// backoff counts an attempt and rearms after an exponential, jittered delay.
func (t *timeout) backoff(now uint64, rng *prng) {
	t.attempts++
	t.armed, t.deadline = now, now+backoffTicks(rng, t.ticksMin, t.ticksMax, t.attempts)
}

// backoffTicks is exponential backoff with jitter: the ceiling is
// ticksMin<<attempt, capped at ticksMax, and the delay is drawn uniformly
// from its upper half (never below ticksMin), so that peers retrying
// together spread out from the first retry on.
func backoffTicks(rng *prng, ticksMin, ticksMax uint64, attempt int) uint64 {
	if ticksMin == 0 || ticksMin > ticksMax || attempt < 1 {
		panic(fmt.Sprintf("kernel: assertion failed: backoff(%d, %d, %d)", ticksMin, ticksMax, attempt))
	}
	ceiling := ticksMax
	shift := attempt
	if canaryOffByOneBackoff { // a planted bug: see canary_offbyone_backoff.go
		shift++
	}
	if shift < 63 && ticksMin<<shift>>shift == ticksMin {
		ceiling = min(ticksMax, ticksMin<<shift)
	}
	delay := max(ticksMin, ceiling/2+rng.below(ceiling-ceiling/2+1))
	if delay < ticksMin || delay > ticksMax {
		panic(fmt.Sprintf("kernel: assertion failed: backoff %d outside [%d, %d]", delay, ticksMin, ticksMax))
	}
	return delay
}
