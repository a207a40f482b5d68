package cgroup

import (
	"path/filepath"
	"strings"

	"vmlite/internal/mountinfo"
)

// Mount is one line of /proc/PID/mountinfo, with the cgroup v1 helpers.
type Mount struct{ mountinfo.Mount }

// ParseMountInfo parses the content of a mountinfo file.
func ParseMountInfo(s string) ([]Mount, error) {
	ms, err := mountinfo.Parse(s)
	if err != nil {
		return nil, err
	}
	out := make([]Mount, len(ms))
	for i, m := range ms {
		out[i] = Mount{m}
	}
	return out, nil
}

// CgroupMounts returns the cgroup and cgroup2 mounts at root or directly
// below it, the last mount of each mount point only (a later mount hides
// an earlier one).
func CgroupMounts(ms []Mount, root string) []Mount {
	root = filepath.Clean(root)
	var out []Mount
	idx := map[string]int{}
	for _, m := range ms {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		if m.MountPoint != root && filepath.Dir(m.MountPoint) != root {
			continue
		}
		if i, ok := idx[m.MountPoint]; ok {
			out[i] = m
			continue
		}
		idx[m.MountPoint] = len(out)
		out = append(out, m)
	}
	return out
}

// V1Options returns the options that name m's v1 hierarchy when mounting
// it again ("cpu,cpuacct", "none,name=systemd"): the super options without
// rw/ro and without release_agent, which only the initial namespace may set.
func (m Mount) V1Options() string {
	var keep []string
	named := false
	for _, o := range strings.Split(m.SuperOptions, ",") {
		switch {
		case o == "", o == "rw", o == "ro", strings.HasPrefix(o, "release_agent="):
			continue
		case strings.HasPrefix(o, "name="):
			named = true
		}
		keep = append(keep, o)
	}
	if named && !contains(keep, "none") {
		// A named hierarchy without controllers must say "none", or the
		// kernel binds every free controller to it.
		hasCtrl := false
		for _, o := range keep {
			if !strings.HasPrefix(o, "name=") && o != "xattr" && o != "noprefix" && o != "clone_children" && o != "cpuset_v2_mode" {
				hasCtrl = true
			}
		}
		if !hasCtrl {
			keep = append([]string{"none"}, keep...)
		}
	}
	return strings.Join(keep, ",")
}
