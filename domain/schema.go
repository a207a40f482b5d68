package domain

import (
	"sync"

	"vmlite/plan"
)

// Namespaces vmlite knows.
const (
	// VmliteNS is the namespace of vmlite's own settings in <metadata>.
	VmliteNS = "urn:vmlite:domain:1"
	// lxcNS is libvirt's LXC namespace (<lxc:namespace>).
	lxcNS = "http://libvirt.org/schemas/domain/lxc/1.0"
)

const (
	lxcIgnores  = "a virtual-machine setting: libvirt's LXC driver accepts it and does not use it"
	lxcNoDevice = "a virtual-machine device: libvirt's LXC driver accepts it and does not use it"
	liveOnly    = "live-only information that libvirt writes; ignored on input"
	aliasDoc    = "device alias: kept in the definition, not used (vmlite names consoles console0, console1, ...)"
	// vmTimer is a virtual machine's clock device: a container has none.
	vmTimer = "a virtual-machine timer: ignored; with <clock offset='localtime'> it is refused (present='no' aside), as libvirt's LXC driver refuses it"
)

// alias is accepted on devices: libvirt writes it into live XML.
func alias() *elemSpec {
	return elem("alias", Warned, aliasDoc, attrs(attr("name", Warned, "alias name", nil)))
}

// size is a memory size element: a number and a unit (default KiB).
func size(name string, class Class, doc string) *elemSpec {
	return elem(name, class, doc, text(isUint), attrs(attr("unit", Applied, "unit of the value; default KiB", isUnit)))
}

// lifecycle is <on_poweroff>, <on_reboot> or <on_crash>.
func lifecycle(name, event string) *elemSpec {
	return elem(name, Applied, "what the supervisor does when "+event+" (libvirt parses but ignores it; vmlite honours it)", textValues(
		val("destroy", Applied, "the guest stops and is cleaned up"),
		val("restart", Applied, "the guest is started again with the same definition"),
		val("preserve", Applied, "the guest stops; its final state (crashed, with details) is kept for inspection"),
		rejectedVal("rename-restart", "renaming a guest on restart", "use restart"),
		rejectedVal("coredump-destroy", "guest memory core dumps (a VM feature)", "use destroy"),
		rejectedVal("coredump-restart", "guest memory core dumps (a VM feature)", "use restart"),
	))
}

func ipElem(doc string) *elemSpec {
	return elem("ip", Applied, doc, multi(), attrs(
		reqAttr("address", "the address", isIP),
		enumAttr("family", "must match the address", false, val("ipv4", Applied, ""), val("ipv6", Applied, "")),
		attr("prefix", Applied, "prefix length (default 24 for IPv4, 64 for IPv6)", uintRange(1, 128)),
		rejectedAttr("peer", "point-to-point peer addresses", "remove peer= and add a <route> to the peer instead"),
	))
}

func routeElem(doc string) *elemSpec {
	return elem("route", Applied, doc, multi(), attrs(
		enumAttr("family", "must match the addresses", false, val("ipv4", Applied, ""), val("ipv6", Applied, "")),
		attr("address", Applied, "destination network; 0.0.0.0 or :: (or none) for the default route", isIP),
		attr("prefix", Applied, "destination prefix length", uintRange(0, 128)),
		reqAttr("gateway", "next hop", isIP),
		rejectedAttr("netmask", "route netmasks", "use prefix='N' instead"),
		rejectedAttr("metric", "route metrics", "remove metric="),
	))
}

// capabilityNames are the capabilities libvirt knows in
// <features><capabilities> (virDomainProcessCapsFeature).
var capabilityNames = []string{
	"audit_control", "audit_write", "block_suspend", "chown", "dac_override", "dac_read_search",
	"fowner", "fsetid", "ipc_lock", "ipc_owner", "kill", "lease", "linux_immutable", "mac_admin",
	"mac_override", "mknod", "net_admin", "net_bind_service", "net_broadcast", "net_raw", "setgid",
	"setfcap", "setpcap", "setuid", "sys_admin", "sys_boot", "sys_chroot", "sys_module", "sys_nice",
	"sys_pacct", "sys_ptrace", "sys_rawio", "sys_resource", "sys_time", "sys_tty_config", "syslog",
	"wake_alarm",
}

