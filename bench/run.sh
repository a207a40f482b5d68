#!/bin/sh
# make bench: builds the harness and runs vmlite against LXC, systemd-nspawn
# and libvirt-lxc side by side (see bench/README.md). Extra arguments go to
# vmbench, e.g. ./bench/run.sh -runs 5 -sections startstop.
# Bounded: vmbench skips sections past -budget (default 45m) and this
# script stops it after 60 minutes whatever happens (it cleans up on TERM).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (namespaces, cgroups, the reference managers)" >&2
	exit 1
fi
go build -o bin/vmbench ./bench/cmd/vmbench
exec timeout --signal=TERM --kill-after=60 3600 bin/vmbench -vmlite bin/vmlite "$@"
