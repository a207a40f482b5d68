package procfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
)

// Rebind binds the server's files at mnt over a running guest's again,
// inside the mount namespace of its init: what a restarted server does for
// every guest it serves, whose binds of the dead server's mount stay dead.
//
// The files are cloned here, in the host's mount namespace, as detached
// mounts (open_tree OPEN_TREE_CLONE), then a thread of this process that
// no longer shares its filesystem context (unshare CLONE_FS, which setns
// into a mount namespace requires of a threaded process) enters the
// guest's namespace, detaches each dead bind and attaches the clone in its
// place (move_mount). That thread is never given back to the Go runtime: it
// ends with its goroutine. A file that is no longer a FUSE mount (the guest
// unmounted it) is left as it is.
//
// The pid is trusted only if it is still in the guest's cgroup: a pid
// reused by another process is not entered.
func Rebind(e Entry, mode cgroup.Mode, mnt string) error {
	rel, err := e.rel()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", e.InitPID))
	if err != nil {
		return fmt.Errorf("init %d: %w", e.InitPID, err)
	}
	path, err := ParseProcCgroup(string(b), mode)
	if err != nil {
		return err
	}
	if p := strings.TrimPrefix(path, "/"); p != rel && !strings.HasPrefix(p, rel+"/") {
		return fmt.Errorf("pid %d is no longer the guest's init (cgroup %s)", e.InitPID, path)
	}
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", e.InitPID), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open mount namespace of %d: %w", e.InitPID, err)
	}
	defer unix.Close(ns)
	trees := make([]int, len(Files))
	defer func() {
		for _, t := range trees {
			if t > 0 {
				unix.Close(t)
			}
		}
	}()
	for i, f := range Files {
		src := filepath.Join(mnt, GuestsDir, e.Name, f)
		t, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return &os.PathError{Op: "open_tree", Path: src, Err: err}
		}
		trees[i] = t
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		done <- attachIn(ns, trees)
	}()
	return <-done
}

func attachIn(ns int, trees []int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return &os.SyscallError{Syscall: "unshare(CLONE_FS)", Err: err}
	}
	if err := unix.Setns(ns, unix.CLONE_NEWNS); err != nil {
		return &os.SyscallError{Syscall: "setns", Err: err}
	}
	var errs []error
	for i, f := range Files {
		target := "/" + f
		var st unix.Statfs_t
		err := unix.Statfs(target, &st)
		if !errors.Is(err, unix.ENOTCONN) && (err != nil || st.Type != fuseMagic) {
			continue // not ours (any more): the guest's choice
		}
		// The new bind goes on top of the dead one, which stays below it,
		// covered: detaching the dead one first would show the kernel's
		// file (the host's numbers) to a guest reading in between.
		// The guest's own namespace: its symlinks are not followed.
		how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS}
		fd, err := unix.Openat2(unix.AT_FDCWD, target, how)
		if err == nil {
			err = unix.MoveMount(trees[i], "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
			unix.Close(fd)
			if err == nil {
				continue
			}
		}
		// The dead mount cannot be opened or covered: replace it (a read
		// in between gets the kernel's file).
		_ = unix.Unmount(target, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		fd, err = unix.Openat2(unix.AT_FDCWD, target, how)
		if err != nil {
			errs = append(errs, &os.PathError{Op: "open", Path: target, Err: err})
			continue
		}
		err = unix.MoveMount(trees[i], "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
		unix.Close(fd)
		if err != nil {
			errs = append(errs, &os.PathError{Op: "move_mount", Path: target, Err: err})
		}
	}
	return errors.Join(errs...)
}
