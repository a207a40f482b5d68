package templates

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// MountsUnder returns the mount points in a /proc/self/mountinfo listing
// that are dir or below it, deepest first (the order to unmount them in).
// debootstrap mounts /proc and /sys inside its target; an interrupted run
// leaves them there.
func MountsUnder(r io.Reader, dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 5 {
			return nil, fmt.Errorf("mountinfo line %d: want at least 5 fields", n)
		}
		mp := filepath.Clean(unescapeMount(f[4]))
		if mp == dir || strings.HasPrefix(mp, dir+"/") || dir == "/" {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	// Deepest first; a stable order keeps stacked mounts in reverse mount order.
	rev := make([]string, len(out))
	for i, m := range out {
		rev[len(out)-1-i] = m
	}
	sort.SliceStable(rev, func(i, j int) bool { return strings.Count(rev[i], "/") > strings.Count(rev[j], "/") })
	return rev, nil
}

// unescapeMount undoes the kernel's octal escapes in mountinfo paths
// (\040 space, \011 tab, \012 newline, \134 backslash).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
