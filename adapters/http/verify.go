package http

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/eidsync/eidsync/kernel"
)

// Entry signatures are checked here, on the transport's goroutines and over
// every core, rather than one by one on the node's single driver loop: an
// Ed25519 check costs more than decoding the entry, and it bounds how fast a
// bootstrap can go.

// parallelMin is the batch size below which spreading the work costs more
// than it saves.
const parallelMin = 64

// deferred returns the limits with signature checks left to parallel.
func (t *Transport) deferred() kernel.WireLimits {
	lim := t.limits
	lim.DeferSignatures = true
	return lim
}

// verifySignatures checks the signatures of msg's entries over every core
// with the transport's verifier.
func (t *Transport) verifySignatures(msg kernel.Message) {
	kernel.VerifySignaturesWith(msg, parallel, t.verifier.Verify)
}

// parallel calls fn(i) for each i in [0, n) over GOMAXPROCS goroutines and
// returns when all are done; kernel.VerifySignatures drives it.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin+1)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	// NB: workers take chunks as they go rather than a fixed share each:
	// the node's other goroutines (a store write, the server) take cores
	// away from some workers for a while, and a fixed share then left one
	// worker finishing alone on an otherwise idle core.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				end := int(next.Add(parallelChunk))
				start := end - parallelChunk
				if start >= n {
					return
				}
				for i := start; i < min(end, n); i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

// parallelChunk is how many calls a worker takes at a time: enough that
// taking them costs nothing next to a signature check, few enough that
// the workers finish together.
const parallelChunk = 16
