package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// prepareRoot makes every mount private (nothing the guest does propagates
// to the host) and puts the guest's root filesystem in place as a mount point
// of its own, which pivot_root requires.
func (g *guest) prepareRoot() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return stepErr("make mounts private", "", &os.PathError{Op: "mount", Path: "/", Err: err})
	}
	if g.shared() {
		g.root = "/"
		return nil
	}
	rootfs := g.p.Rootfs.Path
	g.root = rootfs
	if g.rootTree >= 0 {
		// The supervisor cloned the tree and set its idmap (only it can: the
		// filesystem belongs to the host's user namespace). Attach it here.
		if err := unix.MoveMount(g.rootTree, "", unix.AT_FDCWD, rootfs, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return stepErr("attach idmapped root filesystem", g.p.Rootfs.XMLPath, &os.PathError{Op: "move_mount", Path: rootfs, Err: err})
		}
		unix.Close(g.rootTree)
		g.rootTree = -1
		return nil
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return userStepErr("bind root filesystem", g.p.Rootfs.XMLPath, &os.PathError{Op: "mount", Path: rootfs, Err: err})
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
