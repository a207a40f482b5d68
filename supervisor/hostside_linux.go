package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"vmlite/initsys"
	"vmlite/internal/errdefs"
	"vmlite/netdef"
)

// hostSideOfBoot does what must happen between clone and release: cgroup
// membership on v1 hosts and the host side of the guest's network.
func (s *Supervisor) hostSideOfBoot(pid int) error {
	if err := s.joinCgroup(pid); err != nil {
		return err
	}
	if len(s.p.Interfaces) == 0 {
		return nil // lo is brought up by __init itself
	}
	undo, err := netdef.Setup(s.p.Interfaces, pid)
	if err != nil {
		return &initsys.StepError{Step: "set up network", Err: err, User: errdefs.IsUserError(err)}
	}
	s.bootRevert.Add("remove network links", undo)
	return nil
}

// rootTree returns a detached clone of the root filesystem for __init to
// attach, idmapped with the guest's user namespace (/proc/PID/ns/user) when
// the plan asks; -1 for a guest that shares the host's root. Only the
// supervisor can idmap it: the filesystem belongs to the host's user
// namespace. Cloning also spares __init (a mapped root for mapped guests) a
// walk down the rootfs's path, whose parents it may not be allowed to enter.
func (s *Supervisor) rootTree(pid int) (int, error) {
	if s.p.Rootfs.Path == "" {
		return -1, nil
	}
	step := "clone root filesystem"
	tree, err := unix.OpenTree(unix.AT_FDCWD, s.p.Rootfs.Path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return -1, &initsys.StepError{Step: step, XMLPath: s.p.Rootfs.XMLPath, User: errors.Is(err, unix.ENOENT),
			Err: &os.PathError{Op: "open_tree", Path: s.p.Rootfs.Path, Err: err}}
	}
	if !s.p.Rootfs.IDMapped {
		return tree, nil
	}
	step = "idmap root filesystem"
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(tree)
		return -1, &initsys.StepError{Step: step, Err: err}
	}
	defer unix.Close(userns)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		unix.Close(tree)
		return -1, &initsys.StepError{Step: step, XMLPath: s.p.Rootfs.XMLPath,
			Err: fmt.Errorf("the filesystem of %s does not support idmapped mounts (kernel >= 5.12, ext4/xfs/btrfs; tmpfs >= 6.3): %w", s.p.Rootfs.Path, &os.SyscallError{Syscall: "mount_setattr", Err: err})}
	}
	return tree, nil
}

// attachDir makes the empty directory where __init attaches the root tree:
// in the guest's runtime directory (mode 0711 down from the run root, so a
// mapped root can reach it), owned by the guest's root.
func (s *Supervisor) attachDir() (string, error) {
	if s.p.Rootfs.Path == "" {
		return "", nil
	}
	dir := filepath.Join(s.p.Paths.RunDir, "root")
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", &initsys.StepError{Step: "create root attach point", Err: err}
	}
	uid, gid := s.p.IDMap.HostRoot()
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return "", &initsys.StepError{Step: "create root attach point", Err: err}
	}
	return dir, nil
}
