//go:build !canary_announce_before_persisted

package kernel

// canaryAnnounceBeforePersisted is off: see canary_announce_before_persisted.go.
const canaryAnnounceBeforePersisted = false
