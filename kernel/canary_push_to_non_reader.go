//go:build canary_push_to_non_reader

package kernel

// canaryPushToNonReader plants a known bug for the simulator's canary job
// (make sim-canary, SIMULATION.md G8): entries are pushed to a peer whatever
// the tree's settings say about the peer's key (gate.go mayPush). Never set
// in a normal build.
const canaryPushToNonReader = true
