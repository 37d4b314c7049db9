//go:build !canary_offbyone_backoff

package kernel

// canaryOffByOneBackoff is off: see canary_offbyone_backoff.go.
const canaryOffByOneBackoff = false
