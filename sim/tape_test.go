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

// TestTapeKeepsLaterInjections: skipping one injection leaves the
// injections after it as they were (same number, kind and node) in at
// least 90% of the cases, over seeds 1-12 (98% now). With live draws and
// run-order numbers it was 63%: a skipped crash that no longer drew its
// down time, or one message more or fewer, re-phased a stream and
// renumbered everything after it, and shrinking searched runs that had
// little to do with the failing one.
func TestTapeKeepsLaterInjections(t *testing.T) {
	type key struct {
		n      int
		fault  Fault
		action string
		node   string
	}
	later, kept := 0, 0
	for seed := uint64(1); seed <= 12; seed++ {
		tape := RecordTape(Options{Seed: seed})
		run := func(skip int) map[key]bool {
			seen := map[key]bool{}
			Run(Options{Seed: seed, Tape: tape, Skip: func(in Injection) bool {
				if in.N == skip {
					return true
				}
				seen[key{in.N, in.Fault, in.Action, string(in.Node)}] = true
				return false
			}})
			return seen
		}
		full := run(0)
		for skip := 1; skip <= tape.total; skip += 10 {
			got := run(skip)
			for k := range full {
				if k.n > skip {
					later++
					if got[k] {
						kept++
					}
				}
			}
		}
	}
	t.Logf("%d of %d later injections kept (%.1f%%)", kept, later, 100*float64(kept)/float64(later))
	if later == 0 || kept*10 < later*9 {
		t.Fatalf("only %d of %d later injections kept by a single skip", kept, later)
	}
}
