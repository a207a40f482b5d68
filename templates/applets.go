package templates

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ParseAppletList reads the output of `busybox --list-full`: one applet per
// line, as a path relative to / ("sbin/init", "usr/bin/["). Every path it
// returns is local (no "..", not absolute), so it is safe to join to a root.
func ParseAppletList(r io.Reader) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p := strings.TrimPrefix(line, "/")
		if !filepath.IsLocal(p) || filepath.Clean(p) != p || strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("applet list line %d: %q is not a path like sbin/init", n, line)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read applet list: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("applet list is empty")
	}
	return out, nil
}
