//go:build !invariants

package sim

// buildTags goes into the replay commands TestSim prints (see
// tags_on_test.go).
const buildTags = ""
