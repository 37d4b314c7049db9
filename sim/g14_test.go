package sim

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	flagG14Seeds = flag.Int("g14.seeds", 10, "seeds of TestG14 (the campaign of PERFORMANCE.md G14 runs 1000: -g14.seeds=1000)")
	flagG14First = flag.Uint64("g14.first", 1, "first seed of TestG14")
)

// TestG14 runs the G14 convergence campaign (g14.go): each seed must
// converge within 2T of the final heal by background sync alone, with
// every checker on. It prints the distribution of convergence times in
// units of T and the share of requests that failed. Each seed runs once:
// determinism of the profile is TestSim's (-sim.profile=g14).
func TestG14(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(campaignGCPercent))
	n := *flagG14Seeds
	if testing.Short() {
		n = min(n, 8)
	}
	start := time.Now()
	out := make([]Result, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				out[i] = Run(Options{Seed: *flagG14First + uint64(i), Profile: "g14"})
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	var ticks []int
	requests, failed, writes, messages, dropped := 0, 0, 0, 0, 0
	for _, res := range out {
		if f := res.Failure; f != nil {
			t.Errorf("seed %d: %s\n  replay: %s", res.Seed, f, replayCommand(job{seed: res.Seed, profile: "g14"}))
			continue
		}
		ticks = append(ticks, res.ConvergeTicks)
		requests += res.Requests
		failed += res.Counts.Marks[MarkSendFailed]
		writes += res.Counts.Marks[MarkCommit]
		messages += res.Messages
		dropped += res.Counts.Faults[FaultDrop]
	}
	if len(ticks) == 0 {
		return
	}
	slices.Sort(ticks)
	inT := func(q float64) float64 {
		return float64(ticks[min(len(ticks)-1, int(q*float64(len(ticks))))]) / g14T
	}
	t.Logf("G14: %d seeds (%d passed) in %s; %d peers, %d writers at ~%d entries/s for %d s (G14: 60 s), T = 1 s, %.0f commits a seed",
		n, len(ticks), time.Since(start).Round(time.Second), g14Nodes, g14Writers, 1000/g14WriteMs, g14WriteTicks/g14T, float64(writes)/float64(len(ticks)))
	t.Logf("G14: convergence after the final heal, in T (tick resolution 0.1T): p50 %.1f, p90 %.1f, p99 %.1f, max %.1f (bound 2T)",
		inT(0.50), inT(0.90), inT(0.99), float64(ticks[len(ticks)-1])/g14T)
	t.Logf("G14: requests %d, failed with SendFailed %d (%.1f%%: drops, partitions, peers down); the drop fault hit %.1f%% of all messages (fault-free setup and heal included)",
		requests, failed, 100*float64(failed)/float64(max(requests, 1)), 100*float64(dropped)/float64(max(messages, 1)))
	fmt.Printf("G14 histogram (ticks after heal: seeds):")
	for i := 0; i < len(ticks); {
		j := i
		for j < len(ticks) && ticks[j] == ticks[i] {
			j++
		}
		fmt.Printf(" %d:%d", ticks[i], j-i)
		i = j
	}
	fmt.Println()
}
