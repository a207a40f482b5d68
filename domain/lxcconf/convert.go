package lxcconf

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/internal/uuid"
)

// Defaults of lxc_native.c for what an LXC config does not say.
const (
	defaultMemoryKiB = 65536
	defaultInit      = "/sbin/init"
	libvirtEmulator  = "/usr/libexec/libvirt_lxc"
)

// Warning is a key the conversion did not carry over.
type Warning struct {
	File string
	Line int
	Key  string
	Msg  string
}

// String prints FILE:LINE: KEY: MSG.
func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s: %s", w.File, w.Line, w.Key, w.Msg) }

// converter holds the state of one conversion.
type converter struct {
	file  string
	x     *libvirtxml.Domain
	warns []Warning
	nets  []*netConf
	// net index of the LXC 3 keys lxc.net.N -> nets position.
	netIndex map[int]*netConf
	// sawNetwork: some network key appeared (no network at all means a
	// private network namespace: <privnet/>).
	sawNetwork bool
	ttys       int
	blkio      map[string]*libvirtxml.DomainBlockIOTuneDevice
	blkioOrder []string
	capsDrop   []string
}

func (c *converter) warn(e entry, format string, args ...any) {
	c.warns = append(c.warns, Warning{File: c.file, Line: e.line, Key: e.key, Msg: fmt.Sprintf(format, args...)})
}

func (c *converter) errorf(e entry, format string, args ...any) error {
	return &Error{File: c.file, Line: e.line, Key: e.key, Msg: fmt.Sprintf(format, args...)}
}

// Error is a problem in an LXC config: FILE:LINE: KEY: MSG. It is a user
// error (errors.Is(err, errdefs.ErrInvalid) holds).
type Error struct {
	File string
	Line int // 0 when the problem is not on one line
	Key  string
	Msg  string
}

// Error prints FILE:LINE: KEY: MSG.
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// Is makes the error an errdefs.ErrInvalid.
func (e *Error) Is(target error) bool { return target == errdefs.ErrInvalid }

