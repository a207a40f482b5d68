package supervisor

import (
	"fmt"
	"os"

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

// idmappedRoot returns a detached, idmapped clone of the root filesystem for
// __init to attach, or -1 when the plan does not ask for one. Only the
// supervisor can make it: the filesystem belongs to the host's user
// namespace, and the map is the guest's (/proc/PID/ns/user).
func (s *Supervisor) idmappedRoot(pid int) (int, error) {
	if !s.p.Rootfs.IDMapped || s.p.Rootfs.Path == "" {
		return -1, nil
	}
	step := "idmap root filesystem"
	tree, err := unix.OpenTree(unix.AT_FDCWD, s.p.Rootfs.Path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return -1, &initsys.StepError{Step: step, XMLPath: s.p.Rootfs.XMLPath, Err: &os.PathError{Op: "open_tree", Path: s.p.Rootfs.Path, Err: err}}
	}
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
