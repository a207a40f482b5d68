package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// prepareRoot makes every mount private (nothing the guest does propagates
// to the host) and attaches the guest's root filesystem, a tree the
// supervisor cloned (and idmapped for a mapped guest), at the attach
// directory: a path the guest's mapped root can traverse, unlike the
// rootfs's own path, whose parents may be 0700 root.
func (g *guest) prepareRoot() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return stepErr("make mounts private", "", &os.PathError{Op: "mount", Path: "/", Err: err})
	}
	if err := g.openHostNodes(); err != nil {
		return err
	}
	if g.shared() {
		g.root = "/"
		return nil
	}
	if g.rootTree < 0 || g.attachDir == "" {
		return stepErr("attach root filesystem", g.p.Rootfs.XMLPath, fmt.Errorf("no root tree from the supervisor"))
	}
	if err := unix.MoveMount(g.rootTree, "", unix.AT_FDCWD, g.attachDir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return stepErr("attach root filesystem", g.p.Rootfs.XMLPath, &os.PathError{Op: "move_mount", Path: g.attachDir, Err: err})
	}
	unix.Close(g.rootTree)
	g.rootTree = -1
	g.root = g.attachDir
	return nil
}

// openHostNodes opens the host device nodes and console slaves the guest
// gets, by path, in our own mount namespace (so their fds are valid mount
// sources here), before /dev is covered.
func (g *guest) openHostNodes() error {
	g.hostNodes = map[string]int{}
	paths := make([]string, 0, len(stdDevices)+len(g.p.Devices)+len(g.consolePaths))
	for _, n := range stdDevices {
		paths = append(paths, "/dev/"+n)
	}
	for _, d := range g.p.Devices {
		paths = append(paths, d.HostPath)
	}
	paths = append(paths, g.consolePaths...)
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return stepErr("open host device "+p, "", &os.PathError{Op: "open", Path: p, Err: err})
		}
		g.hostNodes[p] = fd
	}
	return nil
}

// pivotRoot makes the new root the guest's / and detaches the old root, so
// nothing of the host's tree stays reachable.
func (g *guest) pivotRoot() error {
	if g.root == "/" {
		return nil
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detach then removes it without needing a put_old directory (runc's trick).
	for _, fd := range g.hostNodes {
		unix.Close(fd) // host paths are about to go away
	}
	g.hostNodes = nil
	if g.rootFile != nil {
		g.rootFile.Close() // guest paths resolve in the only root from here on
		g.rootFile = nil
	}
	if err := unix.Chdir(g.root); err != nil {
		return stepErr("pivot_root", g.p.Rootfs.XMLPath, &os.PathError{Op: "chdir", Path: g.root, Err: err})
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return stepErr("pivot_root", g.p.Rootfs.XMLPath, &os.PathError{Op: "pivot_root", Path: g.root, Err: err})
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return stepErr("detach old root", g.p.Rootfs.XMLPath, &os.PathError{Op: "umount2", Path: "old root", Err: err})
	}
	if err := unix.Chdir("/"); err != nil {
		return stepErr("pivot_root", g.p.Rootfs.XMLPath, &os.PathError{Op: "chdir", Path: "/", Err: err})
	}
	g.root = "/"
	return nil
}

// finishReadOnly remounts the root read-only for <readonly/> on the root
// filesystem; last, because the mount points above had to be created first.
func (g *guest) finishReadOnly() error {
	if !g.p.Rootfs.ReadOnly || g.shared() {
		return nil
	}
	if err := remountReadOnly("/"); err != nil {
		return stepErr("make root read-only", g.p.Rootfs.XMLPath, err)
	}
	return nil
}

// remountReadOnly makes the bind mount at path read-only, keeping the flags
// that are locked in a user namespace (nosuid, nodev, noexec, atime flags):
// dropping one of them is EPERM there.
func remountReadOnly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range []struct{ st, ms int64 }{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st.Flags&f.st != 0 {
			flags |= uintptr(f.ms)
		}
	}
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount read-only: %w", &os.PathError{Op: "mount", Path: path, Err: err})
	}
	return nil
}
