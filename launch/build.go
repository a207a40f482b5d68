package launch

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/caps"
	"vmlite/internal/uuid"
	"vmlite/internal/xpath"
	"vmlite/plan"
	"vmlite/state"
)

// Options are the inputs of Build and Prepare besides the domain.
type Options struct {
	Layout state.Layout
	// Transient marks a guest started from a file without define.
	Transient bool
	// Probe answers questions about the host and the guest's root
	// filesystem; nil means the real machine (NewHostProbe).
	Probe Probe
	// Networks attaches interfaces to managed networks (Prepare); nil
	// refuses guests that have such interfaces.
	Networks NetworkResolver
	// Images resolves <filesystem type='template'> roots (package image;
	// nil: such a root is an error).
	Images Images
	// Orphans cleans up after a dead supervisor (Prepare; nil: a start
	// that finds one fails with ErrOrphan).
	Orphans Orphans
	// SysFS is where sysfs is mounted, for USB hostdevs ("" is /sys;
	// tests give a fake tree).
	SysFS string
}

// Images resolves an image-based root for a guest.
type Images interface {
	// Root returns the overlay of guest's root made from image (a name or
	// id), or a user error naming what is missing.
	Root(guest, image string) (*plan.Overlay, error)
	// Claim makes the layer of a first start (ov.Fresh) under the store's
	// lock, the guest's reference to the image's layers; it clears
	// ov.Fresh when the guest got a layer meanwhile.
	Claim(guest string, ov *plan.Overlay, m plan.IDMap) error
	// RemoveLayer removes the layer Claim made, when its start is given up.
	RemoveLayer(dir string) error
}

// Probe is every host look-up Build makes, so tests can fake the host.
type Probe interface {
	// IsDir reports whether a host path is a directory.
	IsDir(path string) bool
	// IsFile reports whether a host path is a regular file (an image).
	IsFile(path string) bool
	// InitKind guesses the init system of guest path init under rootfs ("" = host root).
	InitKind(rootfs, init string) plan.InitKind
	// Perm returns the permission bits of a host path; false if it cannot
	// be looked at.
	Perm(path string) (fs.FileMode, bool)
}

