//go:build !canary_retry_not_persisted

package kernel

// canaryRetryNotPersisted is off: see canary_retry_not_persisted.go.
const canaryRetryNotPersisted = false