// Convert turns the LXC config data (named file in messages) into a domain.
// The uuid is random. User errors wrap errdefs.ErrInvalid.
func Convert(file string, data []byte) (*libvirtxml.Domain, []Warning, error) {
	entries, err := parse(file, data)
	if err != nil {
		return nil, nil, err
	}
	x := &libvirtxml.Domain{
		Type:          "lxc",
		Name:          "unnamed",
		UUID:          uuid.New(),
		Memory:        &libvirtxml.DomainMemory{Value: defaultMemoryKiB, Unit: "KiB"},
		CurrentMemory: &libvirtxml.DomainCurrentMemory{Value: defaultMemoryKiB, Unit: "KiB"},
		VCPU:          &libvirtxml.DomainVCPU{Placement: "static", Value: 1},
		OS:            &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Type: "exe"}, Init: defaultInit},
		Features:      &libvirtxml.DomainFeatureList{Capabilities: &libvirtxml.DomainFeatureCapabilities{Policy: "allow"}},
		Clock:         &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff:    "destroy",
		OnReboot:      "restart",
		OnCrash:       "destroy",
		Devices:       &libvirtxml.DomainDeviceList{Emulator: libvirtEmulator},
	}
	c := &converter{file: file, x: x, netIndex: map[int]*netConf{}, blkio: map[string]*libvirtxml.DomainBlockIOTuneDevice{}}
	var rootfs *entry
	var mounts []entry
	for i := range entries {
		e := entries[i]
		switch k := e.key; {
		case k == "lxc.utsname" || k == "lxc.uts.name":
			x.Name = e.value
		case k == "lxc.rootfs" || k == "lxc.rootfs.path":
			rootfs = &entries[i]
		case k == "lxc.mount" || k == "lxc.mount.fstab":
			return nil, nil, c.errorf(e, "an fstab file (%s) is not supported; fix: write its lines as lxc.mount.entry = ... in the config", e.value)
		case k == "lxc.mount.entry":
			mounts = append(mounts, e)
		case k == "lxc.arch":
			arch, ok := archNames[e.value]
			if !ok {
				return nil, nil, c.errorf(e, "unknown architecture %q", e.value)
			}
			x.OS.Type.Arch = arch
		case k == "lxc.tty" || k == "lxc.tty.max":
			n, err := strconv.Atoi(e.value)
			if err != nil || n < 0 || n > 64 {
				return nil, nil, c.errorf(e, "not a number of ttys: %q", e.value)
			}
			c.ttys = n
		case k == "lxc.idmap" || k == "lxc.id_map":
			if err := c.idmap(e); err != nil {
				return nil, nil, err
			}
		case k == "lxc.cap.drop":
			c.capsDrop = append(c.capsDrop, strings.Fields(e.value)...)
		case k == "lxc.init.cmd" || k == "lxc.init_cmd":
			f := strings.Fields(e.value)
			if len(f) == 0 {
				return nil, nil, c.errorf(e, "empty init command")
			}
			x.OS.Init, x.OS.InitArgs = f[0], f[1:]
		case strings.HasPrefix(k, "lxc.network") || strings.HasPrefix(k, "lxc.net."):
			if err := c.network(e); err != nil {
				return nil, nil, err
			}
		case strings.HasPrefix(k, "lxc.cgroup.") || strings.HasPrefix(k, "lxc.cgroup2."):
			if err := c.cgroup(e); err != nil {
				return nil, nil, err
			}
		default:
			if why, ok := ignoredKeys[k]; ok {
				c.warn(e, "not converted: %s", why)
			} else {
				c.warn(e, "not converted: vmlite has no equivalent for this key")
			}
		}
	}
	if rootfs != nil {
		if err := c.rootfs(*rootfs); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range mounts {
		if err := c.mountEntry(m, rootfs); err != nil {
			return nil, nil, err
		}
	}
	if err := c.finishNetworks(); err != nil {
		return nil, nil, err
	}
	if !c.sawNetwork {
		x.Features.PrivNet = &libvirtxml.DomainFeature{}
	}
	if err := c.capabilities(); err != nil {
		return nil, nil, err
	}
	for _, p := range c.blkioOrder {
		c.blkioTune()
		x.BlockIOTune.Device = append(x.BlockIOTune.Device, *c.blkio[p])
	}
	for i := 0; i < c.ttys; i++ {
		port := uint(i)
		x.Devices.Consoles = append(x.Devices.Consoles, libvirtxml.DomainConsole{
			Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
			Target: &libvirtxml.DomainConsoleTarget{Type: "lxc", Port: &port},
		})
	}
	return x, c.mergedWarnings(), nil
}

// mergedWarnings sorts the warnings by line and folds repeats of one key
// (a dozen lxc.cgroup.devices.allow lines) into one.
func (c *converter) mergedWarnings() []Warning {
	sort.SliceStable(c.warns, func(i, j int) bool { return c.warns[i].Line < c.warns[j].Line })
	var out []Warning
	more := map[int]int{}
	first := map[string]int{}
	for _, w := range c.warns {
		k := w.Key + "\x00" + w.Msg
		if i, ok := first[k]; ok {
			more[i]++
			continue
		}
		first[k] = len(out)
		out = append(out, w)
	}
	for i, n := range more {
		out[i].Msg += fmt.Sprintf(" (and %d more such lines)", n)
	}
	return out
}

// archNames maps LXC's lxc.arch spellings to libvirt's.
var archNames = map[string]string{
	"x86": "i686", "i386": "i686", "i486": "i686", "i586": "i686", "i686": "i686",
	"x86_64": "x86_64", "amd64": "x86_64",
	"arm": "armv7l", "armel": "armv7l", "armhf": "armv7l", "armv7l": "armv7l",
	"arm64": "aarch64", "aarch64": "aarch64",
	"ppc": "ppc", "powerpc": "ppc", "ppc64": "ppc64", "powerpc64": "ppc64", "ppc64el": "ppc64le", "ppc64le": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64",
}

