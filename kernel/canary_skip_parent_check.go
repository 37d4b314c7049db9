//go:build canary_skip_parent_check

package kernel

// canarySkipParentCheck plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): ingest batches a received entry whose parents are not stored (tree.go). Never set in a normal build.
const canarySkipParentCheck = true
