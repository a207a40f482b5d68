package templates

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// InittabEntry is one line of a busybox /etc/inittab: id:runlevels:action:process.
type InittabEntry struct {
	Line      int    // 1-based line number
	ID        string // tty the process runs on ("" = /dev/console)
	Runlevels string // ignored by busybox init
	Action    string // one of InittabActions
	Process   string // command line; a leading "-" makes a login shell
}

// InittabActions are the actions busybox init knows (init/init.c).
var InittabActions = []string{"sysinit", "wait", "once", "respawn", "askfirst", "shutdown", "restart", "ctrlaltdel"}

// ParseInittab reads a busybox inittab, refusing what busybox init would
// ignore or misread: a line without four fields, an unknown action, an empty
// process. Blank lines and lines starting with "#" are comments.
func ParseInittab(r io.Reader) ([]InittabEntry, error) {
	var out []InittabEntry
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, ":", 4) // the process may contain ':'
		if len(f) != 4 {
			return nil, fmt.Errorf("inittab line %d: want id:runlevels:action:process, got %q", n, line)
		}
		e := InittabEntry{Line: n, ID: f[0], Runlevels: f[1], Action: f[2], Process: strings.TrimSpace(f[3])}
		if !slices.Contains(InittabActions, e.Action) {
			return nil, fmt.Errorf("inittab line %d: unknown action %q (want one of %s)", n, e.Action, strings.Join(InittabActions, ", "))
		}
		if e.Process == "" {
			return nil, fmt.Errorf("inittab line %d: empty process", n)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read inittab: %w", err)
	}
	return out, nil
}
