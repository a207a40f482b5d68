package supervisor

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/detachedfs"
	"vmlite/plan"
)

// maskFS is the empty read-only tmpfs that hides the masked directories of
// every guest this process supervises: each guest gets a clone of it
// (maskTree), so a shared supervisor adds one superblock for all its guests
// instead of one per guest (each superblock has a shrinker, which every
// memory cgroup on the host then tracks: bench/README.md). It is never
// attached in the supervisor's own mount namespace, and it lives as long
// as the process.
var maskFS = sync.OnceValues(func() (int, error) {
	// Owned by the host's root, mode 555, and a read-only superblock:
	// neither a guest's root (mapped) nor a remount of its bind makes it
	// writable, so no guest can put anything in another's masks.
	return detachedfs.Tmpfs([][2]string{{"mode", "0555"}, {"size", "4k"}, {"nr_inodes", "2"}}, true,
		unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
})

// cgroupFS is the read-only skeleton of /sys/fs/cgroup (directories and
// links, no hierarchies) that this process's v1 guests without a user
// namespace share, for the same reason as maskFS.
var cgroupFS = sync.OnceValues(cgroup.SkeletonFS)

// maskTree returns a detached clone of maskFS for one guest's __init to
// attach over its masked directories.
func maskTree() (int, error) {
	return sharedTree("create the masks' tmpfs", maskFS)
}

// cgroupTree returns a detached clone of cgroupFS for one guest's
// /sys/fs/cgroup, or -1 where the guest makes its own (cgroup v2: no
// tmpfs; a user namespace: a writable tmpfs owned by the guest's root).
func (s *Supervisor) cgroupTree() (int, error) {
	if s.cgMode == cgroup.V2 || s.p.IDMap.Enabled() {
		return -1, nil
	}
	return sharedTree("create the cgroup skeleton", cgroupFS)
}

// sharedTree clones the detached mount that fs makes once.
func sharedTree(step string, fs func() (int, error)) (int, error) {
	mnt, err := fs()
	if err != nil {
		return -1, &plan.StepFailure{Step: step, Err: err}
	}
	fd, err := unix.OpenTree(mnt, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, &plan.StepFailure{Step: step, Err: &os.SyscallError{Syscall: "open_tree", Err: err}}
	}
	return fd, nil
}
