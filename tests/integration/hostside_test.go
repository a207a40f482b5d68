//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// The host-side escape suite. TestEscapeSuite attacks the kernel from inside
// guests; these tests attack the code vmlite itself runs as host root on a
// guest's behalf, on paths and files the guest controls: exec, exec --user,
// the start probes, mount point creation. Every attack is made from inside a
// mapped and an unmapped guest, and every assertion reads the host back
// through canaries (a file or directory in a test's temporary directory, the
// hostname, a sysctl read, never written). Nothing here changes host state
// when the defect is present: the "evil" programs only write canary files
// inside the guest's own root, and a hang is ended by the test's deadline.

// hostSideCases are the guest kinds every attack is made from.
var hostSideCases = []struct {
	name  string
	idmap bool
}{{"mapped", true}, {"unmapped", false}}

// hostCanary is host state read before and after an attack.
type hostCanary struct {
	hostname, sysctl string
}

// readHostCanary reads the host's hostname and a host-wide sysctl (read, never written).
func readHostCanary(t *testing.T) hostCanary {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/sys/kernel/domainname")
	if err != nil {
		t.Fatal(err)
	}
	return hostCanary{h, string(b)}
}

func (c hostCanary) check(t *testing.T) {
	t.Helper()
	if now := readHostCanary(t); now != c {
		t.Errorf("host changed: %+v, was %+v", now, c)
	}
}

// runTimeout runs vmlite with a deadline: a hang (the defect) ends as a
// failure instead of blocking the suite. timedOut reports the deadline.
func (h *harness) runTimeout(d time.Duration, args ...string) (r result, timedOut bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--root", h.root}, args...)...)
	cmd.Env = append(os.Environ(), h.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return result{out.String(), errb.String(), -1}, true
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			h.t.Fatalf("run vmlite %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}, false
}

// bootGuest starts a busybox guest and waits for its boot.
func bootGuest(t *testing.T, h *harness, prefix string, idmap bool) (name, xml, rootfs string) {
	t.Helper()
	name = h.uniqueName(prefix)
	xml, rootfs = h.busybox(name, idmap)
	h.must("start", xml)
	h.waitConsole(name, "BOOTED "+name)
	return name, xml, rootfs
}

// hostTemp is a directory of the host outside every guest's root, which a
// guest's root could not write if it reached it (0700 root).
func hostTemp(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// capEff is the CapEff mask in a /proc/PID/status text.
func capEff(t *testing.T, status string) uint64 {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no CapEff in %q", status)
	return 0
}

// TestHostSideExecInitChroot is the issue-13 escape: the guest chroots its
// own init into a tree where /proc/self/fd/N leads to a program of its
// choosing; `vmlite exec` then used to run that program as host root (with
// CAP_SYS_ADMIN in the host's user namespace for an unmapped guest). The
// evil program only records that it ran, with its CapEff and uid_map, in a
// canary file in the guest's own root. After the fix exec enters the
// guest's mount namespace (not its init's chroot), runs nothing by a path
// before it holds only the guest's privileges, and the command runs with
// the guest's capabilities.
func TestHostSideExecInitChroot(t *testing.T) {
	for _, tc := range hostSideCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			canary := readHostCanary(t)
			name, _, rootfs := bootGuest(t, h, "it-hs-chroot", tc.idmap)
			before := h.status(name).InitPID
			script := `set -e
mkdir -p /fake/bin /fake/proc/self/fd /fake/usr/sbin /fake/mnt
cp /bin/busybox /fake/bin/; ln -s busybox /fake/bin/sh
printf '#!/bin/sh\nB=/bin/busybox\n$B echo ran > /evil-ran\n$B mount -t proc proc /mnt && $B grep CapEff /mnt/self/status >> /evil-ran && $B cat /mnt/self/uid_map >> /evil-ran\n' > /fake/evil
chmod 755 /fake/evil
for n in 3 4 5 6 7 8 9 10 11 12; do ln -s /evil /fake/proc/self/fd/$n; done
rm /sbin/init
printf '#!/bin/sh\nexec /usr/sbin/chroot /fake /bin/busybox sleep 1000000\n' > /sbin/init
chmod 755 /sbin/init
(sleep 1; reboot -f) >/dev/null 2>&1 &
`
			h.must("exec", name, "--", "sh", "-c", script)
			testutil.WaitFor(t, 60*time.Second, "the guest's init restarted in its chroot", func() bool {
				st := h.status(name)
				if st.State != "running" || st.InitPID == before || st.InitPID <= 0 {
					return false
				}
				root, err := os.Readlink(fmt.Sprintf("/proc/%d/root", st.InitPID))
				return err == nil && strings.HasSuffix(root, "/fake")
			})
			r, hung := h.runTimeout(60*time.Second, "exec", name, "--", "cat", "/proc/self/status")
			if hung {
				t.Fatalf("exec hung")
			}
			if b, err := os.ReadFile(filepath.Join(rootfs, "fake", "evil-ran")); err == nil {
				t.Fatalf("vmlite exec ran the guest's program by a path in its init's chroot:\n%s", b)
			}
			if r.code != 0 {
				t.Fatalf("exec in the chrooted guest: %v", r)
			}
			const sysAdmin = 1 << 21
			if eff := capEff(t, r.stdout); !tc.idmap && eff&sysAdmin != 0 {
				t.Errorf("the command holds CAP_SYS_ADMIN (CapEff %x) in an unmapped guest", eff)
			}
			r = h.must("exec", name, "--", "cat", "/proc/self/uid_map")
			if f := strings.Fields(r.stdout); tc.idmap && (len(f) < 3 || f[1] == "0") {
				t.Errorf("the command runs in the host's user namespace: uid_map %q", r.stdout)
			}
			canary.check(t)
		})
	}
}

