package templates

import (
	"fmt"
	"path/filepath"
	"strings"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

// Defaults of the domain XML the templates print.
const (
	// DefaultIDMapTarget is the first host uid/gid of a template guest's
	// user namespace: guest root is host uid 100000, as LXC and most
	// distributions' /etc/subuid hand out.
	DefaultIDMapTarget = 100000
	// DefaultIDMapCount is how many uids/gids the guest gets (0..65535).
	DefaultIDMapCount = 65536
)

// IDMap is a single-range user namespace map: guest ids 0..Count-1 are host
// ids Target..Target+Count-1, for uids and gids alike.
type IDMap struct {
	Target uint
	Count  uint
}

// DomainConfig describes the domain XML of a template guest.
type DomainConfig struct {
	Name      string // domain name; the hostname derives from it
	RootDir   string // absolute path of the root filesystem
	MemoryKiB uint64 // memory limit
	Init      string // the guest's PID 1
	IDMap     *IDMap // nil: no user namespace (guest root is host root)
	// Image, when set, makes the root <filesystem type='template'> from
	// that image of vmlite's store instead of RootDir.
	Image string
	// InitArgs, InitEnv (NAME=VALUE), InitDir, InitUser and InitGroup run
	// an application image's command (<initarg>, <initenv>, <initdir>,
	// <inituser>, <initgroup>).
	InitArgs            []string
	InitEnv             []string
	InitDir             string
	InitUser, InitGroup string
	// SysAdmin keeps CAP_SYS_ADMIN for a guest without IDMap (vmlite drops
	// it there by default): systemd cannot mount its API filesystems
	// without it. A guest with an IDMap has it in its own namespace anyway.
	SysAdmin bool
}

// Domain returns the libvirt LXC domain for c.
func Domain(c DomainConfig) (*libvirtxml.Domain, error) {
	if err := CheckName(c.Name); err != nil {
		return nil, err
	}
	if c.Image == "" && !filepath.IsAbs(c.RootDir) {
		return nil, fmt.Errorf("root directory %q is not absolute: %w", c.RootDir, errdefs.ErrInvalid)
	}
	if c.Init == "" {
		c.Init = "/sbin/init"
	}
	port := uint(0)
	d := &libvirtxml.Domain{
		Type:   "lxc",
		Name:   c.Name,
		Memory: &libvirtxml.DomainMemory{Value: uint(c.MemoryKiB), Unit: "KiB"},
		OS: &libvirtxml.DomainOS{
			Type: &libvirtxml.DomainOSType{Type: "exe"},
			Init: c.Init,
		},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices: &libvirtxml.DomainDeviceList{
			Filesystems: []libvirtxml.DomainFilesystem{{
				Source: &libvirtxml.DomainFilesystemSource{Mount: &libvirtxml.DomainFilesystemSourceMount{Dir: c.RootDir}},
				Target: &libvirtxml.DomainFilesystemTarget{Dir: "/"},
			}},
			Consoles: []libvirtxml.DomainConsole{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainConsoleTarget{Type: "lxc", Port: &port},
			}},
		},
	}
	if c.Image != "" {
		d.Devices.Filesystems[0] = libvirtxml.DomainFilesystem{
			Source: &libvirtxml.DomainFilesystemSource{Template: &libvirtxml.DomainFilesystemSourceTemplate{Name: c.Image}},
			Target: &libvirtxml.DomainFilesystemTarget{Dir: "/"},
		}
	}
	d.OS.InitArgs = c.InitArgs
	for _, e := range c.InitEnv {
		k, v, _ := strings.Cut(e, "=")
		d.OS.InitEnv = append(d.OS.InitEnv, libvirtxml.DomainOSInitEnv{Name: k, Value: v})
	}
	d.OS.InitDir, d.OS.InitUser, d.OS.InitGroup = c.InitDir, c.InitUser, c.InitGroup
	if m := c.IDMap; m != nil {
		if m.Count == 0 {
			return nil, fmt.Errorf("idmap count 0: %w", errdefs.ErrInvalid)
		}
		r := []libvirtxml.DomainIDMapRange{{Start: 0, Target: m.Target, Count: m.Count}}
		d.IDMap = &libvirtxml.DomainIDMap{UIDs: r, GIDs: append([]libvirtxml.DomainIDMapRange(nil), r...)}
	} else if c.SysAdmin {
		d.Features = &libvirtxml.DomainFeatureList{Capabilities: &libvirtxml.DomainFeatureCapabilities{
			Policy: "default", SysAdmin: &libvirtxml.DomainFeatureCapability{State: "on"}}}
	}
	return d, nil
}

// DomainXML returns the domain XML for c, indented, with a trailing newline.
func DomainXML(c DomainConfig) (string, error) {
	d, err := Domain(c)
	if err != nil {
		return "", err
	}
	s, err := d.Marshal()
	if err != nil {
		return "", fmt.Errorf("marshal domain XML: %w", err)
	}
	return s + "\n", nil
}

// NameFromDir is the default domain name of a template built in dir: its
// base name.
func NameFromDir(dir string) string {
	return filepath.Base(filepath.Clean(dir))
}

// CheckName refuses names a guest cannot have (domain.CheckName, the one
// rule), naming the flag.
func CheckName(name string) error {
	if err := domain.CheckName(name); err != nil {
		return fmt.Errorf("--name: %w", err)
	}
	return nil
}
