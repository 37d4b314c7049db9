//go:build invariants

package sim

// buildTags goes into the replay commands TestSim prints: a failure of
// the kernel's own assertions replays only with them compiled in.
const buildTags = "invariants"