// TestHostSideExecUser: `exec --user` resolves the user in the guest's
// /etc/passwd and /etc/group. The guest points them at host files through
// absolute symlinks (a canary passwd with ids and a home that exist only on
// the host) and at FIFOs, on the host and in the guest: the ids must be the
// guest's or refused, and exec must never hang.
func TestHostSideExecUser(t *testing.T) {
	host := hostTemp(t)
	hostPasswd := filepath.Join(host, "passwd")
	if err := os.WriteFile(hostPasswd, []byte("leak:x:4242:4343:host:/host-only-home:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostFIFO := filepath.Join(host, "fifo")
	if err := unix.Mkfifo(hostFIFO, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostSideCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			canary := readHostCanary(t)
			name, _, _ := bootGuest(t, h, "it-hs-user", tc.idmap)
			h.must("exec", name, "--", "sh", "-c", "cp /etc/passwd /etc/passwd.real; cp /etc/group /etc/group.real")
			for _, a := range []struct {
				name, setup, user string
			}{
				{"passwd symlink to a host file", "ln -sf " + hostPasswd + " /etc/passwd", "leak"},
				{"passwd symlink to a host FIFO", "ln -sf " + hostFIFO + " /etc/passwd", "leak"},
				{"group symlink to a host FIFO", "ln -sf " + hostFIFO + " /etc/group", "root:root"},
				{"passwd is a guest FIFO", "rm -f /etc/passwd; mkfifo /etc/passwd", "leak"},
				{"passwd relative symlink climbing out", "ln -sf ../../../../../../../../../../.." + hostPasswd + " /etc/passwd", "leak"},
				// Bind tricks need CAP_SYS_ADMIN: a mapped guest's own mounts.
				{"guest FIFO bind-mounted over passwd", "mkfifo /tmp/fifo; mount --bind /tmp/fifo /etc/passwd", "leak"},
				{"tmpfs over /proc with fake fd links", "mount -t tmpfs tmpfs /proc && mkdir -p /proc/self/fd && for n in 3 4 5 6 7 8 9; do ln -s /bin/false /proc/self/fd/$n; done", "root"},
			} {
				h.must("exec", name, "--", "sh", "-c", "umount /proc/self/fd 2>/dev/null; umount /etc/passwd /proc 2>/dev/null; mount | grep -q ' /proc ' || mount -t proc proc /proc; rm -f /etc/passwd /etc/group /tmp/fifo; cp /etc/passwd.real /etc/passwd; cp /etc/group.real /etc/group")
				if r := h.run("exec", name, "--", "sh", "-c", a.setup); r.code != 0 {
					if tc.idmap {
						t.Fatalf("%s: set-up: %v", a.name, r)
					}
					t.Logf("n/a in an unmapped guest: %s (%s)", a.name, strings.TrimSpace(r.stderr))
					continue
				}
				r, hung := h.runTimeout(30*time.Second, "exec", "--user", a.user, name, "--", "sh", "-c", "id -u; id -g; echo $HOME")
				if hung {
					t.Errorf("%s: exec --user %s hung", a.name, a.user)
					continue
				}
				if strings.Contains(r.stdout, "4242") || strings.Contains(r.stdout, "host-only-home") {
					t.Errorf("%s: exec --user %s took the host's ids: %v", a.name, a.user, r)
				}
				if a.user == "leak" && r.code == 0 {
					t.Errorf("%s: exec --user %s succeeded with a user the guest does not have: %v", a.name, a.user, r)
				}
				if a.user == "root" && (r.code != 0 || !strings.HasPrefix(r.stdout, "0\n0\n")) {
					t.Errorf("%s: exec --user root: %v", a.name, r)
				}
			}
			canary.check(t)
		})
	}
}

