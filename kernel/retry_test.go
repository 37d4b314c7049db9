package kernel

import "testing"

// TestBackoffBounds: every delay lies in [min, max] and in the upper half of
// its ceiling, the ceiling doubles per attempt until max, and jitter
// actually varies the delay.
func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		name     string
		min, max uint64
	}{
		{"one tick", 1, 1},
		{"defaults", 10, 600},
		{"min near max", 7, 8},
		{"huge max", 3, 1 << 62},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := newPRNG(42)
			for attempt := 1; attempt <= 80; attempt++ {
				ceiling := tc.max
				if attempt < 63 && tc.min<<attempt>>attempt == tc.min {
					ceiling = min(tc.max, tc.min<<attempt)
				}
				seen := map[uint64]bool{}
				for range 50 {
					d := backoffTicks(&rng, tc.min, tc.max, attempt)
					if d < tc.min || d > tc.max || d < max(tc.min, ceiling/2) || d > ceiling {
						t.Fatalf("attempt %d: delay %d outside [%d, %d] or below half its ceiling %d", attempt, d, tc.min, tc.max, ceiling)
					}
					seen[d] = true
				}
				if ceiling-ceiling/2 >= 4 && len(seen) < 2 {
					t.Fatalf("attempt %d: no jitter in 50 draws", attempt)
				}
			}
		})
	}
}

// TestTimeoutLifecycle: start arms at min, backoff counts attempts and stays
// in bounds, fired is exact, stop disarms.
func TestTimeoutLifecycle(t *testing.T) {
	rng := newPRNG(7)
	to := timeout{ticksMin: 4, ticksMax: 32}
	to.start(100)
	if !to.ticking() || to.fired(103) || !to.fired(104) {
		t.Fatalf("start: deadline %d", to.deadline)
	}
	for i := 1; i <= 10; i++ {
		to.backoff(200, &rng)
		if to.attempts != i || to.deadline < 204 || to.deadline > 232 {
			t.Fatalf("backoff %d: attempts %d deadline %d", i, to.attempts, to.deadline)
		}
	}
	to.stop()
	if to.ticking() || to.fired(1<<40) {
		t.Fatal("stopped timeout still fires")
	}
}
