//go:build canary_apply_twice

package kernel

// canaryApplyTwice plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): ingest writes and applies again an entry it already holds (tree.go). Never set in a normal build.
const canaryApplyTwice = true
