package sim

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eidsync/eidsync/kernel"
)

// BenchmarkSim measures the simulator against SIMULATION.md G2 and G3 on
// the small profile, each metric printed with its ratio to the goal (a
// ratio of 1 or more meets it):
//
//   - seeds: seeds/s over all cores (goal 200/s on 2 cores), one run per
//     seed with every checker on, as the first run of a campaign;
//   - kernel: kernel events/s on one core (goal 1M/s): the event logs of
//     recorded seeds replayed into fresh machines, Step and Ready only,
//     no simulator, no codec. The goal's ratio divides by the process's
//     CPU time (garbage collection on the other core included), which
//     other loads on the machine disturb far less than wall time;
//     kernel-events/s is the wall-clock rate;
//   - compression: simulated time / wall time on one core (goal 10 000x);
//   - harness: the share of a seed's CPU time spent outside the kernel
//     (goal at most 30%): the same seeds run whole, then their event logs
//     replayed bare. The signature checks a transport makes before Step
//     count as harness here.
func BenchmarkSim(b *testing.B) {
	b.Run("seeds", benchSeeds)
	b.Run("kernel", benchKernel)
	b.Run("compression", benchCompression)
	b.Run("harness", benchHarness)
}

func benchHarness(b *testing.B) {
	const seeds = 50
	var logs []*EventLog
	for seed := uint64(1); seed <= seeds; seed++ {
		logs = append(logs, Run(Options{Seed: seed, RecordEvents: true}).Logs...)
	}
	var whole, bare time.Duration
	for b.Loop() {
		cpu0 := cpuTime()
		for seed := uint64(1); seed <= seeds; seed++ {
			Run(Options{Seed: seed})
		}
		cpu1 := cpuTime()
		for _, l := range logs {
			replayBare(b, l)
		}
		whole, bare = whole+cpu1-cpu0, bare+cpuTime()-cpu1
	}
	share := 1 - bare.Seconds()/whole.Seconds()
	b.ReportMetric(100*share, "harness-%")
	b.ReportMetric(0.30/share, "x_of_30%_goal")
}

func benchSeeds(b *testing.B) {
	var next atomic.Uint64
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := Run(Options{Seed: next.Add(1), RecordOps: true}); res.Failure != nil {
				b.Errorf("seed %d: %s", res.Seed, res.Failure)
			}
		}
	})
	perSec := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(perSec, "seeds/s")
	b.ReportMetric(perSec/200, "x_of_200/s_goal")
}

func benchKernel(b *testing.B) {
	var logs []*EventLog
	events := 0
	for seed := uint64(1); seed <= 50; seed++ {
		res := Run(Options{Seed: seed, RecordEvents: true})
		for _, l := range res.Logs {
			logs = append(logs, l)
			events += len(l.Events)
		}
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		for _, l := range logs {
			replayBare(b, l)
		}
	}
	perSec := float64(events*b.N) / time.Since(start).Seconds()
	perCPUSec := float64(events*b.N) / (cpuTime() - cpu0).Seconds()
	b.ReportMetric(perSec, "kernel-events/s")
	b.ReportMetric(perCPUSec, "kernel-events/cpu-s")
	b.ReportMetric(perCPUSec/1e6, "x_of_1M/s_goal")
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// replayBare steps a log into a fresh machine and drains its Ready batches
// unread: the kernel's own cost.
func replayBare(b *testing.B, l *EventLog) {
	m, err := kernel.New(l.Config, l.Restored)
	if err != nil {
		b.Fatal(err)
	}
	for _, ev := range l.Events {
		_ = m.Step(ev)
		for m.HasReady() {
			m.Ready()
		}
	}
}

func benchCompression(b *testing.B) {
	var simMs int64
	seed := uint64(0)
	start := time.Now()
	for b.Loop() {
		seed++
		simMs += Run(Options{Seed: seed}).SimMs
	}
	ratio := float64(simMs) / float64(time.Since(start).Milliseconds()+1)
	b.ReportMetric(ratio, "sim/wall")
	b.ReportMetric(ratio/10_000, "x_of_10000x_goal")
}
