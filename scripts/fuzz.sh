#!/bin/sh
# Runs every `func FuzzX` target in the tree for $1 (default 10s) each.
#
# Under load, Go's fuzzer sometimes ends a time-bounded run with "context
# deadline exceeded" although it found nothing (the deadline hits a worker
# mid-exchange). A real finding always says "Failing input written to ...".
# Such a run is repeated once with an execution count instead of a
# deadline, so a loaded CI machine does not fail on a non-finding.
set -eu
t="${1:-10s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for f in $(git ls-files '*_test.go'); do
	pkg="./$(dirname "$f")"
	for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "fuzz: $pkg $fn ($t)"
		if go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$t" -fuzzminimizetime=5s "$pkg" >"$log" 2>&1; then
			tail -n 1 "$log"
			continue
		fi
		cat "$log"
		if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz: $fn: deadline hit without a finding; running 20000 executions instead"
			go test -run='^$' -fuzz="^${fn}\$" -fuzztime=20000x -fuzzminimizetime=5s "$pkg"
			continue
		fi
		exit 1
	done
done
