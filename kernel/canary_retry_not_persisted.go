//go:build canary_retry_not_persisted

package kernel

// canaryRetryNotPersisted plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): relation records are never written, so a restart forgets relations (relation.go). Never set in a normal build.
const canaryRetryNotPersisted = true
