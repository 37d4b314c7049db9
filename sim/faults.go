package sim

import (
	"fmt"
	"strings"
)

// Fault is one kind of fault the simulator injects (SIMULATION.md 2.1-2.5).
// Each has a row in faultTable saying how often a seed turns it on and how
// strongly; the coverage table requires every kind to fire in at least 20%
// of the seeds of a campaign that can turn it on.
//
// To add a fault kind (a later issue's retries, approvals or auth): append a
// constant before faultCount, append its row to faultTable, and call
// w.inject(kind) at the site that injects it.
type Fault uint8

// Fault kinds, grouped by subsystem.
const (
	FaultDelay         Fault = iota // per-message delay, min + exponential
	FaultTail                       // a rare 10 s delay
	FaultReorder                    // a message jumps the queue of its link
	FaultDrop                       // a message is lost
	FaultDuplicate                  // a message is delivered twice
	FaultReplay                     // an old request is delivered again, much later
	FaultOverflow                   // a bounded link queue drops a random victim
	FaultClog                       // a link holds its messages, then delivers a burst
	FaultPartition                  // a symmetric split of the nodes in two
	FaultPartitionAsym              // one side can send but not receive
	FaultIsolate                    // one node cut from all others
	FaultLostReply                  // a request is applied, its reply lost: unknown outcome
	FaultCorrupt                    // bits flipped in an encoded message
	FaultTruncate                   // an encoded message cut short
	FaultCrash                      // a node loses its volatile state, restarts from its store
	FaultPause                      // a node stops stepping; ticks pile up
	FaultWipe                       // a node loses everything, restarts empty, same identity
	FaultJoin                       // a new empty node joins and bootstraps
	FaultLostWrite                  // a write in flight at a crash is lost
	FaultTornWrite                  // a prefix of the writes in flight at a crash survives
	FaultReadCorrupt                // a loaded entry has a flipped bit
	FaultPersistError               // a write fails (PersistFailed)
	FaultLoadError                  // a read fails (LoadFailed)
	FaultSlowStorage                // completions delayed by milliseconds to seconds
	FaultLostFsync                  // adversarial: acknowledged writes vanish at a crash
	FaultStaleRestore               // adversarial: a restart from an older snapshot
	FaultClockOffset                // a node's wall clock is off by a constant
	FaultClockDrift                 // a node's wall clock runs fast or slow
	FaultClockJump                  // a node's wall clock steps forward or back
	FaultTickJitter                 // ticks come at uneven intervals
	FaultBadEntry                   // tampered, wrongly signed, malformed or orphan entries from a rogue peer
	faultCount
)

// faultSpec describes one fault kind. onBp is the chance (basis points) that
// a seed turns the kind on (swarm testing: most seeds run a few faults hard
// rather than all faults softly); lo..hi is the range its strength is drawn
// from, in the unit given.
type faultSpec struct {
	name        string
	family      string
	onBp        int
	lo, hi      int
	unit        string
	adversarial bool // only in the adversarial profile
}

var faultTable = [faultCount]faultSpec{
	FaultDelay:         {"delay", "net", 10000, 0, 0, "always on; min/mean drawn apart", false},
	FaultTail:          {"delay-tail", "net", 7000, 50, 200, "bp of messages delayed 10 s more", false},
	FaultReorder:       {"reorder", "net", 6000, 100, 1500, "bp of messages sent with no delay", false},
	FaultDrop:          {"drop", "net", 5000, 50, 1500, "bp of messages", false},
	FaultDuplicate:     {"duplicate", "net", 5000, 100, 2000, "bp of messages", false},
	FaultReplay:        {"stale-replay", "net", 5000, 50, 500, "bp per tick: an old request again", false},
	FaultOverflow:      {"queue-overflow", "net", 7000, 1, 2, "link queue capacity", false},
	FaultClog:          {"clog", "net", 5000, 20, 200, "bp per tick per link", false},
	FaultPartition:     {"partition", "net", 5000, 50, 300, "bp per tick", false},
	FaultPartitionAsym: {"partition-asym", "net", 5000, 50, 300, "bp per tick", false},
	FaultIsolate:       {"isolate", "net", 5000, 50, 300, "bp per tick", false},
	FaultLostReply:     {"lost-reply", "net", 5000, 100, 1500, "bp of replies", false},
	FaultCorrupt:       {"corrupt", "net", 6000, 50, 400, "bp of messages", false},
	FaultTruncate:      {"truncate", "net", 6000, 50, 400, "bp of messages", false},
	FaultCrash:         {"crash", "node", 7000, 30, 150, "bp per tick per node", false},
	FaultPause:         {"pause", "node", 5000, 30, 150, "bp per tick per node", false},
	FaultWipe:          {"wipe", "node", 6000, 3000, 6000, "bp of crashes", false},
	FaultJoin:          {"join", "node", 5000, 0, 0, "one node starts absent and joins", false},
	FaultLostWrite:     {"lost-write", "storage", 7000, 4000, 9000, "bp of writes in flight at a crash", false},
	FaultTornWrite:     {"torn-write", "storage", 8500, 6000, 9500, "bp of crashes that keep a prefix", false},
	FaultReadCorrupt:   {"read-corrupt", "storage", 8500, 800, 2500, "bp of reads", false},
	FaultPersistError:  {"persist-error", "storage", 7000, 200, 1200, "bp of writes", false},
	FaultLoadError:     {"load-error", "storage", 8500, 800, 2500, "bp of reads", false},
	FaultSlowStorage:   {"slow-storage", "storage", 5000, 20, 400, "mean ms per operation", false},
	FaultLostFsync:     {"lost-fsync", "storage", 6000, 2000, 8000, "bp of crashes losing acknowledged writes", true},
	FaultStaleRestore:  {"stale-restore", "storage", 8000, 4000, 9000, "bp of restarts from an older snapshot", true},
	FaultClockOffset:   {"clock-offset", "clock", 5000, 1000, 3_600_000, "max ms off true time", false},
	FaultClockDrift:    {"clock-drift", "clock", 5000, 100, 50_000, "max ppm", false},
	FaultClockJump:     {"clock-jump", "clock", 5000, 20, 200, "bp per tick per node", false},
	FaultTickJitter:    {"tick-jitter", "clock", 5000, 5, 60, "max % of the tick interval", false},
	FaultBadEntry:      {"bad-entry", "workload", 6000, 1, 4, "weight among workload actions", false},
}

func (f Fault) String() string {
	if f < faultCount {
		return faultTable[f].name
	}
	return fmt.Sprintf("Fault(%d)", f)
}

// FaultSet is a set of fault kinds.
type FaultSet uint64

// Has reports whether f is in s.
func (s FaultSet) Has(f Fault) bool { return s&(1<<f) != 0 }

// With returns s with f added.
func (s FaultSet) With(f Fault) FaultSet { return s | 1<<f }

func (s FaultSet) String() string {
	var names []string
	for f := range faultCount {
		if s.Has(f) {
			names = append(names, f.String())
		}
	}
	return strings.Join(names, ",")
}

// ParseFaults reads a comma-separated list of fault names.
func ParseFaults(list string) (FaultSet, error) {
	var s FaultSet
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for f := range faultCount {
			if faultTable[f].name == name {
				s, found = s.With(f), true
			}
		}
		if !found {
			return 0, fmt.Errorf("sim: unknown fault %q", name)
		}
	}
	return s, nil
}
