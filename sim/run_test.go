package sim

import "testing"

// These tests pin the API that shrinking and linearizability checking
// build on; TestSim is the simulator's real test.

func TestRunDeterministic(t *testing.T) {
	a, b := Run(Options{Seed: 7}), Run(Options{Seed: 7, Unchecked: true})
	if a.Failure != nil {
		t.Fatal(a.Failure)
	}
	if a.TraceHash != b.TraceHash {
		t.Fatal("the same seed gave two traces (with and without checkers)")
	}
	// Recording and checking the local API (reads included) changes
	// nothing the machines do.
	if c := Run(Options{Seed: 7, RecordOps: true}); c.Failure != nil || c.TraceHash != a.TraceHash || c.Linear.Partitions == 0 {
		t.Fatalf("with RecordOps: failure %v, same trace %t, %d histories checked", c.Failure, c.TraceHash == a.TraceHash, c.Linear.Partitions)
	}
	if Run(Options{Seed: 8}).TraceHash == a.TraceHash {
		t.Fatal("two seeds gave the same trace: the hash does not see the run")
	}
}

// TestRunDisable: with every fault kind disabled nothing is injected, and
// the run still passes.
func TestRunDisable(t *testing.T) {
	var all FaultSet
	for f := range faultCount {
		all = all.With(f)
	}
	res := Run(Options{Seed: 3, Disable: all})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	for f := range faultCount {
		if n := res.Counts.Faults[f]; n != 0 {
			t.Errorf("%s injected %d times while disabled", f, n)
		}
	}
}

// TestRunSkip: Skip sees every injection numbered as the seed's full run
// numbers them. Dropping nothing is the full run (numbers 1, 2, ... in
// order, the same trace); dropping every workload action leaves each
// injection the full run also made under its number there (same kind, same
// node), and only the injections the full run never made are numbered past
// its count.
func TestRunSkip(t *testing.T) {
	var full []Injection
	res := Run(Options{Seed: 5, Skip: func(in Injection) bool {
		if in.N != len(full)+1 {
			t.Fatalf("injection %d after %d", in.N, len(full))
		}
		full = append(full, in)
		return false
	}})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	if len(full) == 0 || res.Injections != len(full) || res.TraceHash != Run(Options{Seed: 5}).TraceHash {
		t.Fatalf("saw %d injections, the run counted %d; same trace as the live run: %t", len(full), res.Injections, res.TraceHash == Run(Options{Seed: 5}).TraceHash)
	}
	matched, fresh := 0, 0
	res = Run(Options{Seed: 5, Skip: func(in Injection) bool {
		switch {
		case in.N > len(full):
			fresh++
		case full[in.N-1].Fault != in.Fault || full[in.N-1].Action != in.Action || full[in.N-1].Node != in.Node:
			t.Errorf("injection %d is %s %s at %s, in the full run %s %s at %s", in.N, in.Fault, in.Action, in.Node,
				full[in.N-1].Fault, full[in.N-1].Action, full[in.N-1].Node)
		default:
			matched++
		}
		return in.Action != "" // drop every workload action
	}})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	t.Logf("%d injections in the full run; without its workload %d matched, %d new", len(full), matched, fresh)
	if matched == 0 {
		t.Fatal("no injection matched the full run's")
	}
}

// TestRunRecord: the event logs replay into fresh machines, and every put
// returns, fails or is marked unknown.
func TestRunRecord(t *testing.T) {
	res := Run(Options{Seed: 11, RecordOps: true, RecordEvents: true})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	if len(res.Logs) < res.Swarm.Nodes {
		t.Fatalf("%d logs for %d nodes", len(res.Logs), res.Swarm.Nodes)
	}
	for _, l := range res.Logs {
		if i, err := l.Replay(); i >= 0 || err != nil {
			t.Fatalf("%s incarnation %d: event %d: %v", l.Node, l.Incarnation, i, err)
		}
	}
	puts := 0
	for _, op := range res.Ops {
		if op.Kind != OpPut {
			continue
		}
		puts++
		if op.Return < 0 && !op.Unknown {
			t.Fatalf("put of %s never returned and is not unknown", op.ID)
		}
	}
	if puts == 0 {
		t.Fatal("no put recorded")
	}
}
