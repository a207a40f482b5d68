package supervisor

import (
	"errors"
	"fmt"
	"log"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"vmlite/initsys"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/uidmap"
)

// hostTree returns a detached clone of host directory path (with what is
// mounted below it) for __init to attach in the guest. Only the supervisor
// can make it: the filesystem belongs to the host's user namespace.
//
// For a guest with an idmap (idmapped true) the clone is idmapped with the
// guest's user namespace (/proc/PID/ns/user): the guest sees the owners it
// expects while the files keep theirs on disk. Where the filesystem cannot
// be idmapped (tmpfs before Linux 6.3, many FUSE filesystems, NFS), or the
// plan forces it (<vmlite:idmap shift="chown"/>), the tree's owners are
// shifted on disk instead (uidmap.Shift, recorded in Paths.ShiftDir). A tree
// stored shifted that is now idmapped, or belongs to a guest without a map,
// is shifted back first: on disk it is then as it was made.
func (s *Supervisor) hostTree(path, xmlPath string, idmapped bool, pid int) (int, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return -1, &initsys.StepError{Step: "clone " + path, XMLPath: xmlPath, User: errors.Is(err, unix.ENOENT),
			Err: &os.PathError{Op: "open_tree", Path: path, Err: err}}
	}
	onDisk := plan.IDMap{} // how the files must be stored
	if idmapped {
		why := "<vmlite:idmap shift=\"chown\"/>"
		if !s.p.IDMap.ForceChown {
			err := idmapTree(tree, pid)
			if err == nil {
				why = ""
			} else {
				why = err.Error()
			}
		}
		if why != "" {
			onDisk = plan.IDMap{UIDs: s.p.IDMap.UIDs, GIDs: s.p.IDMap.GIDs}
			log.Printf("%s: no idmapped mount (%s): shifting its owners on disk to %s", path, why, uidmap.String(onDisk))
		}
	}
	if s.p.Paths.ShiftDir == "" {
		if onDisk.Enabled() {
			unix.Close(tree)
			return -1, &initsys.StepError{Step: "shift owners of " + path, XMLPath: xmlPath, Err: fmt.Errorf("the launch plan has no shift record directory")}
		}
		return tree, nil
	}
	releaseTree(path) // our own hold from a previous boot must not block a shift
	st, lock, err := uidmap.Shift(s.p.Paths.ShiftDir, path, onDisk)
	if err != nil {
		unix.Close(tree)
		return -1, &initsys.StepError{Step: "shift owners of " + path, XMLPath: xmlPath,
			User: errors.Is(err, errdefs.ErrInvalid) || errors.Is(err, uidmap.ErrInUse), Err: err}
	}
	holdTree(path, lock)
	if st.Changed > 0 || st.Resumed {
		log.Printf("%s: owners shifted from %s to %s: %d inodes, %d changed, %d with ids outside the map (now nobody), interrupted shift completed: %v",
			path, uidmap.String(st.From), uidmap.String(st.To), st.Inodes, st.Changed, st.Unmapped, st.Resumed)
	}
	return tree, nil
}

// treeLocks are the shift locks (uidmap.Shift) of the trees this
// supervisor's guest uses, held for the supervisor's life so that no other
// guest shifts them to other owners meanwhile; keyed by host path.
var (
	treeLocksMu sync.Mutex
	treeLocks   = map[string]*os.File{}
)

func holdTree(path string, lock *os.File) {
	treeLocksMu.Lock()
	defer treeLocksMu.Unlock()
	if old := treeLocks[path]; old != nil {
		old.Close()
	}
	treeLocks[path] = lock
}

func releaseTree(path string) {
	treeLocksMu.Lock()
	defer treeLocksMu.Unlock()
	if old := treeLocks[path]; old != nil {
		old.Close()
		delete(treeLocks, path)
	}
}

// idmapTree makes the detached mount tree idmapped with the user namespace
// of process pid.
func idmapTree(tree, pid int) error {
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the guest's user namespace: %w", err)
	}
	defer unix.Close(userns)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("the filesystem does not support idmapped mounts (kernel >= 5.12; ext4, xfs, btrfs; tmpfs >= 6.3): %w", &os.SyscallError{Syscall: "mount_setattr", Err: err})
	}
	return nil
}

// mountTrees clones the host directory of every bind mount of the plan
// (hostTree); the result is aligned with p.Mounts, -1 for mounts __init
// makes itself. On error the trees made so far are closed.
func (s *Supervisor) mountTrees(pid int) ([]int, error) {
	fds := make([]int, len(s.p.Mounts))
	for i, m := range s.p.Mounts {
		fds[i] = -1
		if m.Kind != plan.MountBind {
			continue
		}
		fd, err := s.hostTree(m.Source, m.XMLPath, m.IDMapped, pid)
		if err != nil {
			closeTrees(fds)
			return nil, err
		}
		fds[i] = fd
	}
	return fds, nil
}

// closeTrees closes the tree fds that are set.
func closeTrees(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// treeRights appends the set tree fds to rights (the SCM_RIGHTS of the go
// message) and returns, per tree, its index there or -1.
func treeRights(rights, trees []int) ([]int, []int) {
	idx := make([]int, len(trees))
	for i, fd := range trees {
		idx[i] = -1
		if fd >= 0 {
			idx[i] = len(rights)
			rights = append(rights, fd)
		}
	}
	return rights, idx
}
