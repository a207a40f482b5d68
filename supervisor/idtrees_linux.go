package supervisor

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

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
		return -1, &plan.StepFailure{Step: "clone " + path, XMLPath: xmlPath, User: errors.Is(err, unix.ENOENT),
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
			s.log.Printf("%s: no idmapped mount (%s): shifting its owners on disk to %s", path, why, uidmap.String(onDisk))
		}
	}
	if s.p.Paths.ShiftDir == "" {
		if onDisk.Enabled() {
			unix.Close(tree)
			return -1, &plan.StepFailure{Step: "shift owners of " + path, XMLPath: xmlPath, Err: fmt.Errorf("the launch plan has no shift record directory")}
		}
		return tree, nil
	}
	s.releaseTree(path) // our own hold from a previous boot must not block a shift
	st, lock, err := uidmap.Shift(s.p.Paths.ShiftDir, path, onDisk)
	if err != nil {
		unix.Close(tree)
		return -1, &plan.StepFailure{Step: "shift owners of " + path, XMLPath: xmlPath,
			User: errors.Is(err, errdefs.ErrInvalid) || errors.Is(err, uidmap.ErrInUse), Err: err}
	}
	s.holdTree(path, lock)
	if st.Changed > 0 || st.Resumed {
		s.log.Printf("%s: owners shifted from %s to %s: %d inodes, %d changed, %d with ids outside the map (now nobody), interrupted shift completed: %v",
			path, uidmap.String(st.From), uidmap.String(st.To), st.Inodes, st.Changed, st.Unmapped, st.Resumed)
	}
	return tree, nil
}

// holdTree keeps the shift lock (uidmap.Shift) of a tree this guest uses
// for the guest's life, so that no other guest shifts it to other owners
// meanwhile; keyed by host path. The locks are the guest's, not the
// process's: a shared supervisor hosts many guests.
func (s *Supervisor) holdTree(path string, lock *os.File) {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if old := s.treeLocks[path]; old != nil {
		old.Close()
	}
	if s.treeLocks == nil {
		s.treeLocks = map[string]*os.File{}
	}
	s.treeLocks[path] = lock
}

func (s *Supervisor) releaseTree(path string) {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if old := s.treeLocks[path]; old != nil {
		old.Close()
		delete(s.treeLocks, path)
	}
}

// releaseTrees drops every shift lock the guest holds (at its end).
func (s *Supervisor) releaseTrees() {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	for path, f := range s.treeLocks {
		f.Close()
		delete(s.treeLocks, path)
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
		var fd int
		var err error
		switch {
		case m.Kind == plan.MountBind:
			fd, err = s.hostTree(m.Source, m.XMLPath, m.IDMapped, pid)
		case m.Kind == plan.MountImage && m.Image != nil:
			fd, err = s.imageTree(m.Image, m.ReadOnly, m.XMLPath, m.IDMapped, pid)
		default:
			continue
		}
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
