package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/internal/detachedfs"
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
//     Without a user namespace the tmpfs is the supervisor's skeleton
//     (below), read-only from the start.
//
// The kernel lets a cgroup namespace mount only hierarchies that exist
// already, so the host's list (read from /proc/self/mountinfo before
// anything is mounted at target) is exactly what the guest gets. A guest
// systemd that wants a hierarchy the host lacks logs an error and goes on.
//
// skeleton, when not -1, is a detached mount (the supervisor's clone of its
// SkeletonFS) that takes the tmpfs's place for a guest without a user
// namespace: the same directories and links, read-only already, shared by
// all the supervisor's guests instead of a superblock each. MountGuest
// closes it; it falls back to a tmpfs of its own when the skeleton lacks a
// directory (the host's hierarchies changed since it was made).
//
// pre, when not nil, holds PremountV1's mounts by directory name: those
// are attached instead of mounted (a guest without a user namespace only);
// MountGuest closes and removes each one it attaches.
//
// host is the host's v1 hierarchies as DetectMounts read them; nil: read
// from /proc/self/mountinfo here.
func MountGuest(mode Mode, host []Mount, target string, skeleton int, pre map[string]int) error {
	if skeleton >= 0 {
		defer unix.Close(skeleton)
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	if mode == V2 {
		return mount("cgroup2", target, "cgroup2", cgroupMountFlags, "")
	}
	if host == nil {
		var err error
		if host, err = hostMounts(); err != nil {
			return err
		}
	}
	userns, err := inUserNS()
	if err != nil {
		return err
	}
	dirs, links := guestLayout(host)
	useSkeleton := skeleton >= 0 && !userns && hasDirs(skeleton, dirs)
	if useSkeleton {
		if err := unix.MoveMount(skeleton, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach the cgroup skeleton on %s: %w", target, &os.SyscallError{Syscall: "move_mount", Err: err})
		}
	} else {
		if err := mount("tmpfs", target, "tmpfs", cgroupMountFlags, "mode=755"); err != nil {
			return err
		}
		for _, d := range dirs {
			if err := os.Mkdir(filepath.Join(target, d), 0o755); err != nil {
				return fmt.Errorf("create %s: %w", filepath.Join(target, d), err)
			}
		}
		for _, l := range links {
			if err := os.Symlink(l[1], filepath.Join(target, l[0])); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("link %s to %s: %w", l[0], l[1], err)
			}
		}
	}
	for _, hm := range host {
		name := filepath.Base(hm.MountPoint)
		dir := filepath.Join(target, name)
		if fd, ok := pre[name]; ok && !userns && hm.FSType == "cgroup" {
			delete(pre, name)
			err := unix.MoveMount(fd, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH)
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("attach the premounted cgroup %s on %s: %w", name, dir, &os.SyscallError{Syscall: "move_mount", Err: err})
			}
			continue
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
	}
	if !userns && !useSkeleton {
		return mount("", target, "", unix.MS_REMOUNT|unix.MS_RDONLY|cgroupMountFlags, "mode=755")
	}
	return nil
}

// hostMounts are the host's cgroup hierarchies as this process sees them.
func hostMounts() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	ms, err := ParseMountInfo(string(b))
	if err != nil {
		return nil, err
	}
	return CgroupMounts(ms, DefaultRoot), nil
}

// guestLayout is what a v1 guest's /sys/fs/cgroup holds below the
// hierarchies: a directory per host hierarchy ("cpu,cpuacct") and a link
// per co-mounted controller (cpu -> cpu,cpuacct), as {name, target}.
func guestLayout(host []Mount) (dirs []string, links [][2]string) {
	for _, hm := range host {
		name := filepath.Base(hm.MountPoint)
		dirs = append(dirs, name)
		if hm.FSType == "cgroup2" {
			continue
		}
		opts := hm.V1Options()
		if strings.Contains(opts, "name=") {
			continue
		}
		for _, c := range strings.Split(opts, ",") {
			if c == name || !contains(strings.Split(name, ","), c) {
				continue
			}
			links = append(links, [2]string{c, name})
		}
	}
	return dirs, links
}

// hasDirs reports whether the tree at fd has every directory in dirs.
func hasDirs(fd int, dirs []string) bool {
	for _, d := range dirs {
		var st unix.Stat_t
		if unix.Fstatat(fd, d, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return false
		}
	}
	return true
}

// SkeletonFS makes the detached, read-only tmpfs a v1 guest without a
// user namespace gets at /sys/fs/cgroup (MountGuest's skeleton): the
// host's hierarchies' directories and the co-mounted controllers' links,
// owned by the host's root, on a read-only superblock. Nothing is
// mounted in it: each guest mounts its own hierarchies on its clone.
func SkeletonFS() (int, error) {
	host, err := hostMounts()
	if err != nil {
		return -1, err
	}
	dirs, links := guestLayout(host)
	mnt, err := detachedfs.Tmpfs([][2]string{{"mode", "0755"}}, false, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, err
	}
	for _, d := range dirs {
		if err := unix.Mkdirat(mnt, d, 0o755); err != nil {
			unix.Close(mnt)
			return -1, fmt.Errorf("create %s in the cgroup skeleton: %w", d, &os.SyscallError{Syscall: "mkdirat", Err: err})
		}
	}
	for _, l := range links {
		if err := unix.Symlinkat(l[1], mnt, l[0]); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(mnt)
			return -1, fmt.Errorf("link %s in the cgroup skeleton: %w", l[0], &os.SyscallError{Syscall: "symlinkat", Err: err})
		}
	}
	// Filled: the mount and the superblock turn read-only.
	if err := readOnly(mnt); err != nil {
		unix.Close(mnt)
		return -1, err
	}
	return mnt, nil
}

// readOnly makes the detached mount mnt and its superblock read-only.
func readOnly(mnt int) error {
	if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return &os.SyscallError{Syscall: "mount_setattr", Err: err}
	}
	fc, err := unix.Fspick(mnt, "", unix.FSPICK_EMPTY_PATH|unix.FSPICK_CLOEXEC)
	if err != nil {
		return &os.SyscallError{Syscall: "fspick", Err: err}
	}
	defer unix.Close(fc)
	if err := unix.FsconfigSetFlag(fc, "ro"); err != nil {
		return &os.SyscallError{Syscall: "fsconfig ro", Err: err}
	}
	if err := unix.FsconfigReconfigure(fc); err != nil {
		return &os.SyscallError{Syscall: "fsconfig reconfigure", Err: err}
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
