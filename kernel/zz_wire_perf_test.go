package kernel

import (
	"strings"
	"testing"
)

func BenchmarkZZWireDecode(b *testing.B) {
	vecs := wireVectors(b)
	lim := DefaultWireLimits()
	n := 1_900_000 / (len(vecs["child_left"]) + 1)
	big := []byte(`{"SendEntries":[` + strings.TrimSuffix(strings.Repeat(vecs["child_left"]+",", n), ",") + `]}`)
	for b.Loop() {
		DecodeRequest(big, lim)
	}
}
