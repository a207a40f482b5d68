package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/state"
	"vmlite/templates"
	"vmlite/uidmap"
)

func init() { register(newTemplateCmd) }

// templateFlags are the flags every template shares: they shape the domain
// XML printed after the tree is built.
type templateFlags struct {
	name        string
	memory      string
	noIDMap     bool
	idmapTarget uint
	idmapAuto   bool
	output      string
	force       bool
}

func (f *templateFlags) add(cmd *cobra.Command, defMemory string) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "domain `NAME` in the XML (default: the base name of DIR)")
	fl.BoolVar(&f.force, "force", false, "build into a DIR that is not empty, replacing the template's files")
	f.addXML(cmd, defMemory)
}

// addXML adds the flags that shape the XML alone (template image builds nothing).
func (f *templateFlags) addXML(cmd *cobra.Command, defMemory string) {
	fl := cmd.Flags()
	fl.StringVar(&f.memory, "memory", defMemory, "memory limit, `SIZE` in MiB or with a unit K, M, G")
	fl.BoolVar(&f.noIDMap, "no-idmap", false, "no <idmap>: guest root is host root (privileged guest)")
	fl.UintVar(&f.idmapTarget, "idmap-target", 0, "first host `UID` (and GID) of the guest's 65536 ids (default: the first 65536 from 100000 on that no user has in /etc/subuid and /etc/subgid, or from their \"vmlite\" entries)")
	fl.BoolVar(&f.idmapAuto, "idmap-auto", false, "as the default, and also unused by defined or running guests (instead of --idmap-target)")
	fl.StringVarP(&f.output, "output", "o", "", "write the domain XML to `FILE` instead of standard output")
}

// domain turns the flags into the XML's description for the tree in dir.
func (f *templateFlags) domain(dir, init string) (templates.DomainConfig, error) {
	c := templates.DomainConfig{Name: f.name, RootDir: dir, Init: init}
	if c.Name == "" {
		c.Name = templates.NameFromDir(dir)
	}
	if err := templates.CheckName(c.Name); err != nil {
		return c, err
	}
	kib, err := templates.ParseSize(f.memory)
	if err != nil {
		return c, fmt.Errorf("--memory: %w", err)
	}
	c.MemoryKiB = kib
	if !f.noIDMap {
		c.IDMap = &templates.IDMap{Target: f.idmapTarget, Count: templates.DefaultIDMapCount}
	}
	return c, nil
}

// emit prints the XML for c, or writes it to --output.
func (f *templateFlags) emit(app *App, c templates.DomainConfig) error {
	if c.IDMap != nil && c.IDMap.Target == 0 && !f.idmapAuto {
		t, err := uidmap.UnownedTarget(uint32(templates.DefaultIDMapTarget), uint32(c.IDMap.Count))
		if err != nil {
			return fmt.Errorf("<idmap> target: %w", err)
		}
		c.IDMap.Target = uint(t)
	}
	if f.idmapAuto && c.IDMap != nil {
		defined, err := domain.NewStore(app.Layout).IDMaps()
		if err != nil {
			return fmt.Errorf("--idmap-auto: %w", err)
		}
		t, err := uidmap.FreeTarget(app.Layout, defined, uint32(templates.DefaultIDMapTarget), uint32(c.IDMap.Count))
		if err != nil {
			return fmt.Errorf("--idmap-auto: %w", err)
		}
		c.IDMap.Target = uint(t)
		fmt.Fprintf(app.Stderr, "template: host ids %d-%d are free: using them for <idmap>\n", t, uint64(t)+uint64(c.IDMap.Count)-1)
	}
	xml, err := templates.DomainXML(c)
	if err != nil {
		return err
	}
	if f.output == "" {
		_, err := fmt.Fprint(app.Stdout, xml)
		return err
	}
	if err := state.WriteFileAtomic(f.output, []byte(xml), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(app.Stderr, "template: domain XML written to %s\n", f.output)
	return nil
}

func newTemplateCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "template NAME DIR [flags]",
		Short: "Build a bootable root filesystem and print a matching domain XML",
		Long: `Build a bootable root filesystem from template NAME in DIR and print a
libvirt LXC domain XML that boots it (or write it to --output FILE).
Progress goes to standard error, the XML to standard output.

Templates:
  busybox   a 2 MB tree from Debian's busybox-static, busybox init, a root
            shell on the console (seconds)
  debian    Debian with systemd from debootstrap, a login on the console
            (minutes the first time, seconds from the cache)

The XML maps the guest's uids and gids 0-65535 to 65536 host ids (<idmap>;
100000-165535 unless /etc/subuid or /etc/subgid gives them to a user, or a
"vmlite" entry there sets a range aside) so that guest root is an
unprivileged user on the host; vmlite
attaches the tree through an idmapped mount, so it stays owned by root on
the host. --no-idmap leaves the map out: guest root is then host root.`,
		Example: `  vmlite template busybox /var/lib/vmlite/rootfs/bb > bb.xml
  vmlite start bb.xml`,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return userErrorf("template: name a template (busybox, debian)")
			}
			return userErrorf("template: unknown template %q (want busybox or debian)", args[0])
		},
	}
	cmd.AddCommand(newTemplateBusyboxCmd(app), newTemplateDebianCmd(app), newTemplateImageCmd(app))
	return cmd
}

func newTemplateBusyboxCmd(app *App) *cobra.Command {
	var f templateFlags
	cmd := &cobra.Command{
		Use:   "busybox DIR [flags]",
		Short: "Build a busybox root filesystem in DIR and print its domain XML",
		Long: `Build a bootable busybox root filesystem in DIR from Debian's busybox-static
(/bin/busybox, installed with apt-get when missing and running as root):
the static binary, a symlink per applet (/sbin/init among them), and
/etc/inittab, /etc/init.d/rcS, rcK, passwd, group, shadow, profile, fstab.

busybox init runs /etc/init.d/rcS, which mounts what vmlite has not, brings
up lo (and eth0 with DHCP when vmlite gave it no address), prints
"vmlite-guest: BOOTED <hostname>" on the console and writes /marker/booted.
A root shell runs on the console. On poweroff, halt and reboot, rcK prints
"vmlite-guest: SHUTDOWN <hostname>" and writes /marker/shutdown.

Then print the domain XML: name (default: the base name of DIR), memory
(default 256 MiB), init /sbin/init, an <idmap> unless --no-idmap, DIR as
the root filesystem, a pty console, on_poweroff destroy, on_reboot restart,
on_crash destroy.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return fmt.Errorf("template busybox: %w", err)
			}
			c, err := f.domain(dir, "/sbin/init")
			if err != nil {
				return err
			}
			if err := templates.BuildBusybox(cmd.Context(), dir, templates.BusyboxOptions{Force: f.force, Log: app.Stderr}); err != nil {
				return fmt.Errorf("template busybox: %w", err)
			}
			return f.emit(app, c)
		},
	}
	f.add(cmd, "256M")
	return cmd
}
