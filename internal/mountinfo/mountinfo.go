// Package mountinfo reads /proc/PID/mountinfo (proc(5)): the one parser of
// it in vmlite (the cgroup library finds hierarchies with it, the templates
// find what debootstrap left mounted).
package mountinfo

import (
	"fmt"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo (proc(5)).
type Mount struct {
	ID, Parent int
	// Dev is the filesystem's device, "major:minor" (for FUSE, the minor
	// names the connection in /sys/fs/fuse/connections).
	Dev string
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

// Parse parses the content of a mountinfo file.
func Parse(s string) ([]Mount, error) {
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
		ID: id, Parent: parent, Dev: f[2],
		Root: Unescape(f[3]), MountPoint: Unescape(f[4]), Options: f[5],
		FSType: f[sep+1], Source: Unescape(f[sep+2]),
	}
	if len(f) > sep+3 {
		m.SuperOptions = f[sep+3]
	}
	return m, nil
}

// Unescape undoes the kernel's \ooo escaping of space, tab, newline
// and backslash in mountinfo paths.
func Unescape(s string) string {
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
