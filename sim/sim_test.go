package sim

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	flagSeed    = flag.String("sim.seed", "", "run only this seed, verbosely with -v (a campaign when empty)")
	flagSeeds   = flag.Int("sim.seeds", 200, "seeds in a campaign")
	flagFirst   = flag.Uint64("sim.first", 1, "first seed of a campaign")
	flagTicks   = flag.Int("sim.ticks", 0, "safety-phase ticks (0: the profile's)")
	flagProfile = flag.String("sim.profile", "small", "profile: small, adversarial, large, g14")
	flagDisable = flag.String("sim.disable", "", "fault kinds to turn off, comma-separated")
	flagTrace   = flag.Bool("sim.trace", false, "print the readable trace of -sim.seed")
	flagStop    = flag.Bool("sim.stopfirst", false, "stop a campaign at its first failing seed and report it (the canary job)")
	flagSkip    = flag.String("sim.skip", "", "injections to skip in -sim.seed, e.g. 1-4,6,9- (what -sim.shrink prints)")
	flagShrink  = flag.Bool("sim.shrink", false, "when -sim.seed fails, shrink its schedule and print the replay command")
)

// campaignGCPercent is the GOGC of campaigns and of BenchmarkSim: a run
// allocates much and keeps little (a few MB live), so collecting less
// often costs memory nobody needs and saves CPU.
const campaignGCPercent = 400

// TestSim runs a campaign of seeds (or one seed with -sim.seed), each
// twice with the trace hashes compared, plus every regression seed of
// testdata/regressions.txt; it prints the coverage table and fails on any
// failure, any trace mismatch, or a coverage gap.
func TestSim(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(campaignGCPercent))
	disable, err := ParseFaults(*flagDisable)
	if err != nil {
		t.Fatal(err)
	}
	// Every seed records its local API operations and checks them for
	// linearizability at the end (linear.go): about 4% of a run's time.
	base := Options{Profile: *flagProfile, Ticks: *flagTicks, RecordOps: true, VizDir: os.TempDir()}
	if *flagSeed != "" {
		seed, err := strconv.ParseUint(*flagSeed, 10, 64)
		if err != nil {
			t.Fatalf("-sim.seed: %v", err)
		}
		runOne(t, base, job{seed: seed, profile: base.Profile, skip: *flagSkip, disable: disable, ticks: *flagTicks})
		return
	}
	if *flagStop {
		runUntilFailure(t, base, *flagFirst, *flagSeeds)
		return
	}
	if *flagSkip != "" || *flagShrink {
		t.Fatal("-sim.skip and -sim.shrink need -sim.seed")
	}
	jobs := regressions(t)
	for i := range uint64(*flagSeeds) {
		jobs = append(jobs, job{seed: *flagFirst + i, profile: base.Profile, disable: disable})
	}
	runCampaign(t, base, jobs)
}

// job is one run of a campaign: a seed, and for a shrunk regression the
// injections it skips, the fault kinds it turns off and its shortened
// safety phase (0: the profile's).
type job struct {
	seed    uint64
	profile string
	skip    string
	disable FaultSet
	ticks   int
}

