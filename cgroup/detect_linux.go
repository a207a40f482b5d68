package cgroup

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// Detect reports the host's cgroup mode from what is mounted at
// DefaultRoot: cgroup2 itself (V2), or a tmpfs holding v1 hierarchies (V1,
// hybrid or not). It checks /proc/self/mountinfo so that an empty tmpfs is
// not taken for a v1 host.
func Detect() (Mode, error) {
	return DetectAt(DefaultRoot, "/proc/self/mountinfo")
}

// DetectAt is Detect for another cgroup root and mountinfo file.
func DetectAt(root, mountinfo string) (Mode, error) {
	mode, _, err := detectAt(root, mountinfo)
	return mode, err
}

// DetectMounts is Detect that also returns the host's v1 hierarchies
// (CgroupMounts below DefaultRoot; nil on V2), for MountGuest: a guest's
// __init reads the mount table once for both.
func DetectMounts() (Mode, []Mount, error) {
	return detectAt(DefaultRoot, "/proc/self/mountinfo")
}

func detectAt(root, mountinfo string) (Mode, []Mount, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return 0, nil, &os.PathError{Op: "statfs", Path: root, Err: err}
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return V2, nil, nil
	case unix.TMPFS_MAGIC:
	default:
		return 0, nil, fmt.Errorf("%s is neither cgroup2 nor a tmpfs of v1 hierarchies (filesystem magic %#x)", root, st.Type)
	}
	b, err := os.ReadFile(mountinfo)
	if err != nil {
		return 0, nil, fmt.Errorf("read mounts: %w", err)
	}
	mounts, err := ParseMountInfo(string(b))
	if err != nil {
		return 0, nil, err
	}
	cg := CgroupMounts(mounts, root)
	for _, mt := range cg {
		if mt.FSType == "cgroup" {
			return V1, cg, nil
		}
	}
	return 0, nil, fmt.Errorf("%s is a tmpfs without cgroup v1 hierarchies mounted in it", root)
}

// Open returns the manager of c's cgroup on this host: Detect, then New at
// DefaultRoot. The CLI (setmem, status) and the supervisor use it.
func Open(c plan.Cgroup) (Manager, error) {
	mode, err := Detect()
	if err != nil {
		return nil, err
	}
	return New(DefaultRoot, mode, c)
}
