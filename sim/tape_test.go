package sim

import (
	"testing"
)

// TestTapeReplaysFullRun: replaying a seed's tape with nothing skipped is
// the live run, bit for bit, in every profile: every draw of the live run
// is filed under a visit that the replay makes again in the same order.
// A draw made outside the visit it was recorded in, or a visit named
// differently in the two modes, changes the hash.
func TestTapeReplaysFullRun(t *testing.T) {
	for _, c := range []struct {
		profile string
		seeds   uint64
	}{{"small", 40}, {"adversarial", 10}, {"large", 2}, {"g14", 2}} {
		for seed := uint64(1); seed <= c.seeds; seed++ {
			opts := Options{Seed: seed, Profile: c.profile, RecordOps: true}
			live := Run(opts)
			tape := RecordTape(opts)
			if tape.Result.TraceHash != live.TraceHash {
				t.Fatalf("%s seed %d: recording the tape changed the run", c.profile, seed)
			}
			opts.Tape = tape
			if got := Run(opts); got.TraceHash != live.TraceHash || got.Injections != live.Injections {
				t.Fatalf("%s seed %d: the replay of the tape is not the live run (%d injections, live %d)", c.profile, seed, got.Injections, live.Injections)
			}
		}
	}
}