// TestHostSideStartProbe: before a start vmlite probes the guest's init
// (which init system: its stop signal). The guest makes /sbin/init a FIFO,
// or a symlink through an absolute link into a host directory; the next
// start must end (a clear error) and never read or block on a host file.
func TestHostSideStartProbe(t *testing.T) {
	host := hostTemp(t)
	hostFIFO := filepath.Join(host, "init")
	if err := unix.Mkfifo(hostFIFO, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostSideCases {
		// Short names: the subtest's name is in its state root, which
		// holds unix sockets (108 bytes at most).
		for _, a := range []struct{ name, setup string }{
			{"fifo", "rm -f /sbin/init; mkfifo /sbin/init"},
			{"hostfifo", "rm -f /sbin/init; ln -s " + hostFIFO + " /sbin/init"},
			{"hostsbin", "mv /sbin /sbin.real; ln -s " + host + " /sbin"},
		} {
			t.Run(tc.name+"/"+a.name, func(t *testing.T) {
				h := newHarness(t)
				canary := readHostCanary(t)
				name := h.uniqueName("it-hs-probe")
				xml, _ := h.busybox(name, tc.idmap)
				h.must("define", xml)
				h.must("start", name)
				h.waitConsole(name, "BOOTED "+name)
				h.must("exec", name, "--", "sh", "-c", a.setup)
				h.must("destroy", name)
				r, hung := h.runTimeout(60*time.Second, "start", name)
				if hung {
					t.Fatalf("start hung on the guest's /sbin/init")
				}
				if r.code == 0 {
					t.Errorf("start with a broken /sbin/init succeeded: %v", r)
				}
				h.run("destroy", name)
				h.must("undefine", name)
				canary.check(t)
			})
		}
	}
}

// TestHostSideMountPoints: __init creates the mount points of <filesystem>
// targets, /proc, /sys, /run, /dev... in the guest's root before
// pivot_root. The guest replaces their parents with absolute symlinks into
// a host directory (0700 root); the next boot must create nothing there:
// it follows the links inside the guest's root, or refuses them by name.
func TestHostSideMountPoints(t *testing.T) {
	for _, tc := range hostSideCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			canary := readHostCanary(t)
			host := hostTemp(t)
			src := t.TempDir()
			name := h.uniqueName("it-hs-mkdir")
			xml, _ := h.busybox(name, tc.idmap)
			h.must("define", xml)
			h.must("start", name)
			h.waitConsole(name, "BOOTED "+name)
			// What the guest leaves for its next boot: its /mnt leads into
			// the host directory; /media to a path there that does not exist.
			h.must("exec", name, "--", "sh", "-c", "rm -rf /mnt /media; ln -s "+host+" /mnt; ln -s "+host+"/media /media")
			h.must("destroy", name)
			addBindMount(t, xml, src, "/mnt/data/deep")
			addBindMount(t, xml, src, "/media/deep")
			h.must("define", xml)
			r, hung := h.runTimeout(60*time.Second, "start", name)
			if hung {
				t.Fatalf("start hung")
			}
			if r.code == 0 {
				h.waitConsole(name, "BOOTED "+name)
				// Inside, the mounts are where the guest's links lead.
				h.must("exec", name, "--", "sh", "-c", "test -d /mnt/data/deep && test -d /media/deep")
				h.run("destroy", name)
			} else if !strings.Contains(r.stderr, "create mount point /mnt/data/deep") {
				// Refusing a dangling link as a mount point's parent is
				// safe too, but then with an error that names it.
				t.Errorf("start through the guest's links: %v", r)
			}
			ents, err := os.ReadDir(host)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) > 0 {
				t.Errorf("a boot created %v in a host directory through the guest's symlink (start: %v)", ents[0].Name(), r)
			}
			h.must("undefine", name)
			canary.check(t)
		})
	}
}
