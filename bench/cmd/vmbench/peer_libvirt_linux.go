package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// libvirtPeer drives libvirt's LXC driver through virsh. libvirtd needs
// two workarounds on this host (anchors.md, failures 1 and 2): a driver
// directory without the qemu driver, and a private mount namespace with
// the cgroup2 mount unmounted.
type libvirtPeer struct {
	work    string
	pidFile string
	daemon  int // the libvirtd we started, 0 if one already ran
	// madeLogDir is the log directory libvirtd and libvirt_lxc need
	// (/var/log/libvirt/lxc), when we had to create it.
	madeLogDir string
	// madeRunDir is /run/libvirt when the libvirtd we started created it
	// (/run is not a tmpfs here: it would outlive the run).
	madeRunDir string
}

const libvirtURI = "lxc:///system"

func (p *libvirtPeer) name() string           { return "libvirt-lxc" }
func (p *libvirtPeer) supervisorName() string { return "libvirt_lxc" }
func (p *libvirtPeer) detached() bool         { return true }

func (p *libvirtPeer) versions() map[string]string {
	return map[string]string{
		"libvirt-daemon-driver-lxc": dpkgVersion("libvirt-daemon-driver-lxc"),
		"libvirt-clients":           dpkgVersion("libvirt-clients"),
	}
}

func (p *libvirtPeer) setup(work string) error {
	if err := ensurePackages("libvirt-daemon-driver-lxc", "libvirt-clients", "libvirt-daemon"); err != nil {
		return err
	}
	p.work = filepath.Join(work, "libvirt")
	if err := os.MkdirAll(p.work, 0o755); err != nil {
		return err
	}
	if _, err := run("virsh", "-c", libvirtURI, "version"); err == nil {
		logf("libvirt-lxc: using the libvirtd that already runs")
		return nil
	}
	// libvirt_lxc refuses to start without its log directory, which the
	// packages (without libvirt-daemon-system) do not create.
	if _, err := os.Stat("/var/log/libvirt"); err != nil {
		if err := os.MkdirAll("/var/log/libvirt/lxc", 0o700); err != nil {
			return err
		}
		p.madeLogDir = "/var/log/libvirt"
	}
	if _, err := os.Stat("/run/libvirt"); err != nil {
		p.madeRunDir = "/run/libvirt"
	}
	drivers := filepath.Join(p.work, "drivers")
	if err := os.MkdirAll(drivers, 0o755); err != nil {
		return err
	}
	sos, _ := filepath.Glob("/usr/lib/*/libvirt/connection-driver/libvirt_driver_*.so")
	for _, so := range sos {
		if strings.Contains(filepath.Base(so), "qemu") {
			continue // its missing libvirt-qemu user takes libvirtd down
		}
		_ = os.Symlink(so, filepath.Join(drivers, filepath.Base(so)))
	}
	p.pidFile = filepath.Join(p.work, "libvirtd.pid")
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		"umount /sys/fs/cgroup/unified 2>/dev/null; exec libvirtd -d -p "+p.pidFile)
	cmd.Env = append(os.Environ(), "LIBVIRT_DRIVER_DIR="+drivers,
		"LIBVIRT_LOG_OUTPUTS=3:file:"+filepath.Join(p.work, "libvirtd.log"))
	if _, err := runCmd(cmd); err != nil {
		return fmt.Errorf("start libvirtd: %w", err)
	}
	end := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(p.pidFile); err == nil {
			p.daemon, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if _, err := run("virsh", "-c", libvirtURI, "version"); err == nil && p.daemon > 0 {
			return nil
		}
		if time.Now().After(end) {
			p.teardown()
			return fmt.Errorf("libvirtd did not answer within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *libvirtPeer) prepare(g *guest) error {
	return os.WriteFile(filepath.Join(g.dir, "domain.xml"), []byte(libvirtDomainXML(g.name, g.rootfs)), 0o644)
}

// libvirtDomainXML is the busybox guest's domain XML for libvirt-lxc.
func libvirtDomainXML(name, rootfs string) string {
	return fmt.Sprintf(`<domain type='lxc'>
  <name>%s</name>
  <memory unit='KiB'>262144</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <filesystem type='mount'><source dir='%s'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
`, name, rootfs)
}

// startCmd creates a transient domain, as `vmlite start FILE` does.
func (p *libvirtPeer) startCmd(g *guest) *exec.Cmd {
	return exec.Command("virsh", "-q", "-c", libvirtURI, "create", filepath.Join(g.dir, "domain.xml"))
}

func (p *libvirtPeer) procs(g *guest) (int, int, error) {
	b, err := os.ReadFile(filepath.Join("/run/libvirt/lxc", g.name+".pid"))
	if err != nil {
		return 0, 0, err
	}
	sup, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, 0, fmt.Errorf("libvirt pid file: %q", b)
	}
	init, err := nsInit(sup)
	return sup, init, err
}

func (p *libvirtPeer) stop(g *guest, forced bool) error {
	if !forced {
		return fmt.Errorf("libvirt-lxc: %s", p.gracefulUnsupported())
	}
	_, err := run("virsh", "-q", "-c", libvirtURI, "destroy", g.name)
	return err
}

func (p *libvirtPeer) gracefulUnsupported() string {
	return "virsh shutdown does nothing to busybox init (no initctl) and --mode signal makes libvirt restart the guest (anchors.md, failure 3)"
}

func (p *libvirtPeer) cleanupGuest(g *guest) {
	_, _ = run("virsh", "-q", "-c", libvirtURI, "destroy", g.name)
}

func (p *libvirtPeer) teardown() {
	out, _ := run("virsh", "-q", "-c", libvirtURI, "list", "--name")
	for _, n := range strings.Fields(out) {
		if strings.HasPrefix(n, "vmb-") {
			_, _ = run("virsh", "-q", "-c", libvirtURI, "destroy", n)
		}
	}
	if p.daemon > 0 {
		_ = unix.Kill(p.daemon, unix.SIGTERM)
		if err := waitGone(15*time.Second, p.daemon); err != nil {
			_ = unix.Kill(p.daemon, unix.SIGKILL)
		}
		p.daemon = 0
	}
	if p.madeLogDir != "" {
		_ = os.RemoveAll(p.madeLogDir)
		p.madeLogDir = ""
	}
	if p.madeRunDir != "" && p.daemon == 0 {
		_ = os.RemoveAll(p.madeRunDir)
		p.madeRunDir = ""
	}
}
