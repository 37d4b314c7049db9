#!/usr/bin/env bash
# make demo: two local nodes on loopback with temporary data directories.
# Node A creates a private database and writes to it; node B, empty, asks A
# for access, A's admin approves, and B syncs the database from A; both then
# show the same tips. Both nodes stop at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/eidsync
go build -o "$bin" ./cmd/eidsync

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# start NAME: serve a node on an OS-chosen loopback port, print its address.
start() {
	local dir="$work/$1"
	mkdir -p "$dir"
	"$bin" --data "$dir" --json --log-level warn serve --http 127.0.0.1:0 >"$dir.out" 2>"$dir.log" &
	pids+=($!)
	for _ in $(seq 100); do
		if [ -s "$dir.out" ]; then
			sed -E 's/.*"serving":\["([^"]+)".*/\1/' "$dir.out"
			return
		fi
		sleep 0.1
	done
	echo "node $1 did not start:" >&2
	cat "$dir.log" >&2
	exit 1
}

A=$(start a)
B=$(start b)
echo "== node A serves on $A, node B on $B"

tree=$("$bin" --data "$work/a" db create demo-notes)
echo "== A created database $tree"
"$bin" --data "$work/a" db put --tree "$tree" --key greeting --value "hello from A"
"$bin" --data "$work/a" db put --tree "$tree" --store log --value "line" --count 25

echo "== B asks A for read access (the database is private: A holds the only key)"
if out=$("$bin" --data "$work/b" sync --peer "$A" --tree "$tree" --request-access read --key-name demo-b 2>&1); then
	echo "== B was let in without approval, which must not happen" >&2
	exit 1
fi
echo "$out"
request=$("$bin" --data "$work/a" --json requests list | sed -E 's/.*"id":"([0-9a-f]+)".*/\1/')
echo "== A's pending requests:"; "$bin" --data "$work/a" requests list
"$bin" --data "$work/a" requests approve "$request"

echo "== B syncs the database from A"
"$bin" --data "$work/b" sync --peer "$A" --tree "$tree"
echo "== B reads: greeting = $("$bin" --data "$work/b" db get --tree "$tree" --key greeting)"

echo "== A:"; "$bin" --data "$work/a" db list
echo "== B:"; "$bin" --data "$work/b" db list
tips_a=$("$bin" --data "$work/a" --json db list)
tips_b=$("$bin" --data "$work/b" --json db list)
if [ "$tips_a" = "$tips_b" ]; then
	echo "== same entries and tips on both nodes: in sync"
else
	echo "== the nodes differ" >&2
	exit 1
fi
