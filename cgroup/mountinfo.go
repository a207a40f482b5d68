package cgroup

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo (proc(5)).
type Mount struct {
	ID, Parent int
	// Root is the path inside the filesystem that is mounted (for cgroups,
	// the cgroup relative to the reader's cgroup namespace).
	Root       string
	MountPoint string
	Options    string // per-mount options: rw,nosuid,...
	FSType     string
	Source     string
	// SuperOptions are the filesystem's options; for cgroup v1 they name
	// the hierarchy ("rw,cpu,cpuacct", "rw,xattr,name=systemd").
	SuperOptions string
}

// ParseMountInfo parses the content of a mountinfo file.
func ParseMountInfo(s string) ([]Mount, error) {
	var out []Mount
	for n, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMountLine(line)
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d: %w", n+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMountLine(line string) (Mount, error) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 6 || sep < 0 || len(f) < sep+3 {
		return Mount{}, fmt.Errorf("malformed %q", line)
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Mount{}, fmt.Errorf("malformed ids in %q", line)
	}
	m := Mount{
		ID: id, Parent: parent,
		Root: unescapeOctal(f[3]), MountPoint: unescapeOctal(f[4]), Options: f[5],
		FSType: f[sep+1], Source: unescapeOctal(f[sep+2]),
	}
	if len(f) > sep+3 {
		m.SuperOptions = f[sep+3]
	}
	return m, nil
}

// unescapeOctal undoes the kernel's \ooo escaping of space, tab, newline
// and backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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
