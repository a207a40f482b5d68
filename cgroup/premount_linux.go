package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// PremountV1 makes, as detached mounts (fsopen, fsmount), the host's v1
// hierarchies as MountGuest would mount them for a guest without a user
// namespace: rooted at the caller's cgroup namespace, read-only but for
// named hierarchies. It is for a pre-forked init stage already in its
// guest's (spare) cgroups and cgroup namespace: the mounts, each of which
// takes the kernel's cgroup mutex, are then made while it waits, not
// during a start. The result maps a hierarchy's directory name under
// /sys/fs/cgroup ("memory", "cpu,cpuacct") to its mount fd, for
// MountGuest; cgroup2 hierarchies are left out (the stage may change
// cgroup namespace for them when taken). On a v2 host, and in a user
// namespace (a mapped guest's stage, whose hierarchies stay writable),
// it makes none.
func PremountV1() (map[string]int, error) {
	if userns, err := inUserNS(); err != nil || userns {
		return nil, err
	}
	host, err := hostMounts()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, hm := range host {
		if hm.FSType != "cgroup" {
			continue
		}
		opts := hm.V1Options()
		attr := unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
		if !strings.Contains(opts, "name=") {
			attr |= unix.MOUNT_ATTR_RDONLY
		}
		fd, err := fsmountCgroup(opts, attr)
		if err != nil {
			ClosePremounts(out)
			return nil, fmt.Errorf("premount cgroup (%s): %w", opts, err)
		}
		out[filepath.Base(hm.MountPoint)] = fd
	}
	return out, nil
}

// ClosePremounts closes what PremountV1 returned and MountGuest left.
func ClosePremounts(pre map[string]int) {
	for k, fd := range pre {
		unix.Close(fd)
		delete(pre, k)
	}
}

// fsmountCgroup makes one detached v1 cgroup mount with options opts (as
// mount(2) takes them) and mount attributes attr.
func fsmountCgroup(opts string, attr int) (int, error) {
	fs, err := unix.Fsopen("cgroup", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, &os.SyscallError{Syscall: "fsopen", Err: err}
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetString(fs, "source", "cgroup"); err != nil {
		return -1, &os.SyscallError{Syscall: "fsconfig source", Err: err}
	}
	for _, o := range strings.Split(opts, ",") {
		if o == "" {
			continue
		}
		if k, v, ok := strings.Cut(o, "="); ok {
			err = unix.FsconfigSetString(fs, k, v)
		} else {
			err = unix.FsconfigSetFlag(fs, o)
		}
		if err != nil {
			return -1, &os.SyscallError{Syscall: "fsconfig " + o, Err: err}
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, &os.SyscallError{Syscall: "fsconfig create", Err: err}
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return -1, &os.SyscallError{Syscall: "fsmount", Err: err}
	}
	return mnt, nil
}
