//go:build !canary_apply_twice

package kernel

// canaryApplyTwice is off: see canary_apply_twice.go.
const canaryApplyTwice = false
