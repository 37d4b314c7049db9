package sim

import (
	"fmt"
	"strings"

	"github.com/eidsync/eidsync/kernel"
)

// Profile sizes a run and says which fault families it may draw.
type Profile struct {
	Name               string
	NodesMin, NodesMax int
	TreesMax           int
	Ticks              int // safety phase, in ticks
	// RoundsMin bounds the drawn RoundsMax from below. NB: a sync that
	// cannot place the peer's history streams the whole tree from its
	// start, EntriesMax entries a round, and a sync stopped by RoundsMax
	// starts over: RoundsMax·EntriesMax must exceed the trees the profile
	// grows, or some seeds can never converge (a limit, not a fault).
	RoundsMin int
	TickMs    int // nominal tick interval
	ActionMs  int // mean time between workload actions
	// ConvergeTicks bounds the liveness phase (SIMULATION.md G6); QuietTicks
	// is the window with no message once every machine is idle.
	ConvergeTicks, QuietTicks int
	// Adversarial turns on the faults outside the recoverable model (lost
	// fsync, stale restore): their durability and liveness failures are
	// expected and reported as such, never as failures.
	Adversarial bool
	// G14 runs the G14 convergence campaign (g14.go) instead of the
	// swarm: a fixed fault model, a writers' workload, and a liveness
	// phase where only the kernels' background sync runs.
	G14 bool
}

// Profiles are the named run sizes. "small" is what `make sim` runs by the
// ten thousand: 3-5 nodes, a few hundred ticks, about 2k events a seed.
var Profiles = map[string]Profile{
	"small":       {Name: "small", NodesMin: 3, NodesMax: 5, TreesMax: 2, Ticks: 160, TickMs: 100, ActionMs: 400, ConvergeTicks: 400, QuietTicks: 10, RoundsMin: 200},
	"adversarial": {Name: "adversarial", NodesMin: 3, NodesMax: 5, TreesMax: 2, Ticks: 160, TickMs: 100, ActionMs: 400, ConvergeTicks: 400, QuietTicks: 10, Adversarial: true, RoundsMin: 200},
	"large":       {Name: "large", NodesMin: 8, NodesMax: 16, TreesMax: 4, Ticks: 1500, TickMs: 100, ActionMs: 100, ConvergeTicks: 1500, QuietTicks: 40, RoundsMin: 5000},
	// g14 converges by background sync alone: ConvergeTicks (10T) bounds
	// how long a late convergence is waited for, to report its time; the
	// campaign fails any over 2T.
	"g14": {Name: "g14", NodesMin: g14Nodes, NodesMax: g14Nodes, TreesMax: 1, Ticks: g14SetupTicks + g14WriteTicks, TickMs: 100,
		ActionMs: g14WriteMs, ConvergeTicks: 10 * g14T, QuietTicks: 10, G14: true},
}

// action is a kind of workload step; the swarm draws a weight for each.
type action uint8

const (
	actCommit   action = iota // one commit on the writer's tips
	actChain                  // a chain of commits in one batch
	actFanout                 // siblings on the same parents
	actFork                   // a commit on some tips or an older entry
	actMulti                  // commits on two trees stepped before one drain
	actSync                   // SyncAsked with a random peer
	actBadEntry               // a rogue peer sends bad entries
	actRead                   // has/tips reads, recorded for linearizability checks
	actFlush                  // FlushAsked: push every dirty relation now
	actionCount
)

var actionNames = [actionCount]string{"commit", "chain", "fanout", "fork", "multi", "sync", "bad-entry", "read", "flush"}

// Swarm is what one seed drew: its size, which faults are on and how
// strongly, the kernel limits (varied per seed, BUGGIFY style, so that
// small windows and cut answers are exercised) and the workload mix. It is
// printed in full at the top of every trace.
type Swarm struct {
	Nodes, Trees int
	On           FaultSet
	Rate         [faultCount]int

	DelayMinMs, DelayMeanMs int
	TimeoutMs               int // the transport's request timeout
	StorageMinMs            int
	DownTicks, PauseTicks   int // mean
	ClogMs                  int // mean

	EntriesMax, IDsMax, WantsMax, OrphansMax   int
	RequestsInflightMax, RoundsMax             int
	FrontierMax, MessageBytesMax               int
	OrphanTicks, RequestTicks                  uint64
	RetryMin, RetryMax, RepairTicks, PushDelay uint64
	RetryAttempts                              int

	SignedBp, PayloadMax int
	Weights              [actionCount]int
}

// drawSwarm draws a seed's swarm from its profile. Every draw happens
// whatever is on, so that a fault disabled by Options keeps the stream
// aligned.
func drawSwarm(r rng, p Profile) Swarm {
	if p.G14 {
		return drawG14Swarm(r)
	}
	s := Swarm{Nodes: r.between(p.NodesMin, p.NodesMax), Trees: r.between(1, p.TreesMax)}
	for f := range faultCount {
		spec := faultTable[f]
		on := r.chance(spec.onBp) && (!spec.adversarial || p.Adversarial)
		rate := r.between(spec.lo, spec.hi)
		if on {
			s.On, s.Rate[f] = s.On.With(f), rate
		}
	}
	s.DelayMinMs, s.DelayMeanMs = r.between(0, 30), r.between(30, 100)
	s.TimeoutMs = r.between(1000, 8000)
	s.StorageMinMs = r.between(0, 5)
	s.DownTicks, s.PauseTicks, s.ClogMs = r.between(5, 40), r.between(5, 40), r.between(200, 5000)
	drawLimits(r, &s)
	s.RoundsMax = max(s.RoundsMax, p.RoundsMin)
	s.SignedBp, s.PayloadMax = []int{0, 300, 1000}[r.pick(3)], []int{16, 200, 1000}[r.pick(3)]
	for a := range actionCount {
		s.Weights[a] = r.between(1, 6)
	}
	s.Weights[actBadEntry] = 0
	if s.On.Has(FaultBadEntry) {
		s.Weights[actBadEntry] = s.Rate[FaultBadEntry]
	}
	return s
}

