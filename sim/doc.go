// Package sim drives real kernel machines without real I/O: an in-memory
// store per machine, a network of queued messages that go through the real
// wire codec, and named entries so that traces read as sentences.
//
// Env is the harness behind the kernel's golden scenarios
// (kernel/testdata/*.txt, run by kernel/scenario_test.go with
// cockroachdb/datadriven): each directive is handled in its own
// env_handle_<directive>.go file, and every line of output comes from the
// kernel's Describe functions, never from logs.
//
// Run is the randomized simulator (SIMULATION.md): one master seed drives N
// machines through a discrete-event world (queue.go) in which every random
// choice comes from a per-subsystem PCG stream (rng.go). Each seed draws
// its swarm (swarm.go): which fault kinds of faultTable (faults.go) are on
// and how strongly, the kernel limits and the workload mix. The subsystems
// are the network (net.go: encoded bytes, exchanges answered exactly once,
// signatures prechecked as a transport does, through one memo of verdicts
// per run, sigmemo.go),
// the nodes (node.go: crash, restart through kernel.New, pause, wipe,
// join), their stores (storage.go: faults at the Persist boundary), their
// clocks (clock.go) and the workload (workload.go, rogue.go). The checkers
// of checkerTable (check.go) run at the hook points that can change what
// they check, which is after every step; liveness.go heals everything and
// checks convergence and quiet; coverage.go counts what fired, per seed
// and per campaign (Campaign), so that a green run cannot be a vacuous
// one. trace.go hashes every event, Ready batch and encoded message (the
// determinism check) and prints them readably; purity.go replays one
// machine's event log into a fresh machine.
//
// TestSim (sim_test.go) runs campaigns and single seeds; see README.md,
// "Replaying a failure".
package sim
