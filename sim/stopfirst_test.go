package sim

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// runUntilFailure runs seeds first, first+1, ... and stops at the first
// that fails: the canary job (scripts/canary.sh, SIMULATION.md G8) asks how
// many seeds a planted bug survives, not for a coverage table. Each seed
// runs once (no determinism rerun, no regression seeds). Workers take seeds
// in order and finish the ones they hold after a failure, so the lowest
// failing seed is the same for any number of workers. The summary line is
// what the canary script parses; keep its format.
func runUntilFailure(t *testing.T, base Options, first uint64, seeds int) {
	var (
		mu     sync.Mutex
		next   int
		found  = -1
		failed *Result
		wg     sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if found >= 0 || next >= seeds {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i, ok := take(); ok; i, ok = take() {
				opts := base
				opts.Seed = first + uint64(i)
				res := Run(opts)
				if res.Failure == nil {
					continue
				}
				mu.Lock()
				if found < 0 || i < found {
					found, failed = i, &res
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if found < 0 {
		fmt.Printf("canary: survived seeds=%d first=%d profile=%s\n", seeds, first, base.Profile)
		return
	}
	f := failed.Failure
	fmt.Printf("canary: caught seed=%d seeds=%d class=%s checker=%s invariant=%d\n",
		failed.Seed, found+1, f.Class, f.Checker, f.Invariant)
	t.Errorf("seed %d: %s\n  replay: %s", failed.Seed, f, replayCommand(job{seed: failed.Seed, profile: base.Profile}))
}