// drawLimits varies the kernel's limits per seed, within Config.Validate.
func drawLimits(r rng, s *Swarm) {
	s.EntriesMax = []int{2, 4, 8, 64}[r.pick(4)]
	s.IDsMax = []int{8, 32, 1024}[r.pick(3)]
	s.WantsMax = []int{1, 4, 512}[r.pick(3)]
	s.OrphansMax = []int{4, 64, 10_000}[r.pick(3)]
	s.RequestsInflightMax = []int{2, 8, 256}[r.pick(3)]
	s.RoundsMax = []int{20, 10_000}[r.pick(2)]
	s.FrontierMax = min([]int{2, 8, 64}[r.pick(3)], s.IDsMax)
	s.MessageBytesMax = []int{6000, 20_000, 2_000_000}[r.pick(3)]
	s.OrphanTicks = uint64(r.between(20, 200))
	s.RequestTicks = uint64(r.between(8, 30))
	s.RetryMin = uint64(r.between(1, 8))
	s.RetryMax = s.RetryMin + uint64(r.between(0, 30))
	s.RetryAttempts = []int{1, 3, 20}[r.pick(3)]
	s.RepairTicks = uint64(r.between(15, 50))
	s.PushDelay = uint64(r.between(1, 5))
}

// config is the kernel configuration of one node incarnation.
func (s *Swarm) config(seed uint64, key nodeKey) kernel.Config {
	cfg := kernel.DefaultConfig()
	cfg.Seed, cfg.DeviceKey = seed, key.priv
	cfg.Wire.EntriesMax, cfg.Wire.IDsMax = s.EntriesMax, s.IDsMax
	cfg.Wire.MessageBytesMax = s.MessageBytesMax
	cfg.Wire.Entry.EntryBytesMax = min(cfg.Wire.Entry.EntryBytesMax, (s.MessageBytesMax-1100)/4)
	cfg.WantsInflightMax, cfg.OrphansMax = s.WantsMax, s.OrphansMax
	cfg.RequestsInflightMax, cfg.RoundsMax = s.RequestsInflightMax, s.RoundsMax
	cfg.FrontierMax = s.FrontierMax
	cfg.OrphanTicksMax, cfg.RequestTicksMax = s.OrphanTicks, s.RequestTicks
	cfg.RetryTicksMin, cfg.RetryTicksMax, cfg.RetryAttemptsMax = s.RetryMin, s.RetryMax, s.RetryAttempts
	cfg.RepairTicks, cfg.PushDelayTicks = s.RepairTicks, s.PushDelay
	// NB: request auth needs clocks within AuthWindowMs (PROTOCOL.md
	// 11.5); the clock faults reach an hour off and 5% drift, which no
	// deployment should see, so the window covers them here: what the
	// simulator checks is that nothing private leaks and that private
	// trees still converge, not the freshness rule (the goldens and
	// FuzzRequestAuth cover that).
	cfg.AuthWindowMs = 6 * 3_600_000
	return cfg
}

func (s *Swarm) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nodes=%d trees=%d delay=%d+exp(%d)ms timeout=%dms storage=%dms down=%dt pause=%dt clog=%dms\n",
		s.Nodes, s.Trees, s.DelayMinMs, s.DelayMeanMs, s.TimeoutMs, s.StorageMinMs, s.DownTicks, s.PauseTicks, s.ClogMs)
	fmt.Fprintf(&b, "limits: entries=%d ids=%d wants=%d orphans=%d inflight=%d rounds=%d frontier=%d msgbytes=%d orphan-ticks=%d request-ticks=%d\n",
		s.EntriesMax, s.IDsMax, s.WantsMax, s.OrphansMax, s.RequestsInflightMax, s.RoundsMax, s.FrontierMax, s.MessageBytesMax, s.OrphanTicks, s.RequestTicks)
	fmt.Fprintf(&b, "background: retry=%d..%d attempts=%d repair=%d push-delay=%d\n", s.RetryMin, s.RetryMax, s.RetryAttempts, s.RepairTicks, s.PushDelay)
	fmt.Fprintf(&b, "workload: signed=%dbp payload<=%d weights=", s.SignedBp, s.PayloadMax)
	for a := range actionCount {
		fmt.Fprintf(&b, "%s:%d ", actionNames[a], s.Weights[a])
	}
	b.WriteString("\nfaults:")
	for f := range faultCount {
		if s.On.Has(f) {
			fmt.Fprintf(&b, " %s=%d", f, s.Rate[f])
		}
	}
	b.WriteString("\n")
	return b.String()
}
