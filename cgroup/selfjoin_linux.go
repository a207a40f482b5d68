package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Moving another process into a v1 cgroup (its pid written to
// cgroup.procs) takes the kernel's cgroup threadgroup lock for writing,
// which waits for an RCU grace period: one per hierarchy, ten per start
// on this host's layout (bench/README.md, "A start with headroom"). A
// thread that moves itself (0 written to tasks) takes no such lock. So
// a cloned guest init joins its v1 cgroups itself, through tasks files
// its supervisor opened (SelfJoin, JoinSelf), before anything else: the
// thread that joins is the one that execs the guest's init, so the init
// runs in them from its first instruction; the set-up process's other
// threads end with that exec. cgroup2 has no per-thread membership
// outside threaded subtrees: a process is born in its cgroup2 tree
// (CLONE_INTO_CGROUP, Cgroup2FD), or moved there by pid.

// SelfJoin opens for writing the tasks file of m's leaf in each v1
// hierarchy, for the new process to join by JoinSelf, and returns with
// join, which moves a process by pid into m's other hierarchies (cgroup2
// trees) as Apply does (a process cloned into them, Cgroup2FD, needs
// none). The caller closes tasks. On a v2 host tasks is empty and join
// is Apply.
func SelfJoin(m Manager) (tasks []int, join func(pid int) error, err error) {
	g, ok := m.(*manager)
	if !ok {
		return nil, nil, errors.New("not a cgroup of this package")
	}
	var rest []hierarchy
	for _, h := range g.hs {
		if h.v2 {
			rest = append(rest, h)
			continue
		}
		p := filepath.Join(g.leaf(h), "tasks")
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			for _, t := range tasks {
				unix.Close(t)
			}
			return nil, nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		tasks = append(tasks, fd)
	}
	join = func(pid int) error {
		for _, h := range rest {
			p := filepath.Join(g.leaf(h), "cgroup.procs")
			if err := g.write(h, p, strconv.Itoa(pid)); err != nil {
				return fmt.Errorf("move pid %d into %s: %w", pid, g.leaf(h), err)
			}
		}
		return nil
	}
	return tasks, join, nil
}

// JoinSelf moves the calling thread into the cgroup of each tasks file
// in fds (SelfJoin's, received over the sync socket), and closes them.
// The caller must stay on its thread (runtime.LockOSThread).
func JoinSelf(fds []int) error {
	var errs []error
	for _, fd := range fds {
		if _, err := unix.Write(fd, []byte("0")); err != nil {
			errs = append(errs, &os.SyscallError{Syscall: "write tasks", Err: err})
		}
		unix.Close(fd)
	}
	return errors.Join(errs...)
}

// Cgroup2FD opens m's leaf in its cgroup2 tree (the whole host's on v2,
// the hybrid host's unified mount on v1) for CLONE_INTO_CGROUP: a process
// born there needs no move by pid (with SelfJoin, a cloned guest init
// then joins no cgroup by pid at all). ok is false on a v1 host without
// a cgroup2 mount. The caller closes fd.
func Cgroup2FD(m Manager) (fd int, ok bool, err error) {
	g, isOurs := m.(*manager)
	if !isOurs {
		return -1, false, errors.New("not a cgroup of this package")
	}
	for _, h := range g.hs {
		if !h.v2 {
			continue
		}
		dir := g.leaf(h)
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, false, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		return fd, true, nil
	}
	return -1, false, nil
}