func capabilityElems() []*elemSpec {
	out := make([]*elemSpec, len(capabilityNames))
	for i, c := range capabilityNames {
		out[i] = elem(c, Applied, "keep (on) or drop (off) CAP_"+upper(c), attrs(
			enumAttr("state", "on or off; on when left out, as libvirt reads it", false, val("on", Applied, ""), val("off", Applied, ""))))
	}
	return out
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// rejectedAll builds rejected elements that share a reason.
func rejectedAll(doc, hint string, names ...string) []*elemSpec {
	out := make([]*elemSpec, len(names))
	for i, n := range names {
		out[i] = rejectedElem(n, doc, hint)
	}
	return out
}

// vmliteConfig is the <vmlite:config> element inside <metadata>.
func vmliteConfig() *elemSpec {
	v := func(e *elemSpec) *elemSpec { e.ns = VmliteNS; return e }
	return v(elem("config", Applied, "vmlite's own settings (namespace "+VmliteNS+")", children(
		v(elem("hostname", Applied, "the guest's host name instead of the one derived from <name>", text(isHostname))),
		v(elem("pids", Applied, "pids cgroup limit", attrs(&attrSpec{name: "max", class: Applied, doc: "maximum number of tasks", required: true, check: uintRange(1, 1<<22)}))),
		v(elem("stop", Applied, "how vmlite stop asks the guest's init to shut down", attrs(
			attr("signal", Applied, "signal sent to init instead of the one chosen for the detected init system", isSignal),
			attr("timeout", Applied, "default time a graceful stop may take before everything is killed (Go duration)", isDuration),
		))),
		v(elem("idmap", Applied, "user namespace options", attrs(
			attr("allowOverlap", Applied, "yes: allow this guest's idmap ranges to overlap another guest's", isYesNo),
			enumAttr("shift", "how the guest's files get their owners: idmapped mounts where the filesystem supports them, else a recorded chown of the tree", false,
				val("auto", Applied, "idmapped mounts, the chown shift as the fallback (the default)"), val("chown", Applied, "always the chown shift")),
		))),
		v(elem("procfs", Applied, "the guest's /proc/meminfo, cpuinfo, stat, uptime, loadavg, swaps, diskstats and /sys/devices/system/cpu/online, served by vmlite's host-wide /proc server from the guest's cgroup (docs/limits.md)", attrs(
			enumAttr("state", "whether the guest sees its own limits in those files", true,
				val("on", Applied, "its memory limit, CPUs, CPU time, uptime and I/O (the default)"), val("off", Applied, "the host's own files, as without vmlite's server")),
		))),
	)))
}

// schema is the class table of the whole document: every element and
// attribute vmlite knows, with its class. docs/xml-reference.md is generated
// from it (see reference.go), so documentation and code cannot drift.
// It is built on first use: every vmlite process (each guest's supervisor
// and __init too) runs the package initialisers, and only the CLI parses XML.
var schema = sync.OnceValue(buildSchema)

func buildSchema() *elemSpec {
	devices := elem("devices", Applied, "the guest's devices", children(
		elem("emulator", Warned, "vmlite has no emulator binary; the path is kept and ignored", text(anyText)),
		elem("filesystem", Applied, "a filesystem in the guest", multi(),
			requires("target", "a <filesystem> needs a <target dir='...'/>"),
			requires("source", "a <filesystem> needs a <source>"),
			attrs(
				enumAttr("type", "kind of filesystem; default mount", false,
					val("mount", Applied, "bind-mounts the host directory source/@dir; target dir='/' makes it the guest's root"),
					val("bind", Applied, "binds the guest path source/@dir onto target/@dir"),
					val("ram", Applied, "a tmpfs limited to source/@usage (units, default KiB)"),
					val("block", Applied, "mounts the host block device source/@dev (filesystem type probed)"),
					val("file", Applied, "mounts the image file source/@file through a loop device (driver type='loop', raw; the default) or qemu-nbd (driver type='nbd' with a format; qemu-storage-daemon where the host has no nbd); filesystem type probed; target dir='/' makes it the guest's root"),
					val("template", Applied, "the guest's root made from the image source/@name (vmlite image import/pull): overlayfs over the image's shared read-only layers and a copy-on-write layer of the guest's own; target dir='/' only"),
					rejectedVal("volume", "storage pool volumes", "use type='mount' or type='block'"),
				),
				enumAttr("accessmode", "virtio-9p access mode; libvirt's LXC driver ignores it (virt-install always writes mapped)", false,
					val("passthrough", Applied, "files keep their owners (the default)"),
					warnedVal("mapped", "a virtio-9p access mode; libvirt's LXC driver ignores it: files keep their owners"),
					warnedVal("squash", "a virtio-9p access mode; libvirt's LXC driver ignores it: files keep their owners"),
				),
				warnedAttr("model", "virtio-9p model; libvirt's LXC driver ignores it"),
				warnedAttr("multidevs", "virtio-9p option; libvirt's LXC driver ignores it"),
				warnedAttr("fmode", "virtio-9p option; libvirt's LXC driver ignores it"),
				warnedAttr("dmode", "virtio-9p option; libvirt's LXC driver ignores it"),
			),
			children(
				elem("source", Applied, "what to mount; the attribute depends on type", attrs(
					attr("dir", Applied, "host directory (mount) or guest directory (bind)", isCleanAbsPath),
					attr("dev", Applied, "host block device (block)", isAbsFilePath),
					attr("usage", Applied, "tmpfs size (ram)", isUint),
					attr("units", Applied, "unit of usage; default KiB", isUnit),
					attr("file", Applied, "host image file (file)", isAbsFilePath),
					attr("name", Applied, "image name or id in vmlite's image store (template)", nonEmpty),
					rejectedAttr("socket", "virtiofs sockets", "use type='mount'"),
				)),
				elem("target", Applied, "where it appears in the guest", attrs(reqAttr("dir", "absolute guest path", isCleanAbsPath))),
				elem("readonly", Applied, "mount it read-only"),
				alias(),
			),
			children(ignoredAll("a virtio-9p/virtiofs or VM device setting: libvirt's LXC driver ignores it",
				"binary", "space_hard_limit", "space_soft_limit", "boot", "acpi", "address")...),
			children(rejectedElem("idmap", "per-filesystem id maps (virtiofs)", "map ids for the whole guest with <domain><idmap>")),
			children(elem("driver", Applied, "how an image file (type='file') is attached", attrs(
				enumAttr("type", "image driver", false,
					val("path", Warned, "the default driver of a directory: nothing to attach"),
					val("handle", Warned, "the default driver of a directory: nothing to attach"),
					val("loop", Applied, "a loop device, attached by the supervisor with autoclear: it goes with the guest's mount (raw images only)"),
					val("nbd", Applied, "qemu-nbd (Debian qemu-utils) on a free /dev/nbdN, disconnected when the guest stops; where the host has no nbd driver (or no free device), qemu-storage-daemon (Debian qemu-system-common) exports it over FUSE to a loop device, stopped when the guest stops; needs format="),
					rejectedVal("virtiofs", "virtiofs (a VM feature)", "use type='mount'"),
				),
				enumAttr("format", "image format: raw for loop; any qemu-nbd format for nbd (required there, as libvirt)", false,
					val("raw", Applied, ""), val("qcow2", Applied, ""), val("qcow", Applied, ""), val("vmdk", Applied, ""),
					val("vdi", Applied, ""), val("vhdx", Applied, ""), val("vpc", Applied, ""), val("qed", Applied, ""),
					val("bochs", Applied, ""), val("cloop", Applied, ""), val("dmg", Applied, ""), val("parallels", Applied, ""),
				),
				warnedAttr("wrpolicy", "a virtio-9p write policy; libvirt's LXC driver ignores it"),
				warnedAttr("name", "a virtio-9p driver name; libvirt's LXC driver ignores it"),
				warnedAttr("queue", "a virtiofs queue size; libvirt's LXC driver ignores it"),
			))),
		),
		elem("interface", Applied, "a network interface (veth pair or macvlan); configured by vmlite before init runs", multi(),
			attrs(
				enumAttr("type", "kind of interface", true,
					val("network", Applied, "veth pair whose host end joins the bridge of the vmlite network source/@network"),
					val("bridge", Applied, "veth pair whose host end joins the host bridge source/@bridge"),
					val("ethernet", Applied, "veth pair with no bridge; source/ip sets host-side addresses"),
					val("direct", Applied, "macvlan on the host device source/@dev (mode vepa, bridge, private or passthrough)"),
					rejectedVal("user", "user-mode (slirp/passt) networking", "use type='network' or type='bridge'"),
					rejectedVal("vhostuser", "vhost-user interfaces (a VM feature)", "use type='bridge'"),
					rejectedVal("hostdev", "PCI network passthrough", "use type='direct'"),
					rejectedVal("server", "socket tunnels (a VM feature)", "use type='bridge'"),
					rejectedVal("client", "socket tunnels (a VM feature)", "use type='bridge'"),
					rejectedVal("mcast", "socket tunnels (a VM feature)", "use type='bridge'"),
					rejectedVal("udp", "socket tunnels (a VM feature)", "use type='bridge'"),
					rejectedVal("vdpa", "vDPA devices", "use type='direct'"),
					rejectedVal("null", "null interfaces", "remove the interface"),
					rejectedVal("vds", "VMware distributed switches", "use type='bridge'"),
					rejectedVal("internal", "internal networks", "use type='network'"),
				),
				rejectedAttr("managed", "managed tap devices", "remove managed="),
				rejectedAttr("trustGuestRxFilters", "guest receive filters (a VM feature)", "remove trustGuestRxFilters="),
			),
			children(
				elem("mac", Applied, "the guest side's MAC address (default: derived from the guest's uuid and interface index)", attrs(
					reqAttr("address", "unicast MAC address", isMAC),
					rejectedAttr("type", "MAC address types", "remove type="),
					rejectedAttr("check", "MAC address checks", "remove check="),
				)),
				elem("source", Applied, "where the interface connects; the attribute depends on type", attrs(
					attr("network", Applied, "vmlite network name (network)", nonEmpty),
					attr("bridge", Applied, "host bridge (bridge); with type='network', live-only information (warning)", isIfName),
					attr("dev", Applied, "host device for the macvlan (direct)", isIfName),
					enumAttr("mode", "macvlan mode (direct); default vepa", false,
						val("vepa", Applied, ""), val("bridge", Applied, ""), val("private", Applied, ""), val("passthrough", Applied, "")),
					rejectedAttr("portgroup", "network port groups", "remove portgroup="),
					warnedAttr("portid", liveOnly),
				), children(
					ipElem("host-side address of a type='ethernet' interface"),
					rejectedElem("route", "host-side routes", "add the route on the host yourself"),
				)),
				elem("target", Applied, "name of the host side of the veth pair (default: generated from the guest name)", attrs(
					reqAttr("dev", "host interface name", isIfName),
					rejectedAttr("managed", "managed tap devices", "remove managed="),
				)),
				elem("guest", Applied, "name of the interface inside the guest (default ethN)", attrs(
					attr("dev", Applied, "guest interface name", isGuestIfName),
					warnedAttr("actual", liveOnly),
				)),
				ipElem("guest address, set before init runs"),
				routeElem("guest route, set before init runs"),
				elem("link", Applied, "link state of the guest side", attrs(enumAttr("state", "up or down", true,
					val("up", Applied, "brought up before init runs (also the case when it has addresses)"), val("down", Applied, "left down unless it has addresses (libvirt brings an addressed link up whatever its state)")))),
				elem("mtu", Applied, "MTU of both sides", attrs(reqAttr("size", "bytes", uintRange(plan.MinMTU, plan.MaxMTU)))),
				alias(),
			),
			children(rejectedElem("bandwidth", "traffic shaping", "shape traffic on the host side with tc"),
				rejectedElem("filterref", "libvirt network filters", "use host firewall rules"),
				rejectedElem("virtualport", "Open vSwitch and 802.1Qbg/bh ports", "use a Linux bridge"),
				rejectedElem("vlan", "VLAN tagging", "use a VLAN device on the host as the bridge port"),
				rejectedElem("portForward", "port forwarding", "use host firewall rules"),
			),
			children(ignoredAll("a virtual-machine NIC setting: libvirt's LXC driver accepts it and does not use it",
				"model", "driver", "backend", "coalesce", "tune", "boot", "rom", "acpi", "address")...),
			children(rejectedAll("interface scripts, teaming and backend domains", "remove it; set the host side up with a bridge or type='ethernet'",
				"script", "downscript", "port", "teaming", "backenddomain")...),
		),
		elem("hostdev", Applied, "a host device node passed to the guest", multi(),
			attrs(
				enumAttr("mode", "passthrough mode", true,
					val("capabilities", Applied, "a device node (storage: block device, misc: char device)"),
					val("subsystem", Applied, "a host device by its bus: type='usb' only (its node /dev/bus/usb/BBB/DDD, as libvirt's LXC driver passes it); PCI, SCSI and mediated devices are rejected"),
				),
				enumAttr("type", "device kind", true,
					val("storage", Applied, "block device node source/block"),
					val("misc", Applied, "character device node source/char"),
					val("net", Applied, "the host network interface source/interface, moved into the guest with its <ip> and <route> before init runs, and back to the host at every stop (mode='capabilities')"),
					val("usb", Applied, "a USB device (mode='subsystem'), found in /sys/bus/usb/devices by source/vendor and source/product or by source/address: its node /dev/bus/usb/BBB/DDD in the guest, allowed in its device cgroup, as libvirt's LXC driver does"),
					rejectedVal("pci", "PCI passthrough", "remove it"),
					rejectedVal("scsi", "SCSI passthrough", "pass the device node with type='storage'"),
					rejectedVal("scsi_host", "SCSI host passthrough", "remove it"),
					rejectedVal("mdev", "mediated devices", "remove it"),
				),
				rejectedAttr("managed", "managed PCI devices", "remove managed="),
			),
			children(
				elem("source", Applied, "the device", children(
					elem("block", Applied, "host block device path (type='storage'); it appears at the same path in the guest", text(isAbsFilePath)),
					elem("char", Applied, "host character device path (type='misc'); it appears at the same path in the guest", text(isAbsFilePath)),
					elem("interface", Applied, "host network interface (type='net'); it keeps its name in the guest", text(isIfName)),
					elem("vendor", Applied, "USB vendor id (type='usb'), with source/product", attrs(reqAttr("id", "hex vendor id, e.g. 0x1d6b", isUSBID))),
					elem("product", Applied, "USB product id (type='usb'), with source/vendor", attrs(reqAttr("id", "hex product id, e.g. 0x0002", isUSBID))),
					elem("address", Applied, "USB bus and device number (type='usb'): the device /dev/bus/usb/BBB/DDD", attrs(
						reqAttr("bus", "bus number (decimal)", uintRange(0, 999)),
						reqAttr("device", "device number on the bus (decimal)", uintRange(0, 999)),
						warnedAttr("port", "a USB port of a virtual machine's controller: libvirt's LXC driver does not use it"),
					)),
				), attrs(
					warnedAttr("startupPolicy", "what a VM does when the device is missing: libvirt's LXC driver ignores it; a missing device fails the start"),
					warnedAttr("guestReset", "a virtual-machine setting: libvirt's LXC driver ignores it"),
				)),
				ipElem("guest address of a type='net' hostdev, set before init runs (it then comes up)"),
				elem("route", Applied, "guest route through a type='net' hostdev", multi(), attrs(
					enumAttr("family", "must match the addresses", false, val("ipv4", Applied, ""), val("ipv6", Applied, "")),
					attr("address", Applied, "destination host (a /32 or /128 route); none for the default route", isIP),
					reqAttr("gateway", "next hop", isIP),
					rejectedAttr("prefix", "route prefixes on a hostdev (libvirtxml cannot carry them)", "route to a host address, or use the default route"),
				)),
				alias(),
			),
			children(ignoredAll(lxcIgnores, "boot", "rom", "acpi", "address")...),
		),
		elem("console", Applied, "a pty console: port 0 is /dev/console, port N is /dev/ttyN", multi(),
			attrs(
				enumAttr("type", "console kind; default pty, as libvirt", false,
					val("pty", Applied, "a pty multiplexed by the supervisor (vmlite console NAME --devname consoleN)"),
					rejectedVal("file", "consoles other than pty", "use type='pty'; the console is logged anyway"),
					rejectedVal("null", "consoles other than pty", "use type='pty'"),
					rejectedVal("vc", "consoles other than pty", "use type='pty'"),
					rejectedVal("stdio", "consoles other than pty", "use type='pty'"),
					rejectedVal("pipe", "consoles other than pty", "use type='pty'"),
					rejectedVal("tcp", "consoles other than pty", "use type='pty'"),
					rejectedVal("udp", "consoles other than pty", "use type='pty'"),
					rejectedVal("unix", "consoles other than pty", "use type='pty'"),
					rejectedVal("dev", "consoles other than pty", "use type='pty'"),
				),
				warnedAttr("tty", liveOnly),
			),
			children(
				elem("target", Applied, "console target", attrs(
					enumAttr("type", "target kind; default lxc", false, val("lxc", Applied, "the only kind for containers"),
						warnedVal("serial", "a VM console target: libvirt's LXC driver makes it an lxc console, and so does vmlite"),
						warnedVal("virtio", "a VM console target: libvirt's LXC driver makes it an lxc console, and so does vmlite")),
					attr("port", Applied, "console number; unique", uintRange(0, 63)),
				)),
				elem("source", Warned, liveOnly, attrs(warnedAttr("path", liveOnly))),
				alias(),
			),
			children(elem("log", Applied, "the console is also written to this host file (capped and rotated as vmlite's own log, mode 0600); Nova reads it", attrs(
				reqAttr("file", "absolute host path", isAbsFilePath),
				enumAttr("append", "keep what the file holds (on) or start it afresh (off, the default)", false, val("on", Applied, ""), val("off", Applied, "")),
			))),
			children(ignoredAll(lxcIgnores, "protocol", "acpi", "address")...),
		),
	), children(
		elem("disk", Applied, "a host block device as a device node in the guest (/dev/TARGET), with its cgroup device rule, as libvirt's LXC driver does", multi(),
			requires("source", "a <disk> needs <source dev='/dev/...'/>"),
			requires("target", "a <disk> needs <target dev='sdX'/>: its name in the guest's /dev"),
			attrs(
				enumAttr("type", "disk kind", true,
					val("block", Applied, "a host block device source/@dev"),
					rejectedVal("file", "disks other than block devices (libvirt's LXC driver refuses them too)", "use <filesystem type='file'> to mount an image, or a block device"),
					rejectedVal("network", "disks other than block devices (libvirt's LXC driver refuses them too)", "use a block device"),
					rejectedVal("volume", "disks other than block devices (libvirt's LXC driver refuses them too)", "use a block device"),
					rejectedVal("dir", "disks other than block devices (libvirt's LXC driver refuses them too)", "use <filesystem type='mount'>"),
					rejectedVal("nvme", "disks other than block devices (libvirt's LXC driver refuses them too)", "use a block device"),
					rejectedVal("vhostuser", "disks other than block devices (libvirt's LXC driver refuses them too)", "use a block device"),
				),
				enumAttr("device", "device kind; default disk", false,
					val("disk", Applied, "a disk"), val("lun", Applied, "a disk (the node is the same)"), val("cdrom", Applied, "a CD-ROM drive's node"),
					rejectedVal("floppy", "floppy drives", "use device='disk'")),
				warnedAttr("snapshot", "disk snapshots: libvirt's LXC driver ignores them"),
				warnedAttr("model", "a virtual-machine disk model: libvirt's LXC driver ignores it"),
				warnedAttr("rawio", "a virtual-machine setting: libvirt's LXC driver ignores it"),
				warnedAttr("sgio", "a virtual-machine setting: libvirt's LXC driver ignores it"),
			),
			children(
				elem("source", Applied, "the host block device", attrs(reqAttr("dev", "host block device path", isAbsFilePath))),
				elem("target", Applied, "the node's name in the guest's /dev", attrs(
					reqAttr("dev", "device name, e.g. sdb (it appears as /dev/sdb)", isIfName),
					warnedAttr("bus", "a virtual-machine bus: libvirt's LXC driver ignores it"),
					warnedAttr("tray", "a virtual-machine setting: libvirt's LXC driver ignores it"),
					warnedAttr("removable", "a virtual-machine setting: libvirt's LXC driver ignores it"),
					warnedAttr("rotation_rate", "a virtual-machine setting: libvirt's LXC driver ignores it"),
				)),
				elem("readonly", Applied, "read-only: the device cgroup lets the guest read the disk, not write it (as libvirt's LXC driver does)"),
				alias(),
			),
			children(ignoredAll("a virtual-machine disk setting: libvirt's LXC driver accepts it and does not use it",
				"driver", "serial", "wwn", "vendor", "product", "boot", "address", "iotune", "blockio", "geometry",
				"shareable", "transient", "encryption", "auth", "backingStore", "mirror", "throttlefilters", "acpi")...),
		),
	), children(ignoredAll(lxcNoDevice,
		"controller", "lease", "graphics", "video", "serial", "parallel", "channel", "sound", "watchdog",
		"memballoon", "rng", "tpm", "input", "hub", "redirdev", "redirfilter", "smartcard", "panic",
		"shmem", "memory", "iommu", "vsock", "audio", "crypto", "pstore", "nvram")...))

	root := elem("domain", Applied, "the guest",
		requires("name", "a domain needs a <name>"),
		requires("os", "a domain needs <os><type>exe</type><init>/sbin/init</init></os>"),
		attrs(
			enumAttr("type", "hypervisor type", true,
				val("lxc", Applied, "a container"),
				rejectedVal("kvm", "virtual machines", "vmlite runs containers: use <domain type='lxc'>"),
				rejectedVal("qemu", "virtual machines", "vmlite runs containers: use <domain type='lxc'>"),
				rejectedVal("xen", "virtual machines", "vmlite runs containers: use <domain type='lxc'>"),
				rejectedVal("openvz", "other hypervisors", "use <domain type='lxc'>"),
				rejectedVal("vz", "other hypervisors", "use <domain type='lxc'>"),
				rejectedVal("bhyve", "other hypervisors", "use <domain type='lxc'>"),
			),
			warnedAttr("id", "runtime domain id, written by libvirt into live XML; ignored"),
		),
		children(
			elem("name", Applied, "guest name: unique; also the default host name (characters other than A-Z a-z 0-9 - dropped)", text(isDomainName)),
			elem("uuid", Applied, "unique id; a random one is assigned at define when missing", text(isUUID)),
			elem("title", Applied, "stored and shown, not used", text(anyText)),
			elem("description", Applied, "stored and shown, not used", text(anyText)),
			elem("metadata", Applied, "stored; elements of other namespaces are kept verbatim and ignored, as libvirt does", foreign(), children(vmliteConfig())),
			size("memory", Applied, "memory cgroup limit (memory.max / memory.limit_in_bytes)"),
			size("currentMemory", Applied, "the memory limit when it is lower than <memory>"),
			elem("memtune", Applied, "memory cgroup knobs", children(
				size("hard_limit", Applied, "memory limit (overrides <memory>)"),
				size("soft_limit", Applied, "memory.high / soft_limit_in_bytes"),
				size("swap_hard_limit", Applied, "limit of memory plus swap"),
				rejectedElem("min_guarantee", "memory guarantees (a VM feature)", "remove it"),
			)),
			elem("vcpu", Applied, "number of CPUs: vmlite turns it into a CPU quota (libvirt ignores the count)", text(uintRange(1, 4096)), attrs(
				enumAttr("placement", "CPU placement", false, val("static", Applied, "cpuset (if any) as given"),
					rejectedVal("auto", "automatic NUMA placement (numad)", "use placement='static' with cpuset=")),
				attr("cpuset", Applied, "CPUs the guest may run on (cpuset cgroup)", isCPUList),
				rejectedAttr("current", "vcpu hotplug", "remove current= and set the count you want"),
			)),
			elem("cputune", Applied, "CPU cgroup knobs", children(
				elem("shares", Applied, "relative CPU weight (cpu.shares, or cpu.weight on cgroup v2)", text(uintRange(2, 262144))),
				elem("period", Applied, "CFS period in microseconds", text(uintRange(1000, 1000000))),
				elem("quota", Applied, "CFS quota in microseconds per period; -1 means no limit", text(isCPUQuota)),
			), children(rejectedAll("per-vCPU, emulator and I/O thread tuning (VM features)", "use <shares>, <period> and <quota>",
				"global_period", "global_quota", "emulator_period", "emulator_quota", "iothread_period", "iothread_quota",
				"vcpupin", "emulatorpin", "iothreadpin", "vcpusched", "emulatorsched", "iothreadsched", "cachetune", "memorytune")...)),
			elem("blkiotune", Applied, "block I/O cgroup knobs", children(
				elem("weight", Applied, "relative I/O weight", text(uintRange(1, 10000))),
				elem("device", Applied, "per-device limits", multi(), requires("path", "a blkiotune <device> needs a <path>"), children(
					elem("path", Applied, "host block device", text(isAbsFilePath)),
					elem("weight", Applied, "relative I/O weight on this device", text(uintRange(1, 10000))),
					elem("read_bytes_sec", Applied, "read bandwidth limit", text(isUint)),
					elem("write_bytes_sec", Applied, "write bandwidth limit", text(isUint)),
					elem("read_iops_sec", Applied, "read operations limit", text(isUint)),
					elem("write_iops_sec", Applied, "write operations limit", text(isUint)),
				)),
			)),
			elem("resource", Applied, "cgroup placement", children(
				elem("partition", Applied, "parent cgroup of the guest, below vmlite's root (e.g. /machine)", text(isPartition)),
				rejectedElem("fibrechannel", "fibre channel application ids", "remove it"),
			)),
			elem("os", Applied, "what the guest runs as PID 1",
				requires("type", "<os> needs <type>exe</type>"),
				requires("init", "init binary must be specified"),
				children(
					elem("type", Applied, "must be exe", textValues(val("exe", Applied, "run a program (init) in a container"),
						rejectedVal("hvm", "virtual machines", "use <type>exe</type>"),
						rejectedVal("linux", "Xen paravirtual guests", "use <type>exe</type>")),
						attrs(warnedAttr("arch", "the guest runs natively on the host's architecture; arch is not checked"),
							rejectedAttr("machine", "VM machine types", "remove machine="))),
					elem("init", Applied, "guest path of the program run as PID 1 (required)", text(all(nonEmpty, isAbsFilePath))),
					elem("initarg", Applied, "one argument of init; repeat for more", multi(), text(anyText)),
					elem("initenv", Applied, "an environment variable for init", multi(), text(anyText),
						attrs(reqAttr("name", "variable name", isEnvName))),
					elem("initdir", Applied, "working directory of init (default /; libvirt's schema refuses initdir /)", text(isInitDir)),
					elem("inituser", Applied, "user init runs as: a name, a number, or +N; needs <initgroup> (libvirt's schema)", text(isUserOrGroup)),
					elem("initgroup", Applied, "group init runs as: a name, a number, or +N; needs <inituser> (libvirt's schema)", text(isUserOrGroup)),
					elem("cmdline", Applied, "exported to init as LIBVIRT_LXC_CMDLINE, as libvirt does (Nova writes console=tty0 ...)", text(anyText)),
				),
				children(ignoredAll("a virtual-machine boot setting: libvirt's LXC driver accepts it and boots <init>",
					"loader", "nvram", "varstore", "kernel", "initrd", "shim", "dtb", "acpi", "boot", "bootmenu", "bios", "smbios", "firmware")...),
			),
			elem("idmap", Applied, "user namespace: guest ids start..start+count-1 map to host ids target..; uid and gid ranges are both needed, the first must start at 0",
				children(
					elem("uid", Applied, "a uid range", multi(), attrs(reqAttr("start", "first guest uid", uint32Val), reqAttr("target", "first host uid", uint32Val), reqAttr("count", "number of uids", uint32Val))),
					elem("gid", Applied, "a gid range", multi(), attrs(reqAttr("start", "first guest gid", uint32Val), reqAttr("target", "first host gid", uint32Val), reqAttr("count", "number of gids", uint32Val))),
				)),
			elem("features", Applied, "container features", children(
				elem("privnet", Applied, "a private network namespace even without interfaces"),
				elem("capabilities", Applied, "capability bounding set of the guest", attrs(
					enumAttr("policy", "starting set; a capability element without state= counts as on, as libvirt reads it", false,
						val("default", Applied, "libvirt's default: drop mknod, sys_module, sys_time, audit_control, mac_admin (and sys_boot)"),
						val("allow", Applied, "keep every capability except those turned off"),
						val("deny", Applied, "drop every capability except those turned on"),
					)), strict(), children(capabilityElems()...)),
			), children(ignoredAll("a hardware virtualisation feature: libvirt's LXC driver accepts it and does not use it",
				"pae", "acpi", "apic", "hap", "viridian", "hyperv", "kvm", "xen", "pvspinlock", "pmu", "vmport", "gic", "smm",
				"ioapic", "hpt", "htm", "nested-hv", "vmcoreinfo", "msrs", "ccf-assist", "cfpc", "sbbc", "ibs", "tcg",
				"async-teardown", "ras", "ps2", "aia", "virtualization")...)),
			elem("clock", Applied, "the guest shares the host's clock (a container has none of its own); with offset='localtime' its <timer>s rtc and hpet pass the host's devices", attrs(
				enumAttr("offset", "clock offset", false,
					val("utc", Warned, "the guest shares the host's clock"),
					val("localtime", Applied, "the guest shares the host's clock (its time zone is its own /etc/localtime), and gets the host's /dev/rtc0 and /dev/hpet for <timer name='rtc'> and <timer name='hpet'>, as libvirt's LXC driver does"),
					warnedVal("timezone", "the guest shares the host's clock (libvirt's LXC driver ignores the offset); its time zone is its own /etc/localtime"),
					warnedVal("variable", "the guest shares the host's clock (libvirt's LXC driver ignores the offset)"),
					warnedVal("absolute", "the guest shares the host's clock (libvirt's LXC driver ignores the offset)"),
				),
				warnedAttr("adjustment", "the guest shares the host's clock"),
				warnedAttr("basis", "the guest shares the host's clock"),
				warnedAttr("timezone", "the guest shares the host's clock; its time zone is its own /etc/localtime"),
				warnedAttr("start", "the guest shares the host's clock"),
			), children(elem("timer", Applied, "a clock device: with <clock offset='localtime'>, rtc and hpet (unless present='no') are the host's /dev/rtc0 as /dev/rtc and /dev/hpet as /dev/hpet in the guest, read-only in its device cgroup, as libvirt's LXC driver passes them; ignored with another offset", multi(),
				attrs(
					enumAttr("name", "timer kind", true,
						val("rtc", Applied, "the host's /dev/rtc0 as the guest's /dev/rtc (offset='localtime')"),
						val("hpet", Applied, "the host's /dev/hpet as the guest's /dev/hpet (offset='localtime')"),
						warnedVal("platform", vmTimer),
						warnedVal("pit", vmTimer),
						warnedVal("tsc", vmTimer),
						warnedVal("kvmclock", vmTimer),
						warnedVal("hypervclock", vmTimer),
						warnedVal("armvtimer", vmTimer),
					),
					enumAttr("present", "whether the guest gets the timer; default yes", false, val("yes", Applied, ""), val("no", Applied, "not passed")),
					warnedAttr("tickpolicy", "a virtual-machine timer setting: libvirt's LXC driver ignores it"),
					warnedAttr("track", "a virtual-machine timer setting: libvirt's LXC driver ignores it"),
					warnedAttr("frequency", "a virtual-machine timer setting: libvirt's LXC driver ignores it"),
					warnedAttr("mode", "a virtual-machine timer setting: libvirt's LXC driver ignores it"),
				),
				children(ignoredAll("a virtual-machine timer setting: libvirt's LXC driver ignores it", "catchup")...),
			))),
			lifecycle("on_poweroff", "init powers off"),
			lifecycle("on_reboot", "the guest reboots"),
			lifecycle("on_crash", "init dies on its own"),
			devices,
			elem("seclabel", Applied, "security label", multi(), attrs(
				enumAttr("type", "labelling", false,
					val("none", Applied, "no security driver (vmlite has none)"),
					rejectedVal("dynamic", "SELinux/AppArmor labels (vmlite has no security driver)", "use <seclabel type='none'/> or remove it"),
					rejectedVal("static", "SELinux/AppArmor labels (vmlite has no security driver)", "use <seclabel type='none'/> or remove it"),
				),
				enumAttr("model", "security driver", false, val("none", Applied, "no driver"),
					rejectedVal("selinux", "SELinux labels", "remove the seclabel"), rejectedVal("apparmor", "AppArmor profiles", "remove the seclabel"), rejectedVal("dac", "DAC labels", "use <idmap> to run the guest as other ids")),
				warnedAttr("relabel", "nothing is relabelled without a security driver"),
			)),
			ignoredElem("on_lockfailure", "lock managers: libvirt's LXC driver has none"),
			rejectedElem("numatune", "NUMA memory placement (cpuset.mems)", "remove it; <vcpu cpuset='...'> pins CPUs"),
			lxcNamespace(),
		),
		children(ignoredAll(lxcIgnores,
			"genid", "hwuuid", "maxMemory", "memoryBacking", "vcpus", "iothreads", "iothreadids", "defaultiothread",
			"iommufd", "sysinfo", "bootloader", "bootloader_args", "throttlegroups", "cpu", "pm", "perf",
			"keywrap", "launchSecurity")...),
	)
	return root
}

// lxcNamespace is <lxc:namespace>: the guest joins namespaces of another
// guest or process instead of getting its own, as libvirt's LXC driver
// does (drvlxc.rst).
func lxcNamespace() *elemSpec {
	share := func(name, kind string) *elemSpec {
		return elem(name, Applied, "join the "+kind+" namespace given by type and value instead of a new one", ns(lxcNS), attrs(
			enumAttr("type", "what value names", true,
				val("name", Applied, "another running vmlite guest (under the same --root)"),
				val("pid", Applied, "a host process id: its namespace"),
				val("netns", Applied, "a named network namespace, /var/run/netns/VALUE (ip netns); sharenet only"),
			),
			reqAttr("value", "the guest name, pid or netns name", nonEmpty),
		))
	}
	return elem("namespace", Applied, "namespaces shared with another guest or process", ns(lxcNS), strict(), children(
		share("sharenet", "network"), share("shareipc", "IPC"), share("shareuts", "UTS (host name)"),
	))
}
