#!/bin/sh
# Runs every `func FuzzX` target in the tree for $1 (default 10s) each.
set -eu
t="${1:-10s}"
for f in $(git ls-files '*_test.go'); do
	pkg="./$(dirname "$f")"
	for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "fuzz: $pkg $fn ($t)"
		go test -run="^\$" -fuzz="^${fn}\$" -fuzztime="$t" -fuzzminimizetime=5s "$pkg"
	done
done
