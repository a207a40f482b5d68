package enter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Moving a process into a cgroup by pid (its pid written to
// cgroup.procs) takes the kernel's cgroup threadgroup lock for writing,
// which waits for an RCU grace period with the cgroup mutex held
// (cgroup/selfjoin_linux.go): one wait per hierarchy. So the helper
// moves nobody: the entering child is born in the guest's cgroup2 tree
// (clone3 CLONE_INTO_CGROUP, the whole host's on v2, the hybrid host's
// unified one on v1) and, single-threaded, joins the v1 hierarchies
// itself by writing 0 to their tasks files, which takes no such lock,
// before it enters any namespace; the command, forked from it, inherits
// them all. The helper itself stays in its caller's cgroups.

// cgroupJoin is how the entering child joins the guest's cgroups.
type cgroupJoin struct {
	tasks    []uintptr // v1 tasks files, opened for writing
	cgroup2  int       // the guest's cgroup2 directory for CLONE_INTO_CGROUP; -1: none
	procs2   string    // its cgroup.procs, for the move by pid if clone3 fails
	fallback []string  // cgroup.procs files the helper joins by pid (a second cgroup2 tree)
}

// openCgroups opens the cgroups whose cgroup.procs files procs names
// (Config.CgroupProcs), refusing symbolic links: the leaf directories
// and their tasks files are opened without following one.
func openCgroups(procs []string) (*cgroupJoin, error) {
	j := &cgroupJoin{cgroup2: -1}
	for _, p := range procs {
		dir := filepath.Dir(p)
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			j.close()
			return nil, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		var st unix.Statfs_t
		if err := unix.Fstatfs(fd, &st); err != nil {
			unix.Close(fd)
			j.close()
			return nil, &os.PathError{Op: "statfs", Path: dir, Err: err}
		}
		if st.Type == unix.CGROUP2_SUPER_MAGIC {
			if j.cgroup2 < 0 {
				j.cgroup2, j.procs2 = fd, p
			} else {
				unix.Close(fd)
				j.fallback = append(j.fallback, p)
			}
			continue
		}
		t, err := unix.Openat(fd, "tasks", unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			j.close()
			return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, "tasks"), Err: err}
		}
		j.tasks = append(j.tasks, uintptr(t))
	}
	return j, nil
}

// close closes what openCgroups opened.
func (j *cgroupJoin) close() {
	for _, t := range j.tasks {
		unix.Close(int(t))
	}
	j.tasks = nil
	if j.cgroup2 >= 0 {
		unix.Close(j.cgroup2)
		j.cgroup2 = -1
	}
}

// joinByPid moves the helper into the cgroups of files by pid.
func joinByPid(files []string) error {
	pid := []byte(fmt.Sprint(os.Getpid()))
	var errs []error
	for _, f := range files {
		if err := writeNoFollow(f, pid); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
