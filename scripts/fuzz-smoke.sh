#!/usr/bin/env bash
# make fuzz-smoke: every fuzz target for FUZZTIME each. Go 1.26's fuzz
# coordinator can fail a target with a bare "context deadline exceeded" at
# the -fuzztime boundary when a worker is mid-input (golang/go#75804, fixed
# in Go 1.27): no input is written and nothing failed. Such a run is
# retried once; any other failure, and any run that wrote a failing input
# to testdata/fuzz/, fails the job.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}
# flake reads a failed run's output: the deadline race, and nothing else.
flake() {
	local out
	out=$(cat)
	grep -q 'context deadline exceeded' <<<"$out" &&
		! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' <<<"$out"
}

for t in $($GO test ./fuzz -list '^Fuzz' | grep '^Fuzz'); do
	for attempt in 1 2; do
		echo "fuzz $t for $FUZZTIME"
		if out=$($GO test -tags invariants ./fuzz -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" 2>&1); then
			echo "$out" | tail -2
			break
		fi
		echo "$out"
		if [ "$attempt" = 1 ] && flake <<<"$out"; then
			echo "fuzz $t: the fuzztime deadline race of golang/go#75804, no failing input: once more"
			continue
		fi
		exit 1
	done
done
