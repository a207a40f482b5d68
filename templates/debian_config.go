package templates

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/GehirnInc/crypt/sha512_crypt"
)

// DebianConfig is what ConfigureDebian sets up beyond the fixed files.
type DebianConfig struct {
	DHCP bool // eth0 asks for a DHCP lease (templates/debian-dhcp)
}

// debianEnable are the units ConfigureDebian enables, as systemctl enable
// would: link name (under etc/systemd/system) -> unit file.
//
// console-getty.service is the login prompt on /dev/console, the pty that
// `vmlite console` attaches to (systemd-getty-generator also adds it in a
// container; enabling it makes that explicit). systemd-networkd keeps or
// configures eth0; its wait-online service is left disabled, so that a guest
// without eth0 does not wait two minutes for a network that never comes, and
// systemd-network-generator too, since /proc/cmdline in a container is the
// host's kernel command line.
var debianEnable = []struct{ link, unit string }{
	{"getty.target.wants/console-getty.service", "/lib/systemd/system/console-getty.service"},
	{"multi-user.target.wants/systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service"},
	{"sockets.target.wants/systemd-networkd.socket", "/lib/systemd/system/systemd-networkd.socket"},
	{"dbus-org.freedesktop.network1.service", "/lib/systemd/system/systemd-networkd.service"},
}

// debianDisable are links Debian's packages make that a container has no use
// for: getty@tty1 waits for a virtual terminal (/dev/tty0) that a guest does
// not have (its condition would skip it; disabling keeps the unit list clean).
var debianDisable = []string{
	"getty.target.wants/getty@tty1.service",
}

// ConfigureDebian turns a pristine debootstrap tree in dir into a vmlite guest:
// the files of templates/debian (eth0's .network file, networkd.conf drop-in,
// /etc/hosts, /etc/fstab), an empty /etc/machine-id, no /etc/hostname, and
// the units of debianEnable/debianDisable. It touches nothing outside dir and
// needs no root: tests run it on a small fake tree.
func ConfigureDebian(dir string, c DebianConfig) error {
	t, err := openTree(dir)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := installFiles("debian", t); err != nil {
		return err
	}
	if c.DHCP {
		if err := installFiles("debian-dhcp", t); err != nil {
			return err
		}
	} else if err := t.remove("etc/systemd/network/80-vmlite-eth0.network.d/dhcp.conf"); err != nil { // a --force rebuild
		return err
	}

	// Per systemd's Container Interface, an empty /etc/machine-id makes
	// systemd generate an id when the guest boots (from $container_uuid when
	// the manager passes one; it then keeps it in the guest's writable
	// /etc/machine-id), and does not count as "first boot" (which would start
	// systemd-firstboot's prompts on the console). debootstrap's postinst
	// wrote a real id: every guest from this tree would share it.
	if err := t.writeFile("etc/machine-id", nil, 0o444); err != nil {
		return err
	}
	// D-Bus reads its own copy first: point it at the (per-boot) machine id.
	if err := t.symlink("/etc/machine-id", "var/lib/dbus/machine-id"); err != nil {
		return err
	}
	// debootstrap copied the host's /etc/hostname; vmlite sets the guest's
	// hostname from the domain, and systemd keeps it when the file is absent.
	if err := t.remove("etc/hostname"); err != nil {
		return err
	}

	const sys = "etc/systemd/system"
	for _, e := range debianEnable {
		if !t.exists(e.unit) {
			return fmt.Errorf("enable %s: unit missing from the tree: %w", filepath.Base(e.unit), fs.ErrNotExist)
		}
		if err := t.symlink(e.unit, path.Join(sys, e.link)); err != nil {
			return err
		}
	}
	for _, l := range debianDisable {
		if err := t.remove(path.Join(sys, l)); err != nil {
			return fmt.Errorf("disable %s: %w", l, err)
		}
	}
	return nil
}

// setRootLogin sets root's password field in dir's /etc/shadow: a
// SHA-512 crypt hash of password (pam_unix reads it whatever its own
// default), an empty field (noPassword: Debian's pam_unix "nullok" lets
// root in without one), or "*" (locked). The hash is made here, not by the
// tree's own chpasswd: the tree may be a guest's, and running its programs
// as host root would run what the guest chose.
func setRootLogin(_ context.Context, dir, password string, noPassword bool) error {
	field := "*"
	switch {
	case password != "":
		h, err := HashPassword(password)
		if err != nil {
			return err
		}
		field = h
	case noPassword:
		field = ""
	}
	t, err := openTree(dir)
	if err != nil {
		return err
	}
	defer t.Close()
	b, err := t.readFile("etc/shadow")
	if err != nil {
		return fmt.Errorf("read /etc/shadow: %w", err)
	}
	nb, err := SetShadowPassword(b, "root", field)
	if err != nil {
		return err
	}
	// Rewrite in place: the file keeps its owner and mode (root:shadow 0640).
	if err := t.rewrite("etc/shadow", nb); err != nil {
		return fmt.Errorf("write /etc/shadow: %w", err)
	}
	return nil
}

// HashPassword returns password's SHA-512 crypt(3) hash ("$6$SALT$..."),
// with a random salt, as shadow(5) holds it.
func HashPassword(password string) (string, error) {
	if strings.ContainsAny(password, "\n\x00") {
		return "", fmt.Errorf("a password may not hold a newline or NUL")
	}
	h, err := sha512_crypt.New().Generate([]byte(password), nil)
	if err != nil {
		return "", fmt.Errorf("hash the root password: %w", err)
	}
	return h, nil
}

// SetShadowPassword returns shadow(5) data with user's password field (the
// second) replaced by field, every other byte unchanged.
func SetShadowPassword(data []byte, user, field string) ([]byte, error) {
	if strings.ContainsAny(field, ":\n") {
		return nil, fmt.Errorf("shadow password field may not hold ':' or a newline")
	}
	lines := strings.SplitAfter(string(data), "\n")
	found := false
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		f := strings.Split(body, ":")
		if len(f) < 2 || f[0] != user {
			continue
		}
		f[1] = field
		lines[i] = strings.Join(f, ":") + l[len(body):]
		found = true
	}
	if !found {
		return nil, fmt.Errorf("no %s entry in /etc/shadow", user)
	}
	return []byte(strings.Join(lines, "")), nil
}
