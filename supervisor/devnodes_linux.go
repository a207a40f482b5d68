package supervisor

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"vmlite/initsys"
	"vmlite/internal/detachedfs"
	"vmlite/plan"
)

// devNodes gives a mapped guest its device nodes owned by its root: copies
// of the standard nodes and of the XML's <hostdev>s (same type, numbers and
// mode), made with mknod in a directory of its own on nodeFS, a private
// tmpfs that only this supervisor holds (fsopen/fsmount: never attached
// anywhere on the host), chowned to the guest's root. It returns one
// detached clone per node, keyed by host path, for __init to attach; the
// copies go once the boot's processes are dead. mknod is refused inside a
// user namespace, devtmpfs cannot be idmapped, and the host's own nodes
// would show as nobody:nogroup. The device allow-list (restrictDevices)
// governs the copies as it does any node. Unmapped guests bind the host's
// nodes: nil.
func (s *Supervisor) devNodes() (map[string]int, error) {
	if !s.p.IDMap.Enabled() {
		return nil, nil
	}
	paths := initsys.StdDeviceNodes()
	for _, d := range s.p.Devices {
		paths = append(paths, d.HostPath)
	}
	step := "create device nodes"
	mnt, err := nodeFS()
	if err != nil {
		return nil, &plan.StepFailure{Step: step, Err: err}
	}
	dir := "g" + strconv.FormatUint(nodeDirs.Add(1), 10)
	if err := unix.Mkdirat(mnt, dir, 0o700); err != nil {
		return nil, &plan.StepFailure{Step: step, Err: &os.SyscallError{Syscall: "mkdirat", Err: err}}
	}
	var made []string
	s.afterKill = append(s.afterKill, func() error {
		for _, n := range made {
			_ = unix.Unlinkat(mnt, n, 0)
		}
		if err := unix.Unlinkat(mnt, dir, unix.AT_REMOVEDIR); err != nil {
			return fmt.Errorf("remove the device node copies: %w", &os.SyscallError{Syscall: "unlinkat", Err: err})
		}
		return nil
	})
	uid, gid := s.p.IDMap.HostRoot()
	out := map[string]int{}
	for i, p := range paths {
		if _, dup := out[p]; dup {
			continue
		}
		name := dir + "/" + strconv.Itoa(i)
		made = append(made, name) // removed whether or not it was made
		fd, err := copyNode(mnt, name, p, int(uid), int(gid))
		if err != nil {
			closeNodes(out)
			return nil, &plan.StepFailure{Step: step, Err: err, User: i >= len(initsys.StdDeviceNodes())}
		}
		out[p] = fd
	}
	return out, nil
}

// nodeFS is the tmpfs holding the device node copies of all the mapped
// guests this process supervises, a directory each: one superblock for
// all of them instead of one per guest (each superblock has a shrinker,
// which every memory cgroup on the host then tracks: bench/README.md).
var nodeFS = sync.OnceValues(func() (int, error) {
	return detachedfs.Tmpfs([][2]string{{"mode", "0700"}}, false, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
})

// nodeDirs numbers the guests' directories on nodeFS.
var nodeDirs atomic.Uint64

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
