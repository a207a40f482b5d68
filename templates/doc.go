// Package templates builds root filesystems that vmlite guests boot, and the
// domain XML that goes with them (`vmlite template NAME DIR`).
//
// Each template's files live in a directory of this package as real files
// (busybox/, debian/), embedded with go:embed and copied into the tree
// under the same relative paths. A file that starts with "#!" is installed
// executable, etc/shadow mode 0600, everything else 0644.
//
// Trees are built owned by the user running vmlite (root, in practice):
// vmlite attaches a root filesystem through an idmapped mount when the
// domain XML has an <idmap>, so nothing is chowned here.
package templates
