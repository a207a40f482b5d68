// Package exepages hands back the pages of the running executable that a
// long-lived vmlite process (a supervisor) mapped while it started guests.
//
// vmlite is one large static binary; faulting in its code maps the pages
// around each fault as well (the kernel's fault-around), so a supervisor
// that has started a guest maps most of the code it will not run again
// until the next start. Those pages stay in the page cache (shared with
// every other vmlite process and reclaimable); unmapping them from the
// idle process only takes them out of its RSS and PSS, and out of the
// protection the kernel gives mapped executable pages under memory
// pressure. The next start faults back in what it runs.
package exepages

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Range is one mapping of the executable: [Start, End).
type Range struct{ Start, End uintptr }

// readOnlyRanges returns the mappings of path in a /proc/PID/maps listing
// that are neither writable nor shared: the code and read-only data, which
// madvise(MADV_DONTNEED) can drop without losing anything (writable
// private mappings hold the process's own copies of data pages).
//
//	address           perms offset  dev   inode      pathname
//	00400000-00c4e000 r-xp 00000000 fd:00 1234       /usr/bin/vmlite
func readOnlyRanges(r io.Reader, path string) []Range {
	var out []Range
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || strings.Join(f[5:], " ") != path {
			continue
		}
		perms := f[1]
		if len(perms) != 4 || perms[1] != '-' || perms[3] != 'p' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		out = append(out, Range{uintptr(start), uintptr(end)})
	}
	return out
}
