// Package detachedfs makes filesystems as detached mounts (fsopen,
// fsconfig, fsmount): attached nowhere in the caller's mount namespace,
// held by their fd alone, for a guest's __init to clone or attach. One
// place for the sequence the supervisor (masks, device node copies, a
// hot-plugged node's tmpfs) and cgroup (the /sys/fs/cgroup skeleton) use.
package detachedfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// Tmpfs makes a new tmpfs with the options opts (key, value), a read-only
// superblock if ro, and returns it as a detached mount with the mount
// attributes attrs (unix.MOUNT_ATTR_*).
func Tmpfs(opts [][2]string, ro bool, attrs int) (int, error) {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, &os.SyscallError{Syscall: "fsopen", Err: err}
	}
	defer unix.Close(fs)
	for _, kv := range opts {
		if err := unix.FsconfigSetString(fs, kv[0], kv[1]); err != nil {
			return -1, &os.SyscallError{Syscall: "fsconfig " + kv[0], Err: err}
		}
	}
	if ro {
		if err := unix.FsconfigSetFlag(fs, "ro"); err != nil {
			return -1, &os.SyscallError{Syscall: "fsconfig ro", Err: err}
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, &os.SyscallError{Syscall: "fsconfig", Err: err}
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, &os.SyscallError{Syscall: "fsmount", Err: err}
	}
	return mnt, nil
}
