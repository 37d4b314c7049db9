//go:build canary_announce_before_persisted

package kernel

// canaryAnnounceBeforePersisted plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): pushed entries are acknowledged before their Writes are durable (serve.go). Never set in a normal build.
const canaryAnnounceBeforePersisted = true
