//go:build !canary_push_to_non_reader

package kernel

// canaryPushToNonReader is off: see canary_push_to_non_reader.go.
const canaryPushToNonReader = false
