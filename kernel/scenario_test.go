package kernel_test

import (
	"path/filepath"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/eidsync/eidsync/sim"
)

// TestScenarios runs the golden scenarios in testdata/ through the sim
// harness. Regenerate with: go test ./kernel -run TestScenarios -rewrite
func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			env := sim.NewEnv()
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				return env.Handle(t, d)
			})
		})
	}
}
