package supervisor

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"vmlite/initsys"
	"vmlite/plan"
)

// devNodes gives a mapped guest its device nodes owned by its root: copies
// of the standard nodes and of the XML's <hostdev>s (same type, numbers and
// mode), made with mknod on a private tmpfs that only this supervisor holds
// (fsopen/fsmount: never attached anywhere on the host), chowned to the
// guest's root. It returns one detached clone per node, keyed by host path,
// for __init to attach. mknod is refused inside a user namespace, devtmpfs
// cannot be idmapped, and the host's own nodes would show as
// nobody:nogroup. The device allow-list (restrictDevices) governs the
// copies as it does any node. Unmapped guests bind the host's nodes: nil.
func (s *Supervisor) devNodes() (map[string]int, error) {
	if !s.p.IDMap.Enabled() {
		return nil, nil
	}
	paths := initsys.StdDeviceNodes()
	for _, d := range s.p.Devices {
		paths = append(paths, d.HostPath)
	}
	step := "create device nodes"
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, &plan.StepFailure{Step: step, Err: &os.SyscallError{Syscall: "fsopen", Err: err}}
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetString(fs, "mode", "0755"); err != nil {
		return nil, &plan.StepFailure{Step: step, Err: &os.SyscallError{Syscall: "fsconfig", Err: err}}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return nil, &plan.StepFailure{Step: step, Err: &os.SyscallError{Syscall: "fsconfig", Err: err}}
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return nil, &plan.StepFailure{Step: step, Err: &os.SyscallError{Syscall: "fsmount", Err: err}}
	}
	defer unix.Close(mnt)
	uid, gid := s.p.IDMap.HostRoot()
	out := map[string]int{}
	for i, p := range paths {
		if _, dup := out[p]; dup {
			continue
		}
		fd, err := copyNode(mnt, strconv.Itoa(i), p, int(uid), int(gid))
		if err != nil {
			closeNodes(out)
			return nil, &plan.StepFailure{Step: step, Err: err, User: i >= len(initsys.StdDeviceNodes())}
		}
		out[p] = fd
	}
	return out, nil
}

// copyNode makes name on the tmpfs mnt a copy of device node host, owned
// by uid:gid, and returns a detached clone of it.
func copyNode(mnt int, name, host string, uid, gid int) (int, error) {
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil {
		return -1, &os.PathError{Op: "stat", Path: host, Err: err}
	}
	typ := st.Mode & unix.S_IFMT
	if typ != unix.S_IFCHR && typ != unix.S_IFBLK {
		return -1, fmt.Errorf("%s on the host is not a device node", host)
	}
	if err := unix.Mknodat(mnt, name, typ|0o600, int(st.Rdev)); err != nil {
		return -1, fmt.Errorf("copy %s: %w", host, &os.SyscallError{Syscall: "mknodat", Err: err})
	}
	if err := unix.Fchownat(mnt, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, fmt.Errorf("copy %s: %w", host, &os.SyscallError{Syscall: "fchownat", Err: err})
	}
	// After the chown, which would clear set-id bits; mknod's mode is
	// filtered by the umask.
	if err := unix.Fchmodat(mnt, name, st.Mode&0o7777, 0); err != nil {
		return -1, fmt.Errorf("copy %s: %w", host, &os.SyscallError{Syscall: "fchmodat", Err: err})
	}
	fd, err := unix.OpenTree(mnt, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("copy %s: %w", host, &os.SyscallError{Syscall: "open_tree", Err: err})
	}
	return fd, nil
}

func closeNodes(m map[string]int) {
	for _, fd := range m {
		unix.Close(fd)
	}
}

// nodeRights appends the node clones to rights and returns their indexes
// by host path.
func nodeRights(rights []int, nodes map[string]int) ([]int, map[string]int) {
	if len(nodes) == 0 {
		return rights, nil
	}
	idx := map[string]int{}
	for p, fd := range nodes {
		idx[p] = len(rights)
		rights = append(rights, fd)
	}
	return rights, idx
}
