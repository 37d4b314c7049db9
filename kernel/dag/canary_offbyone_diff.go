//go:build canary_offbyone_diff

package dag

// canaryDiffLeft plants a known bug for the simulator's canary job (make
// sim-canary, SIMULATION.md G8): the Missing walk stops while one missing
// node is still unvisited, so a diff sends one entry too few. Never set in
// a normal build.
const canaryDiffLeft = 1
