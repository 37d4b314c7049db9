//go:build !canary_skip_parent_check

package kernel

// canarySkipParentCheck is off: see canary_skip_parent_check.go.
const canarySkipParentCheck = false
