package templates

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"vmlite/internal/mountinfo"
)

// MountsUnder returns the mount points in a /proc/self/mountinfo listing
// that are dir or below it, deepest first (the order to unmount them in).
// debootstrap mounts /proc and /sys inside its target; an interrupted run
// leaves them there.
func MountsUnder(r io.Reader, dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	ms, err := mountinfo.Parse(string(b))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		mp := filepath.Clean(m.MountPoint)
		if mp == dir || strings.HasPrefix(mp, dir+"/") || dir == "/" {
			out = append(out, mp)
		}
	}
	// Deepest first; a stable order keeps stacked mounts in reverse mount order.
	rev := make([]string, len(out))
	for i, m := range out {
		rev[len(out)-1-i] = m
	}
	sort.SliceStable(rev, func(i, j int) bool { return strings.Count(rev[i], "/") > strings.Count(rev[j], "/") })
	return rev, nil
}
