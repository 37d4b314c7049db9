package http

import (
	"runtime"
	"sync"

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
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
