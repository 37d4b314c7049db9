package sim

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Mark is a rare branch or outcome a campaign must reach at least once
// (SIMULATION.md 2.6 "sometimes", TigerBeetle's coverage marks): a green
// campaign that never resolved an orphan or never used a continuation
// proves nothing about those paths (P9). Marks are counted from the
// effects, notices and refusals the simulator sees, never from kernel
// internals.
//
// To add one: append a constant before markCount and its row to markTable,
// then call w.mark(kind) where it happens.
type Mark uint8

// Marks.
const (
	MarkCommit             Mark = iota // a local commit was made durable
	MarkFork                           // a commit on a subset of the tips or an older entry
	MarkChain                          // a chain committed without waiting for Persisted
	MarkFanout                         // sibling commits on the same parents
	MarkSyncDone                       // a sync finished
	MarkSyncFailed                     // a sync failed
	MarkBootstrap                      // a node got a tree it did not hold by syncing
	MarkGetEntries                     // a GetEntries was sent
	MarkContinuation                   // a response said more entries follow
	MarkResume                         // a SyncTree carried a resume cursor
	MarkOrphanResolved                 // a received entry waited for its parents, then was stored
	MarkOrphanDropped                  // an orphan's parents never came
	MarkEntryRejected                  // a received entry was refused
	MarkCommitFailed                   // a local commit was not stored (write failed)
	MarkDecodeRejected                 // the wire decoder refused a corrupted or truncated message
	MarkCorruptDecoded                 // a corrupted message still decoded and reached a machine
	MarkForeignStored                  // a corrupted but valid unsigned entry was stored (see check.go)
	MarkSendFailed                     // a request ended with SendFailed
	MarkKernelTimeout                  // the kernel timed a request out before the transport did
	MarkLateReply                      // a duplicated or late reply was refused as unknown
	MarkReadCorruptCaught              // a corrupted load was refused, nothing sent from it
	MarkBusy                           // a request was refused as over RequestsInflightMax
	MarkIdempotentDup                  // a back-to-back duplicate changed nothing
	MarkTornRecovered                  // a restart after a torn write rebuilt a consistent machine
	MarkPushed                         // a sync pushed entries to its peer
	MarkTickBurst                      // a resumed node got overdue ticks in a burst
	MarkClockBack                      // a wall clock stepped backwards
	MarkRestartMidSync                 // a node crashed with syncs in progress
	MarkConverged                      // the liveness phase converged
	MarkExpectedDurability             // adversarial: an acknowledged entry vanished, as designed
	MarkBackoff                        // a relation backed off after a failed background sync
	MarkGaveUp                         // a relation gave up retrying (NoticeGaveUp)
	MarkFlushed                        // a FlushAsked finished (NoticeFlushed)
	MarkRelationRestored               // a machine restarted with relation records
	MarkTipsOverWire                   // a tree had more tips than Wire.IDsMax after convergence
	MarkPushAckDurable                 // a SendEntries answer was judged with entries written for it
	MarkRelationKept                   // a restart was judged with relations that had to survive
	MarkPrivateTree                    // a tree was made private: only some nodes may read it
	MarkAuthRefused                    // a request was refused by a read or write gate
	MarkRequestQueued                  // a refused bootstrap queued an access request (BootstrapPending)
	MarkApproved                       // an admin's approval of an access request was stored
	markCount
)

type markSpec struct {
	name        string
	adversarial bool // reachable only in the adversarial profile
}

