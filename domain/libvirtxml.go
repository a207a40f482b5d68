package domain

import (
	"fmt"
	"runtime"
	"strconv"

	"libvirt.org/go/libvirtxml"

	"vmlite/internal/uuid"
)

// Live is what a running guest adds to its XML: libvirt's live XML has the
// domain id and each console's host pty.
type Live struct {
	// ID is the domain id. libvirt's LXC driver uses its controller's pid;
	// vmlite uses init's host pid (a supervisor may host several guests).
	ID int
	// ConsolePTYs are the consoles' host pty paths, in <console> order; a
	// missing or "" entry leaves <source path> out.
	ConsolePTYs []string
}

// LibvirtXML returns the definition as libvirt writes it back (virsh
// dumpxml): the uuid dashed, memory and currentMemory in KiB, <vcpu
// placement='static'>, <os><type arch=...>, a MAC on every interface (the
// one vmlite gives it), every console a pty with <target type='lxc'
// port='N'/>, libvirt's lifecycle defaults; with live, also id=, each
// console's <source path> and tty=, and its <alias name='consoleN'/>. This is
// the one place that knows libvirt's normalised form: `vmlite dumpxml` and
// the RPC server's DOMAIN_GET_XML_DESC both print it. d is not changed.
func (d *Domain) LibvirtXML(live *Live) ([]byte, error) {
	// A private copy through vmlite's own marshal and parse, which keep
	// what libvirtxml alone would lose (see Marshal).
	b, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	c, _, err := Parse(d.File, b)
	if err != nil {
		return nil, fmt.Errorf("libvirt XML of %s: %w", d.Name(), err)
	}
	x := c.XML // its UUID is canonical: Parse made it so
	if x.Memory != nil {
		kib, err := toKiB(uint64(x.Memory.Value), x.Memory.Unit)
		if err != nil {
			return nil, fmt.Errorf("libvirt XML of %s: memory: %w", d.Name(), err)
		}
		x.Memory = &libvirtxml.DomainMemory{Value: uint(kib), Unit: "KiB", DumpCore: x.Memory.DumpCore}
		cur := kib
		if x.CurrentMemory != nil {
			if cur, err = toKiB(uint64(x.CurrentMemory.Value), x.CurrentMemory.Unit); err != nil {
				return nil, fmt.Errorf("libvirt XML of %s: currentMemory: %w", d.Name(), err)
			}
		}
		x.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(cur), Unit: "KiB"}
	}
	if x.VCPU == nil {
		x.VCPU = &libvirtxml.DomainVCPU{Value: 1}
	}
	if x.VCPU.Placement == "" {
		x.VCPU.Placement = "static"
	}
	if x.OS != nil && x.OS.Type != nil && x.OS.Type.Arch == "" {
		x.OS.Type.Arch = HostArch()
	}
	for _, p := range []*string{&x.OnPoweroff, &x.OnReboot, &x.OnCrash} {
		if *p == "" {
			*p = map[*string]string{&x.OnPoweroff: "destroy", &x.OnReboot: "restart", &x.OnCrash: "destroy"}[p]
		}
	}
	if x.Devices == nil {
		x.Devices = &libvirtxml.DomainDeviceList{}
	}
	for i := range x.Devices.Interfaces {
		ifc := &x.Devices.Interfaces[i]
		if ifc.MAC == nil || ifc.MAC.Address == "" {
			ifc.MAC = &libvirtxml.DomainInterfaceMAC{Address: uuid.MAC(x.UUID, i)}
		}
	}
	if len(x.Devices.Consoles) == 0 {
		// vmlite gives a guest without one console0, as it boots it.
		x.Devices.Consoles = []libvirtxml.DomainConsole{{}}
	}
	x.ID = nil
	if live != nil {
		id := live.ID
		x.ID = &id
	}
	for i := range x.Devices.Consoles {
		con := &x.Devices.Consoles[i]
		port := uint(i)
		if con.Target != nil && con.Target.Port != nil {
			port = *con.Target.Port
		}
		con.Target = &libvirtxml.DomainConsoleTarget{Type: "lxc", Port: &port}
		pty := &libvirtxml.DomainChardevSourcePty{}
		con.TTY, con.Alias = "", nil
		if live != nil {
			if i < len(live.ConsolePTYs) && live.ConsolePTYs[i] != "" {
				pty.Path, con.TTY = live.ConsolePTYs[i], live.ConsolePTYs[i]
			}
			con.Alias = &libvirtxml.DomainAlias{Name: "console" + strconv.FormatUint(uint64(port), 10)}
		}
		con.Source = &libvirtxml.DomainChardevSource{Pty: pty}
	}
	return c.Marshal()
}

func toKiB(v uint64, unit string) (uint64, error) {
	b, err := ScaledBytes(v, unit)
	if err != nil {
		return 0, err
	}
	return b / 1024, nil
}

// HostArch is the host's architecture as libvirt names it (<os><type
// arch=...>): a container runs natively.
func HostArch() string {
	if a, ok := map[string]string{
		"amd64": "x86_64", "386": "i686", "arm64": "aarch64", "arm": "armv7l", "ppc64le": "ppc64le",
		"ppc64": "ppc64", "s390x": "s390x", "riscv64": "riscv64", "loong64": "loongarch64", "mips64le": "mips64el",
	}[runtime.GOARCH]; ok {
		return a
	}
	return runtime.GOARCH
}

// DefaultMAC is the MAC of interface index of the guest with uuid u when
// its XML has none (uuid.MAC).
func DefaultMAC(u string, index int) string { return uuid.MAC(u, index) }
