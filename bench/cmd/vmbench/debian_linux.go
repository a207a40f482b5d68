package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// debianInit is systemd's binary in a Debian (merged /usr) rootfs: the
// file /sbin/init leads to, whose exec the harness watches.
const debianInit = "usr/lib/systemd/systemd"

// debianSettle is the least wait after a systemd guest's marker before its
// memory is read (the anchors took 1 s: journald and logind settle later
// than busybox's shell).
const debianSettle = time.Second

// markerUnit marks the boot once multi-user.target is reached and the
// start of the shutdown: stopping it is the first thing systemd does on
// poweroff (it is ordered after multi-user.target, so it stops before
// everything multi-user.target pulled in). A file costs no peer command:
// every peer is timed alike, as with busybox's rcS and rcK.
const markerUnit = `[Unit]
Description=vmbench boot and shutdown markers
After=multi-user.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/touch /marker/booted
ExecStop=/bin/touch /marker/shutdown

[Install]
WantedBy=multi-user.target
`

// libvirtDebianSkip is why libvirt-lxc boots no systemd guest here.
const libvirtDebianSkip = "libvirt-lxc left out of the debian section: libvirt 9.0 gives a systemd guest the host's cgroup v1 hierarchies read-write and no cgroup namespace, and the guest's systemd then creates cgroups at the root of the host's hierarchies and mounts the unmounted net_cls/net_prio/perf_event ones (anchors.md, failure 4): the harness does not change the host's cgroups"

// debianBase builds, once per run, the Debian rootfs every Debian guest
// boots a copy of: `vmlite template debian` from the debootstrap cache
// (-debian-cache, the integration tests' cache, so that the tree is a
// copy, not a debootstrap run), plus the marker unit. It keeps the domain
// XML the template printed in b.debXML.
func (b *bench) debianBase() (string, error) {
	dir := filepath.Join(b.work, "deb-base")
	if b.debXML != "" {
		return dir, nil
	}
	// A cache miss runs debootstrap against the Debian mirror: minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, b.vm.bin, "template", "debian", dir, "--no-idmap", "--no-root-password",
		"--cache", b.o.debianCache, "--name", "vmb-deb")
	c.Env = b.vm.env()
	var stdout, stderr strings.Builder
	c.Stdout, c.Stderr = &stdout, &stderr
	logf("debian: vmlite template debian (cache %s)", b.o.debianCache)
	t0 := time.Now()
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("vmlite template debian: %w: %s", err, lastLines(strings.TrimSpace(stderr.String()), 5))
	}
	logf("debian: rootfs ready in %v", time.Since(t0).Round(time.Millisecond))
	if err := os.MkdirAll(filepath.Join(dir, "marker"), 0o755); err != nil {
		return "", err
	}
	// Writable for a guest root that is not host root (vmlite-idmap).
	if err := os.Chmod(filepath.Join(dir, "marker"), 0o1777); err != nil {
		return "", err
	}
	unit := filepath.Join(dir, "etc/systemd/system/vmbench-marker.service")
	if err := os.WriteFile(unit, []byte(markerUnit), 0o644); err != nil {
		return "", err
	}
	if err := os.Symlink("/etc/systemd/system/vmbench-marker.service",
		filepath.Join(dir, "etc/systemd/system/multi-user.target.wants/vmbench-marker.service")); err != nil {
		return "", fmt.Errorf("enable the marker unit: %w", err)
	}
	b.debXML = stdout.String()
	return dir, nil
}

// debianPeers are the section's peers, configured for systemd: vmlite
// without a user namespace but with CAP_SYS_ADMIN (like LXC and nspawn),
// vmlite with the template's default idmap ("vmlite-idmap", the setup
// vmlite recommends), LXC with systemd's halt signal and 512 MiB, nspawn
// with systemd's kill signal. libvirt-lxc is left out (libvirtDebianSkip).
func (b *bench) debianPeers() []peer {
	var out []peer
	for _, p := range b.peers {
		switch pp := p.(type) {
		case *vmlitePeer:
			v := *pp
			v.tmplXML = withSysAdmin(b.debXML)
			out = append(out, &v)
			if pp == b.vm {
				vi := *pp
				vi.label = "vmlite-idmap"
				vi.tmplXML = withIDMap(b.debXML)
				out = append(out, &vi)
			}
		case *lxcPeer:
			l := *pp
			l.halt, l.memBytes = "SIGRTMIN+3", 512<<20
			out = append(out, &l)
		case *nspawnPeer:
			n := *pp
			n.killSignal = "SIGRTMIN+3"
			out = append(out, &n)
		case *libvirtPeer:
			b.note("%s", libvirtDebianSkip)
		}
	}
	return out
}

// debianAll boots the Debian/systemd guest with every peer, each from its
// own copy of the rootfs, in the same forced and graceful sets as the
// busybox guest; the marker is the marker unit's (multi-user.target
// reached), the shutdown marker its ExecStop.
func (b *bench) debianAll() {
	base, err := b.debianBase()
	if err != nil {
		b.note("debian: %v", err)
		return
	}
	var peers []peer
	rootfs := func(p peer) string { return filepath.Join(b.work, "deb-"+p.name()) }
	for _, p := range b.debianPeers() {
		if _, err := run("cp", "-a", base, rootfs(p)); err != nil {
			b.note("debian: %s left out: %v", p.name(), err)
			continue
		}
		peers = append(peers, p)
		b.res.DebianPeers = append(b.res.DebianPeers, p.name())
	}
	// 250 MB each: gone once the section is done.
	defer func() {
		for _, p := range peers {
			if err := os.RemoveAll(rootfs(p)); err != nil {
				logf("debian: %v", err)
			}
		}
	}()
	// One boot each first, to check that systemd reaches "running" with
	// every peer (it is also one more warm-up).
	b.res.DebianState = map[string]string{}
	for _, p := range peers {
		g, err := b.guestFor(p, "vmb-"+shortName(p)+"-dc", rootfs(p))
		if err != nil {
			b.res.DebianState[p.name()] = err.Error()
			continue
		}
		g.initBin = debianInit
		b.res.DebianState[p.name()] = systemState(p, g)
	}
	b.res.DebianCycles, b.res.DebianMemory = b.cycleSets(peers, "d", debianInit, rootfs, max(b.o.settle, debianSettle))
}
