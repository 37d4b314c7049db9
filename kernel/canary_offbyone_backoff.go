//go:build canary_offbyone_backoff

package kernel

// canaryOffByOneBackoff plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): the backoff ceiling is shifted one attempt too far (retry.go). Never set in a normal build.
const canaryOffByOneBackoff = true
