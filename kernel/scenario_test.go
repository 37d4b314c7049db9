package kernel_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/sim"
)

// TestScenarios runs the golden scenarios in testdata/ through the sim
// harness. Regenerate with: go test ./kernel -run TestScenarios -rewrite
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := sim.NewEnv()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return env.Handle(t, d)
		})
	})
}
