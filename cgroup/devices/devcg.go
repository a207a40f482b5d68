// Package devices is the guest's device allow-list: which device nodes its
// processes may open or create, whatever nodes they manage to get hold of
// (a devtmpfs, mknod, a bind mount): deny everything, then allow the
// standard nodes, the ptys and the XML's <hostdev>s. On cgroup v1 hosts it
// is the devices controller (Documentation/admin-guide/cgroup-v1/devices.rst,
// ApplyV1). Cgroup v2 has no devices files: the same rules become a
// BPF_PROG_TYPE_CGROUP_DEVICE program (Program, ApplyV2) attached to the
// guest's cgroup.
//
// The rules and their translation are plain data (OS-independent);
// devcg_linux.go and bpf_linux.go install them.
package devices

import (
	"fmt"
	"strconv"
	"strings"
)

// Wildcard stands for every major or minor number ("*").
const Wildcard = -1

// Rule allows one device, or a range with Wildcard, for an access set.
type Rule struct {
	// Type is 'c' (character), 'b' (block) or 'a' (all).
	Type         byte
	Major, Minor int64
	// Access is a subset of "rwm" (read, write, mknod).
	Access string
}

// String is the rule as the devices controller reads it: "c 1:3 rwm".
func (r Rule) String() string {
	if r.Type == 'a' {
		return "a"
	}
	num := func(n int64) string {
		if n == Wildcard {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

// Standard is what every guest may use: the nodes initsys binds into /dev
// (null, zero, full, random, urandom, tty), the console, the pty
// multiplexer and every pty slave (the guest's own devpts, and the
// consoles, slaves of the host's devpts).
var Standard = []Rule{
	{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"}, {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},
	{'c', 5, 0, "rwm"}, {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"},
	{'c', 136, Wildcard, "rwm"}, // Unix98 pty slaves (/dev/pts/N)
}

// DenyAll is the rule that clears the allow-list first.
var DenyAll = Rule{Type: 'a'}

// Validate checks a rule before it reaches the kernel.
func (r Rule) Validate() error {
	switch r.Type {
	case 'a':
		return nil
	case 'b', 'c':
	default:
		return fmt.Errorf("device rule %q: type must be a, b or c", r)
	}
	if r.Major < Wildcard || r.Minor < Wildcard || r.Major > 1<<32-1 || r.Minor > 1<<32-1 {
		return fmt.Errorf("device rule %q: numbers out of range", r)
	}
	if r.Access == "" || len(r.Access) > 3 {
		return fmt.Errorf("device rule %q: access must be a non-empty subset of rwm", r)
	}
	seen := map[rune]bool{}
	for _, c := range r.Access {
		if (c != 'r' && c != 'w' && c != 'm') || seen[c] {
			return fmt.Errorf("device rule %q: access must be a subset of rwm", r)
		}
		seen[c] = true
	}
	return nil
}

// Covers reports whether r allows every access of device (typ, major,
// minor) that o allows: a detached device's rule stays when another one
// still needs it.
func (r Rule) Covers(o Rule) bool {
	if r.Type == 'a' {
		return true
	}
	if r.Type != o.Type || (r.Major != Wildcard && r.Major != o.Major) || (r.Minor != Wildcard && r.Minor != o.Minor) {
		return false
	}
	for _, c := range o.Access {
		if !strings.ContainsRune(r.Access, c) {
			return false
		}
	}
	return true
}
