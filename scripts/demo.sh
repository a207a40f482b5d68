#!/bin/sh
# make demo: boot a busybox system container and show what vmlite does.
# Uses vmlite's normal state paths (or VMLITE_ROOT), a rootfs under
# /var/tmp/vmlite-demo, and leaves no guest running.
set -eu
cd "$(dirname "$0")/.."
vm=./bin/vmlite
name=vmlite-demo
dir=/var/tmp/vmlite-demo
xml=$dir/$name.xml

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo: vmlite creates namespaces, cgroups and mounts: run it as root" >&2
	exit 1
fi
$vm destroy "$name" >/dev/null 2>&1 || true

step "vmlite template busybox $dir/rootfs --name $name   (a 2 MB root filesystem and its domain XML)"
rm -rf "$dir/rootfs"
mkdir -p "$dir"
$vm template busybox "$dir/rootfs" --name "$name" >"$xml"
cat "$xml"

step "vmlite start $xml"
$vm start "$xml"

step "vmlite logs $name   (the console so far: busybox init's boot)"
i=0
until $vm logs "$name" 2>/dev/null | grep -q "BOOTED"; do
	i=$((i + 1)); [ $i -gt 500 ] && break
	sleep 0.01
done
$vm logs "$name"
echo

step "vmlite exec $name -- hostname; id; ps   (inside the guest's namespaces)"
$vm exec "$name" -- sh -c 'echo "hostname: $(hostname)"; id; ps'

step "vmlite status $name"
$vm status "$name"

step "vmlite list"
$vm list

step "vmlite stop $name   (graceful: busybox init gets SIGUSR2 and runs its shutdown)"
$vm stop "$name"
$vm logs "$name" | tail -n 5

cat <<MSG

Try it yourself:
  $vm start $xml
  $vm console $name        # Ctrl-] detaches; several clients may attach at once
  $vm stop $name
MSG