var markTable = [markCount]markSpec{
	MarkCommit:             {"commit", false},
	MarkFork:               {"fork", false},
	MarkChain:              {"chain", false},
	MarkFanout:             {"fan-out", false},
	MarkSyncDone:           {"sync-done", false},
	MarkSyncFailed:         {"sync-failed", false},
	MarkBootstrap:          {"bootstrap", false},
	MarkGetEntries:         {"get-entries", false},
	MarkContinuation:       {"continuation", false},
	MarkResume:             {"resume-cursor", false},
	MarkOrphanResolved:     {"orphan-resolved", false},
	MarkOrphanDropped:      {"orphan-dropped", false},
	MarkEntryRejected:      {"entry-rejected", false},
	MarkCommitFailed:       {"commit-failed", false},
	MarkDecodeRejected:     {"decode-rejected", false},
	MarkCorruptDecoded:     {"corrupt-decoded", false},
	MarkForeignStored:      {"foreign-stored", false},
	MarkSendFailed:         {"send-failed", false},
	MarkKernelTimeout:      {"kernel-timeout", false},
	MarkLateReply:          {"late-reply-refused", false},
	MarkReadCorruptCaught:  {"read-corrupt-caught", false},
	MarkBusy:               {"busy", false},
	MarkIdempotentDup:      {"idempotent-dup", false},
	MarkTornRecovered:      {"torn-recovered", false},
	MarkPushed:             {"pushed", false},
	MarkTickBurst:          {"tick-burst", false},
	MarkClockBack:          {"clock-back", false},
	MarkRestartMidSync:     {"restart-mid-sync", false},
	MarkConverged:          {"converged", false},
	MarkExpectedDurability: {"expected-durability-loss", true},
	MarkBackoff:            {"retry-backoff", false},
	MarkGaveUp:             {"gave-up", false},
	MarkFlushed:            {"flushed", false},
	MarkRelationRestored:   {"relation-restored", false},
	MarkTipsOverWire:       {"tips-over-wire", false},
	MarkPushAckDurable:     {"push-ack-durable", false},
	MarkRelationKept:       {"relation-kept", false},
	MarkPrivateTree:        {"private-tree", false},
	MarkAuthRefused:        {"auth-refused", false},
	MarkRequestQueued:      {"request-queued", false},
	MarkApproved:           {"approved", false},
}

func (m Mark) String() string {
	if m < markCount {
		return markTable[m].name
	}
	return fmt.Sprintf("Mark(%d)", m)
}

// Counts is what one run injected and reached.
type Counts struct {
	Faults [faultCount]int
	Marks  [markCount]int
}

// faultFloorPct is the share of eligible seeds in which every fault kind
// must fire (SIMULATION.md G7).
const faultFloorPct = 20

// coverageSeedsMin is the campaign size below which coverage is printed
// but not enforced: a handful of seeds cannot reach every mark.
const coverageSeedsMin = 500

// Campaign sums the runs of many seeds.
type Campaign struct {
	Seeds, Failed, Expected, Mismatches int
	// Eligible counts, per fault kind, the seeds whose profile can turn it
	// on; adversarial seeds are counted apart for adversarial kinds.
	Eligible   [faultCount]int
	FaultSeeds [faultCount]int
	FaultTotal [faultCount]int
	MarkSeeds  [markCount]int
	MarkTotal  [markCount]int
	AdvSeeds   int
	Events     int
	// Linear sums the linearizability checks; LinearSeeds counts the
	// seeds checked, LinearBad those with an inconclusive history.
	Linear                 LinearStats
	LinearSeeds, LinearBad int
	// ApprovalHistories and ApprovalOps count the approval registries
	// checked (linear_approval.go).
	ApprovalHistories, ApprovalOps int
}

// Add folds one run into the campaign.
func (c *Campaign) Add(r *Result) {
	c.Seeds++
	c.Events += r.Events
	if r.Failure != nil {
		c.Failed++
	}
	if r.Expected != nil {
		c.Expected++
	}
	if r.Profile.Adversarial {
		c.AdvSeeds++
	}
	c.ApprovalHistories += r.ApprovalHistories
	c.ApprovalOps += r.ApprovalOpsChecked
	if l := r.Linear; l.Partitions > 0 {
		c.LinearSeeds++
		c.Linear.Ops += l.Ops
		c.Linear.Partitions += l.Partitions
		c.Linear.MaxOps = max(c.Linear.MaxOps, l.MaxOps)
		c.Linear.UnknownOps += l.UnknownOps
		c.Linear.UnknownHeld += l.UnknownHeld
		c.Linear.Inconclusive += l.Inconclusive
		c.Linear.Elapsed += l.Elapsed
		if l.Inconclusive > 0 {
			c.LinearBad++
		}
	}
	for f := range faultCount {
		if !faultTable[f].adversarial || r.Profile.Adversarial {
			c.Eligible[f]++
		}
		if n := r.Counts.Faults[f]; n > 0 {
			c.FaultSeeds[f]++
			c.FaultTotal[f] += n
		}
	}
	for m := range markCount {
		if n := r.Counts.Marks[m]; n > 0 {
			c.MarkSeeds[m]++
			c.MarkTotal[m] += n
		}
	}
}

