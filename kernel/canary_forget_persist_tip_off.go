//go:build !canary_forget_persist_tip

package kernel

// canaryForgetPersistTip is off: see canary_forget_persist_tip.go.
const canaryForgetPersistTip = false
