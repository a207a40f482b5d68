package cli

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"vmlite/templates"
)

// newTemplateDebianCmd is `vmlite template debian`, a subcommand of template.
func newTemplateDebianCmd(app *App) *cobra.Command {
	var (
		f            templateFlags
		o            templates.DebianOptions
		passwordFile string
		cacheDir     string
	)
	cmd := &cobra.Command{
		Use:   "debian DIR [flags]",
		Short: "Build a Debian root filesystem with systemd in DIR and print its domain XML",
		Long: `Build a Debian root filesystem with systemd in DIR (as root) and print its
domain XML.

debootstrap (installed with apt-get when missing) installs --suite with
--variant=minbase and the packages systemd, systemd-sysv, dbus, iproute2
and --include, from the host's Debian mirror (the first APT source of the
suite in /etc/apt/sources.list or /etc/apt/sources.list.d/*.list,
*.sources) or --mirror. Its progress is shown as "[n/6]" lines. The
pristine tree is cached in --cache DIR under debian-SUITE-ARCH-HASH (HASH
covers the package list), so the next build of the same suite and packages
is a copy that takes seconds; --refresh-cache runs debootstrap again.

The copy is then set up for a vmlite guest: a login prompt on the console
(console-getty.service), systemd-networkd keeping the addresses vmlite gives
eth0 (or DHCP with --dhcp), journal files of at most 8 MiB (journald keeps
a hash table sized from a file's largest size resident: 3.6 MiB per guest
at the default), an empty /etc/machine-id (systemd makes one at first
boot), no /etc/hostname (vmlite sets the hostname), and root's login:
--root-password or --root-password-file sets a password, --no-root-password
leaves it empty (anyone on the console is root: for throw-away guests), and
without either root is locked (no console login; vmlite exec still works).

The domain XML is that of the busybox template with memory 512 MiB by
default; vmlite detects systemd and stops it with SIGRTMIN+4. With
--no-idmap it also keeps CAP_SYS_ADMIN (<sys_admin state='on'/>): systemd
cannot mount its API filesystems without it outside a user namespace.`,
		Example: `  vmlite template debian /var/lib/vmlite/rootfs/deb --root-password-file pw.txt > deb.xml
  vmlite start deb.xml && vmlite console deb`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return fmt.Errorf("template debian: %w", err)
			}
			c, err := f.domain(dir, "/sbin/init")
			if err != nil {
				return err
			}
			if c.IDMap == nil {
				// systemd mounts its API filesystems itself: without a user
				// namespace it needs the host's CAP_SYS_ADMIN, which vmlite
				// drops from unmapped guests unless the XML keeps it.
				c.SysAdmin = true
				fmt.Fprintln(app.Stderr, "template debian: --no-idmap: the guest keeps CAP_SYS_ADMIN (<sys_admin state='on'/>), which systemd needs without a user namespace; its root is then nearly host root (docs/security.md)")
			}
			if passwordFile != "" {
				if o.RootPassword != "" {
					return userErrorf("--root-password and --root-password-file: choose one")
				}
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return userErrorf("--root-password-file: %v", err)
				}
				o.RootPassword, _, _ = strings.Cut(string(b), "\n")
				if o.RootPassword == "" {
					return userErrorf("--root-password-file %s: the first line is empty", passwordFile)
				}
			}
			if o.RootPassword != "" && o.NoRootPassword {
				return userErrorf("a root password and --no-root-password: choose one")
			}
			o.CacheDir = cacheDir
			if o.CacheDir == "" {
				o.CacheDir = filepath.Join(app.Layout.Lib, "cache")
			}
			o.Force, o.Log = f.force, app.Stderr
			// Ctrl-C or a TERM during the minutes of debootstrap: stop it and
			// remove its half-made tree (and what it mounted there) before exiting.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := templates.BuildDebian(ctx, dir, o); err != nil {
				return fmt.Errorf("template debian: %w", err)
			}
			return f.emit(app, c)
		},
	}
	f.add(cmd, "512M")
	fl := cmd.Flags()
	fl.StringVar(&o.Suite, "suite", templates.DefaultSuite, "Debian release to install")
	fl.StringSliceVar(&o.Include, "include", nil, "more packages to install, `PKG,...`")
	fl.StringVar(&o.Mirror, "mirror", "", "Debian archive `URL` (default: the host's APT source for the suite)")
	fl.StringVar(&o.RootPassword, "root-password", "", "set root's password to `PW` (visible in ps: prefer --root-password-file)")
	fl.StringVar(&passwordFile, "root-password-file", "", "set root's password to the first line of `FILE`")
	fl.BoolVar(&o.NoRootPassword, "no-root-password", false, "leave root's password empty: anyone on the console is root (insecure)")
	fl.BoolVar(&o.DHCP, "dhcp", false, "eth0 asks for a DHCP lease instead of keeping the addresses vmlite sets")
	fl.StringVar(&cacheDir, "cache", "", "keep debootstrap trees in `DIR` (default: /var/lib/vmlite/cache, under --root if given)")
	fl.BoolVar(&o.RefreshCache, "refresh-cache", false, "run debootstrap again even when the cache has the tree")
	return cmd
}
