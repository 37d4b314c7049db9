//go:build canary_forget_persist_tip

package kernel

// canaryForgetPersistTip plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): a Write effect leaves out its last entry, which the machine still stores on Persisted (tree.go). Never set in a normal build.
const canaryForgetPersistTip = true
