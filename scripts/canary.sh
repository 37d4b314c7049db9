#!/usr/bin/env bash
# make sim-canary: the planted-mutant canaries of SIMULATION.md G8, after
# TigerBeetle's canary fuzzer. Each kernel/**/canary_<name>.go plants one
# known bug behind the build tag canary_<name>; this runs the simulator on
# each mutant until its first failing seed (TestSim -sim.stopfirst), checks
# that the unmutated kernel passes that seed (so the mutant, not an old bug,
# was caught), and prints which checker caught it after how many seeds.
# It exits non-zero if any mutant survives SEEDS seeds: then the simulator
# cannot see that class of bug, and a checker needs strengthening.
#
#   SEEDS=1000 PROFILE=small TAGS=invariants scripts/canary.sh [name ...]
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
SEEDS=${SEEDS:-1000}
PROFILE=${PROFILE:-small}
TAGS=${TAGS-invariants}

# The mutants are found from their files, so a new one needs no edit here.
if [ $# -gt 0 ]; then
	names=("$@")
else
	mapfile -t names < <(find kernel -name 'canary_*.go' ! -name '*_off.go' ! -name '*_test.go' |
		sed -E 's|.*/canary_(.*)\.go|\1|' | sort)
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "canary: no kernel/**/canary_<name>.go found" >&2
	exit 2
fi

sim() { $GO test ./sim -run '^TestSim$' -count=1 -v -sim.profile="$PROFILE" "$@"; }

echo "canaries: ${#names[@]} mutants, up to $SEEDS seeds each, profile $PROFILE, tags \"$TAGS\""
printf '%-28s %-7s %6s %15s %-14s %s\n' canary caught seed seeds-to-catch checker "wall s"
bad=0
caught=()
for name in "${names[@]}"; do
	start=$SECONDS
	out=$(sim -tags "$TAGS canary_$name" -sim.seeds="$SEEDS" -sim.stopfirst 2>&1 || true)
	line=$(grep -E '^canary: (caught|survived)' <<<"$out" | tail -1 || true)
	wall=$((SECONDS - start))
	case "$line" in
	"canary: caught "*)
		seed=$(sed -E 's/.* seed=([0-9]+).*/\1/' <<<"$line")
		n=$(sed -E 's/.* seeds=([0-9]+).*/\1/' <<<"$line")
		checker=$(sed -E 's/.* checker=([^ ]+).*/\1/' <<<"$line")
		if ! sim -tags "$TAGS" -sim.seed="$seed" >/dev/null 2>&1; then
			printf '%-28s %-7s %6s %15s %-14s %s\n' "$name" "no" "$seed" "-" "$checker" "$wall"
			echo "  the unmutated kernel fails seed $seed too: not a catch (make sim-seed SEED=$seed)" >&2
			bad=1
			continue
		fi
		printf '%-28s %-7s %6s %15s %-14s %s\n' "$name" "yes" "$seed" "$n" "$checker" "$wall"
		caught+=("$n")
		;;
	"canary: survived "*)
		printf '%-28s %-7s %6s %15s %-14s %s\n' "$name" "NO" "-" ">$SEEDS" "-" "$wall"
		bad=1
		;;
	*)
		printf '%-28s %-7s %6s %15s %-14s %s\n' "$name" "ERROR" "-" "-" "-" "$wall"
		echo "$out" | tail -20 >&2
		bad=1
		;;
	esac
done

# The median counts a survivor as more than SEEDS.
all=("${caught[@]}")
for ((i = ${#caught[@]}; i < ${#names[@]}; i++)); do all+=($((SEEDS + 1))); done
mapfile -t sorted < <(printf '%s\n' "${all[@]}" | sort -n)
k=${#sorted[@]}
if ((k % 2)); then
	median=${sorted[k / 2]}
else
	median=$(((sorted[k / 2 - 1] + sorted[k / 2]) / 2))
fi
goal="met"
if ((bad || median > 100)); then goal="NOT met"; fi
echo "caught ${#caught[@]} of ${#names[@]}; median seeds-to-catch $median (G8: each within $SEEDS, median <= 100: $goal)"
exit $bad
