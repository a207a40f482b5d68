package procfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/plan"
)

// Rebind binds the server's files at mnt over a running guest's again,
// inside the mount namespace of its init: what a restarted server does for
// every guest it serves, whose binds of the dead server's mount stay dead.
//
// The files are cloned here, in the host's mount namespace, as detached
// mounts (open_tree OPEN_TREE_CLONE), then a thread of this process that
// no longer shares its filesystem context (unshare CLONE_FS, which setns
// into a mount namespace requires of a threaded process) enters the
// guest's namespace, and attaches each clone over the dead bind
// (move_mount). That thread is never given back to the Go runtime: it
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
	ns, _, err := openGuestNS(e.InitPID, rel, mode)
	if err != nil {
		return err
	}
	defer unix.Close(ns)
	return attachClones(e, ns, mnt)
}

// RebindOthers does what Rebind does in the other mount namespaces of the
// guest: those its processes made (a systemd service's PrivateTmp=, an
// `unshare -m`), found from the processes in its cgroup, at most
// maxOtherNS of them (a guest could make any number; past that, theirs
// keep the dead binds). It returns how many it bound.
func RebindOthers(e Entry, mode cgroup.Mode, cgRoot, mnt string) (int, error) {
	rel, err := e.rel()
	if err != nil {
		return 0, err
	}
	m, err := cgroup.New(cgRoot, mode, plan.Cgroup{Partition: e.Partition, Name: e.CgroupDir})
	if err != nil {
		return 0, err
	}
	key := "memory"
	if mode == cgroup.V2 {
		key = "unified"
	}
	dir, ok := m.Paths()[key]
	if !ok {
		return 0, fmt.Errorf("no %s cgroup", key)
	}
	file := "cgroup.procs"
	seen := map[uint64]bool{}
	if initNS, ino, err := openGuestNS(e.InitPID, rel, mode); err == nil {
		unix.Close(initNS)
		seen[ino] = true // Rebind's
	}
	var pids []int
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil // a child cgroup removed meanwhile
		}
		b, _ := os.ReadFile(filepath.Join(p, file))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	n := 0
	var errs []error
	for _, pid := range pids {
		if n >= maxOtherNS {
			break
		}
		ns, ino, err := openGuestNS(pid, rel, mode)
		if err != nil {
			continue // ended meanwhile
		}
		if seen[ino] {
			unix.Close(ns)
			continue
		}
		seen[ino] = true
		if err := attachClones(e, ns, mnt); err != nil {
			errs = append(errs, fmt.Errorf("mount namespace of %d: %w", pid, err))
		} else {
			n++
		}
		unix.Close(ns)
	}
	return n, errors.Join(errs...)
}

// maxOtherNS bounds the guest-made mount namespaces bound again per guest.
const maxOtherNS = 64

// attachWait bounds one namespace's attach: a guest may have mounted a
// FUSE filesystem of its own under the paths, whose server need not answer.
const attachWait = 5 * time.Second

// openGuestNS opens the mount namespace of pid, a process of the guest
// whose cgroup is rel (checked again once the namespace is open, so that a
// reused pid is never entered), and returns it with its inode number.
func openGuestNS(pid int, rel string, mode cgroup.Mode) (int, uint64, error) {
	inGuest := func() error {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			return fmt.Errorf("process %d: %w", pid, err)
		}
		path, err := ParseProcCgroup(string(b), mode)
		if err != nil {
			return err
		}
		if p := strings.TrimPrefix(path, "/"); p != rel && !strings.HasPrefix(p, rel+"/") {
			return fmt.Errorf("pid %d is not the guest's (cgroup %s)", pid, path)
		}
		return nil
	}
	if err := inGuest(); err != nil {
		return -1, 0, err
	}
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("open mount namespace of %d: %w", pid, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(ns, &st); err != nil {
		unix.Close(ns)
		return -1, 0, err
	}
	if err := inGuest(); err != nil {
		unix.Close(ns)
		return -1, 0, err
	}
	return ns, st.Ino, nil
}

// attachClones clones the guest's files at mnt and attaches them in the
// mount namespace ns, within attachWait.
func attachClones(e Entry, ns int, mnt string) error {
	trees := make([]int, len(Files))
	closeTrees := func() {
		for _, t := range trees {
			if t > 0 {
				unix.Close(t)
			}
		}
	}
	for i, f := range Files {
		src := filepath.Join(mnt, GuestsDir, e.Name, f)
		t, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			closeTrees()
			return &os.PathError{Op: "open_tree", Path: src, Err: err}
		}
		trees[i] = t
	}
	// The namespace fd is the caller's: the attaching thread gets its own
	// copy, which outlives an attach given up on.
	nsCopy, err := unix.Dup(ns)
	if err != nil {
		closeTrees()
		return err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		defer closeTrees()
		defer unix.Close(nsCopy)
		done <- attachIn(nsCopy, trees)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(attachWait):
		return fmt.Errorf("gave up after %s (a file of the guest's does not answer)", attachWait)
	}
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