// options returns base set up for the job.
func (j job) options(base Options) (Options, error) {
	opts := base
	opts.Seed, opts.Profile, opts.Disable = j.seed, j.profile, j.disable
	if j.ticks > 0 {
		opts.Ticks = j.ticks
	}
	skip, err := ParseSkip(j.skip)
	opts.Skip = skip
	if skip != nil || j.disable != 0 {
		// Recorded once for both runs of runTwice (Run would record it
		// for each).
		opts.Tape = RecordTape(opts)
	}
	return opts, err
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
				// regressions() checked every skip list already.
				opts, _ := jobs[i].options(base)
				out[i] = runTwice(opts)
				out[i].res.Lighten()
				out[i].job = jobs[i]
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
		if n := o.res.Linear.Inconclusive; n > 0 {
			t.Logf("seed %d: %d histories inconclusive (porcupine timed out: not a pass)\n  replay: %s", o.seed, n, replayCommand(o.job))
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
// summary after the trace; with -sim.shrink, a failure is then shrunk.
func runOne(t *testing.T, base Options, j job) {
	opts, err := j.options(base)
	if err != nil {
		t.Fatal(err)
	}
	seed := j.seed
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	if testing.Verbose() || *flagTrace {
		opts.Trace = out
	}
	o := runTwice(opts)
	res := o.res
	fmt.Fprintf(out, "seed %d profile %s: %d events, %d kernel events, %d messages, %d ticks, %dms simulated, trace %x\n",
		seed, res.Profile.Name, res.Events, res.KernelEvents, res.Messages, res.Ticks, res.SimMs, res.TraceHash[:8])
	if l := res.Linear; l.Partitions > 0 {
		fmt.Fprintf(out, "linearizability: %d histories, %d operations (longest %d), %d unknown-outcome puts (%d resolved as held), %d inconclusive, %v\n",
			l.Partitions, l.Ops, l.MaxOps, l.UnknownOps, l.UnknownHeld, l.Inconclusive, l.Elapsed.Round(time.Microsecond))
	}
	if res.Expected != nil {
		fmt.Fprintf(out, "expected liveness failure (adversarial profile): %s\n", res.Expected)
	}
	out.Flush()
	if o.mismatch {
		t.Errorf("seed %d: the two runs gave different trace hashes (nondeterminism)", seed)
	}
	if n := res.Linear.Inconclusive; n > 0 {
		t.Logf("seed %d: %d histories inconclusive (porcupine timed out: not a pass)", seed, n)
	}
	if res.Failure != nil {
		t.Errorf("seed %d: %s\n  replay: %s", seed, res.Failure, replayCommand(j))
		if *flagShrink {
			shrinkOne(t, opts, j, res.Failure)
		}
	} else if *flagShrink {
		t.Logf("seed %d passes: nothing to shrink", seed)
	}
}

// shrinkOne minimizes a failing seed and prints how to replay the result
// and the line that records it in testdata/regressions.txt.
func shrinkOne(t *testing.T, opts Options, j job, f *Failure) {
	opts.Trace = nil
	shrunk, st, err := Shrink(opts, SameFailure(f))
	if err != nil {
		t.Errorf("shrink: %v", err)
		return
	}
	sj := job{seed: j.seed, profile: j.profile, skip: shrunk.Skip, disable: shrunk.Disable, ticks: cmp.Or(shrunk.Ticks, j.ticks)}
	fmt.Printf("%s\n", st)
	fmt.Printf("shrunk failure: %s\n", shrunk.Result.Failure)
	fmt.Printf("kept injections: %v\n", shrunk.Keep)
	fmt.Printf("replay: %s\n", replayCommand(sj))
	sf := shrunk.Result.Failure // the same checker, maybe another instance
	fmt.Printf("regressions.txt: %s  # %s: %s\n", regressionLine(sj), sf.Checker, firstLine(sf.Message))
}

// firstLine is a failure message short enough for a note: its first
// line, without the parenthesized details (paths, re-check results).
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s, _, _ = strings.Cut(s, " (")
	return s
}

func replayCommand(j job) string {
	cmd := fmt.Sprintf("make sim-seed SEED=%d", j.seed)
	if j.profile != "" && j.profile != "small" {
		cmd += " PROFILE=" + j.profile
	}
	if j.skip != "" {
		cmd += " SKIP=" + j.skip
	}
	if j.disable != 0 {
		cmd += " DISABLE=" + j.disable.String()
	}
	if j.ticks > 0 {
		cmd += " TICKS=" + strconv.Itoa(j.ticks)
	}
	if tags := buildTags(); tags != "" {
		cmd += " TAGS=" + tags
	}
	return cmd
}

// buildTags are the build tags this test binary was built with, for the
// replay commands: a failure of the kernel's own assertions (invariants)
// or of a planted canary replays only with them compiled in.
func buildTags() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" {
				return s.Value
			}
		}
	}
	return ""
}

// regressionLine is a job as testdata/regressions.txt writes it.
func regressionLine(j job) string {
	line := fmt.Sprintf("%d %s", j.seed, cmp.Or(j.profile, "small"))
	if j.skip != "" {
		line += " skip=" + j.skip
	}
	if j.disable != 0 {
		line += " disable=" + j.disable.String()
	}
	if j.ticks > 0 {
		line += " ticks=" + strconv.Itoa(j.ticks)
	}
	return line
}

// regressions reads testdata/regressions.txt.
func regressions(t *testing.T) []job {
	data, err := os.ReadFile("testdata/regressions.txt")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := parseRegressions(string(data))
	if err != nil {
		t.Fatalf("testdata/regressions.txt: %v", err)
	}
	return jobs
}

// parseRegressions reads lines "seed [profile] [skip=LIST]
// [disable=LIST] [ticks=N] # note", the form regressionLine writes; a line
// with a seed alone (the older form) runs the whole seed.
func parseRegressions(data string) ([]job, error) {
	var jobs []job
	for _, line := range strings.Split(data, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		seed, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		j := job{seed: seed, profile: "small"}
		for _, f := range fields[1:] {
			key, val, ok := strings.Cut(f, "=")
			switch {
			case !ok:
				j.profile = f
			case key == "skip":
				j.skip = val
				_, err = ParseSkip(val)
			case key == "disable":
				j.disable, err = ParseFaults(val)
			case key == "ticks":
				j.ticks, err = strconv.Atoi(val)
				if err == nil && j.ticks < 1 {
					err = fmt.Errorf("ticks=%d: at least 1", j.ticks)
				}
			default:
				err = fmt.Errorf("unknown field %q", key)
			}
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// TestRegressionLines: the line -sim.shrink prints reads back as the same
// job, and the older lines keep their meaning.
func TestRegressionLines(t *testing.T) {
	shrunk := job{seed: 2, profile: "adversarial", skip: "1-9,11,19-", disable: FaultSet(0).With(FaultCrash).With(FaultDrop), ticks: 40}
	jobs, err := parseRegressions(regressionLine(shrunk) + "  # note\n113   # old form\n86 large # old form with a profile\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []job{shrunk, {seed: 113, profile: "small"}, {seed: 86, profile: "large"}}
	if !slices.Equal(jobs, want) {
		t.Fatalf("got %+v, want %+v", jobs, want)
	}
	for _, bad := range []string{"x", "5 skip=0-", "5 disable=nope", "5 color=red", "5 ticks=0", "5 ticks=x"} {
		if _, err := parseRegressions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