// ignoredKeys have no domain XML equivalent; vmlite provides what they
// usually ask for (its own /dev, devpts, console) or cannot express them.
var ignoredKeys = map[string]string{
	"lxc.autodev":          "vmlite always gives the guest its own /dev",
	"lxc.pts":              "vmlite always gives the guest its own devpts",
	"lxc.aa_profile":       "vmlite has no AppArmor support",
	"lxc.apparmor.profile": "vmlite has no AppArmor support",
	"lxc.include":          "included files are not read; convert them separately",
	"lxc.console":          "vmlite logs the console itself",
	"lxc.console.path":     "vmlite logs the console itself",
	"lxc.haltsignal":       "use <vmlite:stop signal=...> in <metadata>",
	"lxc.signal.halt":      "use <vmlite:stop signal=...> in <metadata>",
	"lxc.start.auto":       "use vmlite autostart",
	"lxc.seccomp":          "vmlite has no seccomp profiles",
	"lxc.seccomp.profile":  "vmlite has no seccomp profiles",
}

func (c *converter) rootfs(e entry) error {
	v := strings.TrimPrefix(e.value, "dir:")
	if !strings.HasPrefix(v, "/") {
		return c.errorf(e, "rootfs %q is not a directory or block device path; fix: give an absolute path", e.value)
	}
	fs := libvirtxml.DomainFilesystem{AccessMode: "passthrough", Target: &libvirtxml.DomainFilesystemTarget{Dir: "/"}}
	if strings.HasPrefix(v, "/dev/") {
		fs.Source = &libvirtxml.DomainFilesystemSource{Block: &libvirtxml.DomainFilesystemSourceBlock{Dev: v}}
	} else {
		fs.Source = &libvirtxml.DomainFilesystemSource{Mount: &libvirtxml.DomainFilesystemSourceMount{Dir: v}}
	}
	c.x.Devices.Filesystems = append([]libvirtxml.DomainFilesystem{fs}, c.x.Devices.Filesystems...)
	return nil
}

// mountEntry converts one fstab-style lxc.mount.entry line.
func (c *converter) mountEntry(e entry, rootfs *entry) error {
	f := strings.Fields(e.value)
	if len(f) < 4 {
		return c.errorf(e, "expected 'source target type options [dump pass]', got %q", e.value)
	}
	src, dst, typ, opts := f[0], f[1], f[2], strings.Split(f[3], ",")
	if typ == "proc" || typ == "sysfs" {
		c.warn(e, "not converted: vmlite mounts /%s itself", map[string]string{"proc": "proc", "sysfs": "sys"}[typ])
		return nil
	}
	// Targets are relative to the rootfs, or absolute below it.
	if rootfs != nil {
		root := strings.TrimSuffix(strings.TrimPrefix(rootfs.value, "dir:"), "/")
		if strings.HasPrefix(dst, root+"/") {
			dst = strings.TrimPrefix(dst, root)
		}
	}
	if !strings.HasPrefix(dst, "/") {
		dst = "/" + dst
	}
	fs := libvirtxml.DomainFilesystem{AccessMode: "passthrough", Target: &libvirtxml.DomainFilesystemTarget{Dir: dst}}
	has := func(o string) bool {
		for _, x := range opts {
			if x == o {
				return true
			}
		}
		return false
	}
	switch {
	case typ == "tmpfs":
		var size string
		for _, o := range opts {
			if s, ok := strings.CutPrefix(o, "size="); ok {
				size = s
			}
		}
		if size == "" {
			return c.errorf(e, "missing tmpfs size; fix: add a size= option (e.g. size=64m)")
		}
		kib, err := sizeKiB(size)
		if err != nil {
			return c.errorf(e, "tmpfs size: %v", err)
		}
		fs.Source = &libvirtxml.DomainFilesystemSource{RAM: &libvirtxml.DomainFilesystemSourceRAM{Usage: uint(kib), Units: "KiB"}}
	case has("bind") || has("rbind"):
		if !strings.HasPrefix(src, "/") {
			return c.errorf(e, "bind source %q is not an absolute path", src)
		}
		fs.Source = &libvirtxml.DomainFilesystemSource{Mount: &libvirtxml.DomainFilesystemSourceMount{Dir: src}}
	case strings.HasPrefix(src, "/dev/"):
		fs.Source = &libvirtxml.DomainFilesystemSource{Block: &libvirtxml.DomainFilesystemSourceBlock{Dev: src}}
	default:
		return c.errorf(e, "mount of type %q from %q is not supported; fix: use a bind mount, a tmpfs or a block device", typ, src)
	}
	if has("ro") {
		fs.ReadOnly = &libvirtxml.DomainFilesystemReadOnly{}
	}
	c.x.Devices.Filesystems = append(c.x.Devices.Filesystems, fs)
	return nil
}

