// Package caps names Linux capabilities and holds libvirt's default drop set.
// It is OS-independent: the numbers are the kernel ABI.
package caps

import (
	"sort"
	"strings"
)

// names maps CAP_* names to numbers (include/uapi/linux/capability.h).
var names = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
	"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
	"CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18,
	"CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28,
	"CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32,
	"CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36,
	"CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
}

// ByName returns the number of a capability; the name may be "CAP_X", "x" or "X".
func ByName(name string) (int, bool) {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	c, ok := names[n]
	return c, ok
}

// Canonical returns the CAP_X form of a name, or "" if unknown.
func Canonical(name string) string {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	if _, ok := names[n]; !ok {
		return ""
	}
	return n
}

// All returns every known capability name, sorted by number.
func All() []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return names[out[i]] < names[out[j]] })
	return out
}

// LibvirtDefaultDrop is what libvirt's LXC driver drops with policy='default'
// (lxc_container.c lxcContainerDropCapabilities): module loading, the host
// clock, audit and MAC administration, and mknod. CAP_SYS_BOOT is kept
// because reboot(2) in a pid namespace only ends that namespace's init
// (Linux >= 3.4), which is how a guest reboots itself.
var LibvirtDefaultDrop = []string{
	"CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_AUDIT_CONTROL", "CAP_MAC_ADMIN", "CAP_MKNOD",
	// Beyond libvirt: raw I/O on host devices and the kernel's audit and
	// syslog controls have no per-guest meaning and only reach the host.
	"CAP_SYS_RAWIO", "CAP_MAC_OVERRIDE", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
}
