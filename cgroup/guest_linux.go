package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupMountFlags are what every peer uses for cgroup filesystems.
const cgroupMountFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC

// MountGuest builds, at target (the guest's future /sys/fs/cgroup), the
// cgroup filesystems a guest init expects. It must run inside the guest's
// mount namespace and, on the thread that mounts, inside its own cgroup
// namespace, entered (unshare CLONE_NEWCGROUP) after the process was moved
// into its cgroup: each mount then shows the guest's cgroup as "/" and
// nothing above it. The mounts must not propagate to the host, so target's
// mount must be private (or slave) by then.
//
// v2: cgroup2 at target, read-write: the guest's subtree is delegated to it.
//
// v1 (legacy or hybrid), as systemd-nspawn does with a cgroup namespace
// (src/nspawn/nspawn-mount.c, mount_legacy_cgns_supported):
//   - a tmpfs (mode 755) at target;
//   - every host controller hierarchy at target/<host dir name>
//     ("memory", "cpu,cpuacct"), read-only unless the guest has a user
//     namespace (then the kernel's file ownership protects the limits and
//     the guest may use what Delegate gave it), with a symlink per
//     co-mounted controller (cpu -> cpu,cpuacct);
//   - named hierarchies (name=systemd at target/systemd) read-write: systemd
//     tracks its services there;
//   - the cgroup2 mount at target/unified on a hybrid host, read-write;
//   - then the tmpfs itself is made read-only (again not with a user
//     namespace), so the guest cannot add hierarchies of its own.
//
// The kernel lets a cgroup namespace mount only hierarchies that exist
// already, so the host's list (read from /proc/self/mountinfo before
// anything is mounted at target) is exactly what the guest gets. A guest
// systemd that wants a hierarchy the host lacks logs an error and goes on.
func MountGuest(mode Mode, target string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	ms, err := ParseMountInfo(string(b))
	if err != nil {
		return err
	}
	host := CgroupMounts(ms, DefaultRoot)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	if mode == V2 {
		return mount("cgroup2", target, "cgroup2", cgroupMountFlags, "")
	}
	userns, err := inUserNS()
	if err != nil {
		return err
	}
	if err := mount("tmpfs", target, "tmpfs", cgroupMountFlags, "mode=755"); err != nil {
		return err
	}
	for _, hm := range host {
		name := filepath.Base(hm.MountPoint)
		dir := filepath.Join(target, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		if hm.FSType == "cgroup2" {
			if err := mount("cgroup2", dir, "cgroup2", cgroupMountFlags, ""); err != nil {
				return err
			}
			continue
		}
		opts := hm.V1Options()
		if err := mount("cgroup", dir, "cgroup", cgroupMountFlags, opts); err != nil {
			return err
		}
		if strings.Contains(opts, "name=") {
			continue // systemd's own hierarchy: writable
		}
		if !userns {
			// Only this mount becomes read-only, not the superblock the host shares.
			if err := mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|cgroupMountFlags, ""); err != nil {
				return err
			}
		}
		for _, c := range strings.Split(opts, ",") {
			if c == name || !contains(strings.Split(name, ","), c) {
				continue
			}
			if err := os.Symlink(name, filepath.Join(target, c)); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("link %s to %s: %w", c, name, err)
			}
		}
	}
	if !userns {
		return mount("", target, "", unix.MS_REMOUNT|unix.MS_RDONLY|cgroupMountFlags, "mode=755")
	}
	return nil
}

func mount(src, dst, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
		what := fstype
		if what == "" {
			what = "remount"
		}
		return fmt.Errorf("mount %s (%s) on %s: %w", what, data, dst, &os.SyscallError{Syscall: "mount", Err: err})
	}
	return nil
}

// inUserNS reports whether the caller is in a user namespace other than the
// initial one, whose uid_map is the identity over every id.
func inUserNS() (bool, error) {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false, fmt.Errorf("read uid map: %w", err)
	}
	return strings.Join(strings.Fields(string(b)), " ") != "0 0 4294967295", nil
}
