package sim

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	flagSeed    = flag.String("sim.seed", "", "run only this seed, verbosely with -v (a campaign when empty)")
	flagSeeds   = flag.Int("sim.seeds", 200, "seeds in a campaign")
	flagFirst   = flag.Uint64("sim.first", 1, "first seed of a campaign")
	flagTicks   = flag.Int("sim.ticks", 0, "safety-phase ticks (0: the profile's)")
	flagProfile = flag.String("sim.profile", "small", "profile: small, adversarial, large, g14")
	flagDisable = flag.String("sim.disable", "", "fault kinds to turn off, comma-separated")
	flagTrace   = flag.Bool("sim.trace", false, "print the readable trace of -sim.seed")
)

// TestSim runs a campaign of seeds (or one seed with -sim.seed), each
// twice with the trace hashes compared, plus every regression seed of
// testdata/regressions.txt; it prints the coverage table and fails on any
// failure, any trace mismatch, or a coverage gap.
func TestSim(t *testing.T) {
	// A run allocates much and keeps little: collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	disable, err := ParseFaults(*flagDisable)
	if err != nil {
		t.Fatal(err)
	}
	base := Options{Profile: *flagProfile, Ticks: *flagTicks, Disable: disable}
	if *flagSeed != "" {
		seed, err := strconv.ParseUint(*flagSeed, 10, 64)
		if err != nil {
			t.Fatalf("-sim.seed: %v", err)
		}
		runOne(t, base, seed)
		return
	}
	jobs := regressions(t)
	for i := range uint64(*flagSeeds) {
		jobs = append(jobs, job{seed: *flagFirst + i, profile: base.Profile})
	}
	runCampaign(t, base, jobs)
}

type job struct {
	seed    uint64
	profile string
}

type outcome struct {
	job
	res      Result
	mismatch bool
}

// runTwice runs a seed twice; the second run must give the same trace.
func runTwice(opts Options) outcome {
	first := Run(opts)
	opts.Trace, opts.Unchecked = nil, true
	second := Run(opts)
	// A failed first run stopped at its failure, which the unchecked
	// second run does not see: only passing runs are compared.
	mismatch := first.Failure == nil && first.TraceHash != second.TraceHash
	return outcome{job: job{seed: opts.Seed, profile: opts.Profile}, res: first, mismatch: mismatch}
}

func runCampaign(t *testing.T, base Options, jobs []job) {
	out := make([]outcome, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				opts := base
				opts.Seed, opts.Profile = jobs[i].seed, jobs[i].profile
				out[i] = runTwice(opts)
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	var c Campaign
	for _, o := range out {
		c.Add(&o.res)
		if o.mismatch {
			c.Mismatches++
			t.Errorf("seed %d: the two runs gave different trace hashes (nondeterminism)\n  replay: %s", o.seed, replayCommand(o.job))
		}
		if f := o.res.Failure; f != nil {
			t.Errorf("seed %d: %s\n  replay: %s", o.seed, f, replayCommand(o.job))
		}
	}
	c.Print(os.Stdout)
	// NB: the G14 profile's fault model is fixed, not a swarm draw: the
	// coverage floor of the swarm does not apply to it.
	if gaps := c.Gaps(); len(gaps) > 0 && !Profiles[base.Profile].G14 {
		t.Errorf("coverage gaps:\n  %s", strings.Join(gaps, "\n  "))
	}
}

// runOne runs one seed with its readable trace on stdout (with -v or
// -sim.trace), then again to compare the trace hashes, and prints a
// summary after the trace.
func runOne(t *testing.T, opts Options, seed uint64) {
	opts.Seed = seed
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	if testing.Verbose() || *flagTrace {
		opts.Trace = out
	}
	o := runTwice(opts)
	res := o.res
	fmt.Fprintf(out, "seed %d profile %s: %d events, %d kernel events, %d messages, %d ticks, %dms simulated, trace %x\n",
		seed, res.Profile.Name, res.Events, res.KernelEvents, res.Messages, res.Ticks, res.SimMs, res.TraceHash[:8])
	if res.Expected != nil {
		fmt.Fprintf(out, "expected liveness failure (adversarial profile): %s\n", res.Expected)
	}
	out.Flush()
	if o.mismatch {
		t.Errorf("seed %d: the two runs gave different trace hashes (nondeterminism)", seed)
	}
	if res.Failure != nil {
		t.Errorf("seed %d: %s\n  replay: %s", seed, res.Failure, replayCommand(o.job))
	}
}

func replayCommand(j job) string {
	if j.profile != "" && j.profile != "small" {
		return fmt.Sprintf("make sim-seed SEED=%d PROFILE=%s", j.seed, j.profile)
	}
	return fmt.Sprintf("make sim-seed SEED=%d", j.seed)
}

// regressions reads testdata/regressions.txt: "seed [profile] # note".
func regressions(t *testing.T) []job {
	data, err := os.ReadFile("testdata/regressions.txt")
	if err != nil {
		t.Fatal(err)
	}
	var jobs []job
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		seed, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			t.Fatalf("testdata/regressions.txt: %q: %v", line, err)
		}
		j := job{seed: seed, profile: "small"}
		if len(fields) > 1 {
			j.profile = fields[1]
		}
		jobs = append(jobs, j)
	}
	return jobs
}
