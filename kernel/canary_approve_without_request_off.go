//go:build !canary_approve_without_request

package kernel

// canaryApproveWithoutRequest is off: see canary_approve_without_request.go.
const canaryApproveWithoutRequest = false