// Gaps lists the fault kinds that fired in under 20% of their eligible
// seeds and the marks never reached; empty when the campaign is too small
// to judge.
func (c *Campaign) Gaps() []string {
	if c.Seeds < coverageSeedsMin {
		return nil
	}
	var gaps []string
	for f := range faultCount {
		if e := c.Eligible[f]; e > 0 && c.FaultSeeds[f]*100 < faultFloorPct*e {
			gaps = append(gaps, fmt.Sprintf("fault %s fired in %d of %d seeds (< %d%%)", f, c.FaultSeeds[f], e, faultFloorPct))
		}
	}
	for m := range markCount {
		if markTable[m].adversarial && c.AdvSeeds == 0 {
			continue
		}
		if c.MarkSeeds[m] == 0 {
			gaps = append(gaps, fmt.Sprintf("mark %s never reached", m))
		}
	}
	return gaps
}

// Print writes the coverage table: every fault kind with the share of
// seeds it fired in, every mark, and every invariant with its checker.
func (c *Campaign) Print(out io.Writer) {
	fmt.Fprintf(out, "campaign: %d seeds (%d adversarial), %d failed, %d expected liveness failures, %d trace mismatches, %d events\n",
		c.Seeds, c.AdvSeeds, c.Failed, c.Expected, c.Mismatches, c.Events)
	fmt.Fprintf(out, "%-16s %-9s %8s %7s %10s\n", "fault", "family", "seeds", "%", "injected")
	for f := range faultCount {
		e := max(c.Eligible[f], 1)
		status := ""
		switch {
		case c.Eligible[f] == 0:
			status = "  n/a (adversarial profile only)"
		case c.FaultSeeds[f]*100 < faultFloorPct*c.Eligible[f]:
			status = "  LOW"
		}
		fmt.Fprintf(out, "%-16s %-9s %8d %6d%% %10d%s\n", f, faultTable[f].family, c.FaultSeeds[f], c.FaultSeeds[f]*100/e, c.FaultTotal[f], status)
	}
	fmt.Fprintf(out, "%-26s %8s %10s\n", "mark", "seeds", "count")
	for m := range markCount {
		status := ""
		switch {
		case markTable[m].adversarial && c.AdvSeeds == 0:
			status = "  n/a (adversarial profile only)"
		case c.MarkSeeds[m] == 0:
			status = "  NEVER"
		}
		fmt.Fprintf(out, "%-26s %8d %10d%s\n", m, c.MarkSeeds[m], c.MarkTotal[m], status)
	}
	if l := c.Linear; c.LinearSeeds > 0 {
		fmt.Fprintf(out, "linearizability: %d seeds, %d histories, %d operations (longest %d), %d unknown-outcome puts (%d resolved as held), %d inconclusive (in %d seeds), porcupine %v in all (%v a seed)\n",
			c.LinearSeeds, l.Partitions, l.Ops, l.MaxOps, l.UnknownOps, l.UnknownHeld, l.Inconclusive, c.LinearBad,
			l.Elapsed.Round(time.Millisecond), (l.Elapsed / time.Duration(c.LinearSeeds)).Round(time.Microsecond))
	}
	if c.ApprovalHistories > 0 {
		fmt.Fprintf(out, "approval registries: %d histories, %d operations linearizable\n", c.ApprovalHistories, c.ApprovalOps)
	}
	fmt.Fprintln(out, "invariants (SIMULATION.md 2.6):")
	for _, ck := range checkerTable {
		fmt.Fprintf(out, "  %2d %-18s %s\n", ck.invariant, ck.name, ck.when)
	}
	if gaps := c.Gaps(); len(gaps) > 0 {
		fmt.Fprintf(out, "coverage gaps:\n  %s\n", strings.Join(gaps, "\n  "))
	}
}
