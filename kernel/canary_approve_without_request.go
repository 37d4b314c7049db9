//go:build canary_approve_without_request

package kernel

// canaryApproveWithoutRequest plants a known bug for the simulator's canary
// job (make sim-canary, SIMULATION.md G8): a bootstrap asking for access is
// granted at once, as if an admin had approved it, instead of waiting in the
// registry for a decision (approval.go). Never set in a normal build.
const canaryApproveWithoutRequest = true
