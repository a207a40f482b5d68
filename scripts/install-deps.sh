#!/bin/sh
# Installs the Debian packages that vmlite's build, tests and demo need.
# Idempotent: packages already present are left alone, so a warm machine pays nothing.
set -eu
pkgs="busybox-static debootstrap libxml2-utils iproute2 nftables dnsmasq-base util-linux procps libvirt-clients python3-libvirt virtinst openssh-server openssh-client openssl netcat-openbsd virt-manager xvfb xauth e2fsprogs squashfs-tools erofs-utils qemu-utils docker-registry zstd xz-utils qemu-system-common"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