// sizeKiB reads an LXC size ("8m", "1G", "1073741824") as KiB, as
// lxcConvertSize does: bytes scaled by the suffix, divided by 1024.
func sizeKiB(s string) (uint64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	v, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	unit := s[i:]
	if unit == "" {
		unit = "b"
	}
	b, err := domain.ScaledBytes(v, unit)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return b / 1024, nil
}

// idmap reads "u|g A B COUNT". LXC documents A as the container id and B
// as the host id; libvirt's lxc_native.c reads them the other way round
// (its test data depends on it). vmlite takes LXC's order when A is 0 and
// libvirt's when B is 0, so that both kinds of configs convert to a map
// of the guest's root; otherwise LXC's documented order.
func (c *converter) idmap(e entry) error {
	f := strings.Fields(e.value)
	if len(f) != 4 || (f[0] != "u" && f[0] != "g") {
		return c.errorf(e, "expected 'u|g CONTAINER-ID HOST-ID COUNT', got %q", e.value)
	}
	var n [3]uint
	for i := range n {
		v, err := strconv.ParseUint(f[i+1], 10, 32)
		if err != nil {
			return c.errorf(e, "not an id: %q", f[i+1])
		}
		n[i] = uint(v)
	}
	start, target := n[0], n[1]
	if n[0] != 0 && n[1] == 0 {
		start, target = n[1], n[0]
	}
	r := libvirtxml.DomainIDMapRange{Start: start, Target: target, Count: n[2]}
	if c.x.IDMap == nil {
		c.x.IDMap = &libvirtxml.DomainIDMap{}
	}
	if f[0] == "u" {
		c.x.IDMap.UIDs = append(c.x.IDMap.UIDs, r)
	} else {
		c.x.IDMap.GIDs = append(c.x.IDMap.GIDs, r)
	}
	return nil
}

// capabilities turns lxc.cap.drop into policy='allow' with the dropped
// capabilities off, in libvirt's order.
func (c *converter) capabilities() error {
	caps := c.x.Features.Capabilities
	off := &libvirtxml.DomainFeatureCapability{State: "off"}
	fields := map[string]**libvirtxml.DomainFeatureCapability{
		"audit_control": &caps.AuditControl, "audit_write": &caps.AuditWrite, "block_suspend": &caps.BlockSuspend,
		"chown": &caps.Chown, "dac_override": &caps.DACOverride, "dac_read_search": &caps.DACReadSearch,
		"fowner": &caps.FOwner, "fsetid": &caps.FSetID, "ipc_lock": &caps.IPCLock, "ipc_owner": &caps.IPCOwner,
		"kill": &caps.Kill, "lease": &caps.Lease, "linux_immutable": &caps.LinuxImmutable, "mac_admin": &caps.MACAdmin,
		"mac_override": &caps.MACOverride, "mknod": &caps.MkNod, "net_admin": &caps.NetAdmin,
		"net_bind_service": &caps.NetBindService, "net_broadcast": &caps.NetBroadcast, "net_raw": &caps.NetRaw,
		"setgid": &caps.SetGID, "setfcap": &caps.SetFCap, "setpcap": &caps.SetPCap, "setuid": &caps.SetUID,
		"sys_admin": &caps.SysAdmin, "sys_boot": &caps.SysBoot, "sys_chroot": &caps.SysChRoot,
		"sys_module": &caps.SysModule, "sys_nice": &caps.SysNice, "sys_pacct": &caps.SysPAcct,
		"sys_ptrace": &caps.SysPTrace, "sys_rawio": &caps.SysRawIO, "sys_resource": &caps.SysResource,
		"sys_time": &caps.SysTime, "sys_tty_config": &caps.SysTTYCnofig, "syslog": &caps.SysLog,
		"wake_alarm": &caps.WakeAlarm,
	}
	var unknown []string
	for _, name := range c.capsDrop {
		p, ok := fields[strings.ToLower(strings.TrimPrefix(strings.ToLower(name), "cap_"))]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		*p = off
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return &Error{File: c.file, Key: "lxc.cap.drop", Msg: "unknown capabilities " + strings.Join(unknown, ", ")}
	}
	return nil
}
