//go:build !canary_offbyone_diff

package dag

// canaryDiffLeft is the number of missing nodes the Missing walk may leave
// unvisited: none. See canary_offbyone_diff.go.
const canaryDiffLeft = 0