// Build turns a validated domain into a launch plan: every default resolved,
// names and addresses allocated. Errors are the user's (a rootfs that does
// not exist): they name the XML element.
func Build(d *domain.Domain, o Options) (*plan.Plan, error) {
	probe := o.Probe
	if probe == nil {
		probe = NewHostProbe()
	}
	x := d.XML
	p := &plan.Plan{
		Version:   plan.Version,
		Name:      x.Name,
		UUID:      x.UUID, // canonical since domain.Parse
		Transient: o.Transient,
		Source:    d.File,
	}
	if p.UUID == "" {
		p.UUID = uuid.New()
	}
	p.Hostname = d.Meta.Hostname
	if p.Hostname == "" {
		p.Hostname = Hostname(x.Name)
	}
	l := o.Layout
	p.Paths = plan.Paths{
		RunDir: l.RunDir(p.Name), LogFile: l.ConsoleLog(p.Name), SupervisorLog: l.SupervisorLog(p.Name),
		StateFile: l.StateFile(p.Name), ControlSocket: l.ControlSocket(p.Name), PlanFile: l.PlanFile(p.Name),
		LiveXML: l.LiveXML(p.Name), LastFile: l.LastFile(p.Name), ShiftDir: l.ShiftDir(),
		RunRoot: l.Run, InitBinDir: l.InitBinDir(),
	}
	if !d.Meta.NoProcFS {
		p.Paths.ProcFS, p.Paths.ProcFSLog = l.ProcFSDir(), l.ProcFSLog()
	}
	var errs domain.Errors
	add := func(path, msg string, value string) {
		errs = append(errs, &domain.FieldError{File: d.File, Path: path, Msg: msg, Value: value})
	}
	buildFilesystems(p, x, probe, o.Images, add)
	buildUSB(p, x, o.SysFS, add)
	buildTimers(p, x)
	buildInit(p, x, d, probe)
	buildConsoles(p, x, l)
	buildShared(p, x, l, add)
	if x.IDMap != nil {
		for _, r := range x.IDMap.UIDs {
			p.IDMap.UIDs = append(p.IDMap.UIDs, plan.IDRange{Start: uint32(r.Start), Target: uint32(r.Target), Count: uint32(r.Count)})
		}
		for _, r := range x.IDMap.GIDs {
			p.IDMap.GIDs = append(p.IDMap.GIDs, plan.IDRange{Start: uint32(r.Start), Target: uint32(r.Target), Count: uint32(r.Count)})
		}
		p.IDMap.AllowOverlap = d.Meta.AllowIDMapOverlap
		p.IDMap.ForceChown = d.Meta.IDMapChown
		// Without an idmapped mount (or the chown shift the supervisor falls
		// back to) the guest's root would see its files owned by nobody.
		p.Rootfs.IDMapped = p.Rootfs.Path != ""
		for i := range p.Mounts {
			p.Mounts[i].IDMapped = p.Mounts[i].Kind == plan.MountBind || p.Mounts[i].Kind == plan.MountImage
		}
	}
	p.Capabilities = buildCapabilities(x)
	if err := buildCgroup(p, x, d); err != nil {
		add("/domain/memory", err.Error(), "")
	}
	p.Cgroup.Name = plan.CgroupName(p.Name, l.InstanceID())
	buildInterfaces(p, x, add)
	p.Lifecycle = plan.Lifecycle{
		OnPoweroff: action(x.OnPoweroff, plan.ActionDestroy),
		OnReboot:   action(x.OnReboot, plan.ActionRestart),
		OnCrash:    action(x.OnCrash, plan.ActionDestroy),
	}
	p.Stop = stopFor(p.Init.Kind, d.Meta)
	// The live XML names the uuid the guest runs with, also when the
	// definition had none (a transient guest).
	live, liveX := *d, *d.XML
	liveX.UUID = p.UUID
	live.XML = &liveX
	if b, err := live.Marshal(); err == nil {
		p.DomainXML = string(b)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// Hostname makes a domain name hostname-safe as libvirt does
// (lxcContainerSetHostname): characters outside [A-Za-z0-9-] are dropped, and
// so is a leading '-'. We also cut it to 63 characters (a DNS label).
func Hostname(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 128 && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	h := strings.TrimLeft(b.String(), "-")
	if len(h) > 63 {
		h = h[:63]
	}
	if h == "" {
		h = "localhost"
	}
	return h
}

func buildInit(p *plan.Plan, x *libvirtxml.Domain, d *domain.Domain, probe Probe) {
	os := x.OS
	p.Init = plan.Init{Dir: "/", XMLPath: "/domain/os/init"}
	if os == nil {
		return
	}
	p.Init.Path = os.Init
	p.Init.Args = append([]string(nil), os.InitArgs...)
	if os.InitDir != "" {
		p.Init.Dir = os.InitDir
	}
	p.Init.User, p.Init.Group = os.InitUser, os.InitGroup
	env := []string{
		"PATH=" + plan.DefaultPath,
		"TERM=linux",
		"HOME=/",
		// systemd's Container Interface: tells init it runs in a container.
		"container=vmlite",
		"container_uuid=" + p.UUID,
		// What libvirt sets, for guests written against it.
		"LIBVIRT_LXC_NAME=" + p.Name,
		"LIBVIRT_LXC_UUID=" + p.UUID,
	}
	if n := len(x.Devices.Consoles); n > 1 {
		var ttys []string
		for i := 1; i < n; i++ {
			ttys = append(ttys, fmt.Sprintf("pts/%d", i))
		}
		env = append(env, "container_ttys="+strings.Join(ttys, " "))
	}
	if os.Cmdline != "" {
		env = append(env, "LIBVIRT_LXC_CMDLINE="+os.Cmdline)
	}
	for _, e := range os.InitEnv {
		env = setEnv(env, e.Name, e.Value)
	}
	p.Init.Env = env
	p.Init.Kind = probe.InitKind(p.Rootfs.Path, p.Init.Path)
	if ov := p.Rootfs.Overlay; ov != nil {
		// The layers top down: the first that says what init is.
		p.Init.Kind = plan.InitUnknown
		for _, dir := range append([]string{filepath.Join(ov.LayerDir, "upper")}, ov.Lowers...) {
			if k := probe.InitKind(dir, p.Init.Path); k != plan.InitUnknown {
				p.Init.Kind = k
				break
			}
		}
	}
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

func buildFilesystems(p *plan.Plan, x *libvirtxml.Domain, probe Probe, images Images, add func(path, msg, value string)) {
	if x.Devices == nil {
		return
	}
	for i, fs := range x.Devices.Filesystems {
		xp := xpath.Child("/domain/devices", "filesystem", i, len(x.Devices.Filesystems))
		target := ""
		if fs.Target != nil {
			target = fs.Target.Dir
		}
		ro := fs.ReadOnly != nil
		switch {
		case fs.Source != nil && fs.Source.Mount != nil:
			src := fs.Source.Mount.Dir
			if !filepath.IsAbs(src) || !probe.IsDir(src) {
				add(xp+"/source/@dir", "not an existing directory on the host; fix: create it (e.g. `vmlite template busybox DIR`) or correct the path", src)
				continue
			}
			if filepath.Clean(target) == "/" {
				p.Rootfs = plan.Rootfs{Path: filepath.Clean(src), ReadOnly: ro, XMLPath: xp}
				continue
			}
			p.Mounts = append(p.Mounts, plan.Mount{Kind: plan.MountBind, Source: src, Target: target, ReadOnly: ro, XMLPath: xp})
		case fs.Source != nil && fs.Source.Template != nil:
			if images == nil {
				add(xp+"/source/@name", "no image store to resolve it from", fs.Source.Template.Name)
				continue
			}
			ov, err := images.Root(p.Name, fs.Source.Template.Name)
			if err != nil {
				add(xp+"/source/@name", err.Error(), fs.Source.Template.Name)
				continue
			}
			p.Rootfs = plan.Rootfs{Path: ov.LayerDir, ReadOnly: ro, XMLPath: xp, Overlay: ov}
		case fs.Source != nil && fs.Source.RAM != nil:
			size, err := domain.ScaledBytes(uint64(fs.Source.RAM.Usage), fs.Source.RAM.Units)
			if err != nil {
				add(xp+"/source/@units", err.Error(), fs.Source.RAM.Units)
				continue
			}
			p.Mounts = append(p.Mounts, plan.Mount{Kind: plan.MountTmpfs, Target: target, SizeBytes: size, ReadOnly: ro, XMLPath: xp})
		case fs.Source != nil && fs.Source.Bind != nil:
			p.Mounts = append(p.Mounts, plan.Mount{Kind: plan.MountGuest, Source: fs.Source.Bind.Dir, Target: target, ReadOnly: ro, XMLPath: xp})
		case fs.Source != nil && fs.Source.File != nil:
			img := &plan.Image{File: fs.Source.File.File, Driver: "loop", Format: "raw"}
			if fs.Driver != nil && (fs.Driver.Type == "loop" || fs.Driver.Type == "nbd") {
				img.Driver = fs.Driver.Type
			}
			if fs.Driver != nil && fs.Driver.Format != "" {
				img.Format = fs.Driver.Format
			}
			if !probe.IsFile(img.File) {
				add(xp+"/source/@file", "not an existing image file on the host; fix: correct the path or make the image (e.g. mkfs.ext4 -d DIR IMAGE 512M)", img.File)
				continue
			}
			if filepath.Clean(target) == "/" {
				p.Rootfs = plan.Rootfs{Path: filepath.Clean(img.File), ReadOnly: ro, XMLPath: xp, Image: img}
				continue
			}
			p.Mounts = append(p.Mounts, plan.Mount{Kind: plan.MountImage, Source: img.File, Target: target, ReadOnly: ro, XMLPath: xp, Image: img})
		case fs.Source != nil && fs.Source.Block != nil:
			p.Mounts = append(p.Mounts, plan.Mount{Kind: plan.MountBlock, Source: fs.Source.Block.Dev, Target: target, ReadOnly: ro, XMLPath: xp})
		}
	}
	for i, h := range x.Devices.Hostdevs {
		if n, ok := hostdevNode(h, xpath.Child("/domain/devices", "hostdev", i, len(x.Devices.Hostdevs))); ok {
			p.Devices = append(p.Devices, n)
		}
	}
	for i, d := range x.Devices.Disks {
		if n, ok := diskNode(d, xpath.Child("/domain/devices", "disk", i, len(x.Devices.Disks))); ok {
			p.Devices = append(p.Devices, n)
		}
	}
}

// hostdevNode is the device node a <hostdev> passes, at its host path;
// false for one that is not a node (type='net').
func hostdevNode(h libvirtxml.DomainHostdev, xp string) (plan.Device, bool) {
	switch {
	case h.CapsStorage != nil && h.CapsStorage.Source != nil:
		dev := h.CapsStorage.Source.Block
		return plan.Device{HostPath: dev, GuestPath: dev, XMLPath: xp}, true
	case h.CapsMisc != nil && h.CapsMisc.Source != nil:
		dev := h.CapsMisc.Source.Char
		return plan.Device{HostPath: dev, GuestPath: dev, XMLPath: xp}, true
	}
	return plan.Device{}, false
}

// diskNode is a <disk type='block'>: the host's device as /dev/TARGET, as
// libvirt's LXC driver makes it (lxcContainerSetupDisk), read-only with
// <readonly/>.
func diskNode(d libvirtxml.DomainDisk, xp string) (plan.Device, bool) {
	if d.Source == nil || d.Source.Block == nil || d.Target == nil {
		return plan.Device{}, false // refused by domain.Parse
	}
	return plan.Device{HostPath: d.Source.Block.Dev, GuestPath: "/dev/" + d.Target.Dev, ReadOnly: d.ReadOnly != nil, XMLPath: xp}, true
}

func buildConsoles(p *plan.Plan, x *libvirtxml.Domain, l state.Layout) {
	var consoles []libvirtxml.DomainConsole
	if x.Devices != nil {
		consoles = x.Devices.Consoles
	}
	if len(consoles) == 0 {
		// libvirt requires one; a guest without a console is useless, so we
		// give it console0 rather than refuse.
		consoles = []libvirtxml.DomainConsole{{}}
	}
	for i, c := range consoles {
		port := i
		if c.Target != nil && c.Target.Port != nil {
			port = int(*c.Target.Port)
		}
		gp := "/dev/console"
		if port > 0 {
			gp = fmt.Sprintf("/dev/tty%d", port)
		}
		name := fmt.Sprintf("console%d", port)
		pc := plan.Console{
			Port: port, GuestPath: gp, Name: name, Socket: l.ConsoleSocket(p.Name, name),
			XMLPath: xpath.Child("/domain/devices", "console", i, len(consoles)),
		}
		if c.Log != nil {
			pc.LogFile, pc.LogAppend = c.Log.File, c.Log.Append == "on"
		}
		p.Consoles = append(p.Consoles, pc)
	}
}

func buildCapabilities(x *libvirtxml.Domain) plan.Capabilities {
	var c *libvirtxml.DomainFeatureCapabilities
	if x.Features != nil {
		c = x.Features.Capabilities
	}
	if c == nil {
		return plan.Capabilities{Drop: defaultDrop(x)}
	}
	states := map[string]string{} // CAP_X -> on|off
	v := reflect.ValueOf(*c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, ok := v.Field(i).Interface().(*libvirtxml.DomainFeatureCapability)
		if !ok || f == nil {
			continue
		}
		tag := strings.Split(t.Field(i).Tag.Get("xml"), ",")[0]
		states[caps.Canonical(strings.ToLower(tag))] = f.State
	}
	var drop []string
	switch c.Policy {
	case "allow": // keep everything but what is turned off
		for _, n := range caps.All() {
			if states[n] == "off" {
				drop = append(drop, n)
			}
		}
	case "deny": // drop everything but what is turned on
		for _, n := range caps.All() {
			if states[n] != "on" {
				drop = append(drop, n)
			}
		}
	default: // libvirt's default set, adjusted per capability
		def := map[string]bool{}
		for _, n := range defaultDrop(x) {
			def[n] = true
		}
		for _, n := range caps.All() {
			if st, ok := states[n]; ok {
				def[n] = st == "off"
			}
			if def[n] {
				drop = append(drop, n)
			}
		}
	}
	return plan.Capabilities{Drop: drop}
}

// defaultDrop is libvirt's default drop set; a guest whose root is the
// host's root (no <idmap>) also loses caps.UnmappedDrop.
func defaultDrop(x *libvirtxml.Domain) []string {
	drop := append([]string(nil), caps.LibvirtDefaultDrop...)
	if x.IDMap == nil {
		drop = append(drop, caps.UnmappedDrop...)
	}
	return drop
}

func action(s string, def plan.Action) plan.Action {
	switch s {
	case "destroy":
		return plan.ActionDestroy
	case "restart":
		return plan.ActionRestart
	case "preserve":
		return plan.ActionPreserve
	}
	return def
}
