package exepages

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Drop unmaps the pages of the executable's read-only mappings from this
// process (they stay in the page cache); what runs next faults back in.
func Drop() error {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	ranges := readOnlyRanges(f, exe)
	f.Close()
	for _, r := range ranges {
		// The raw call: these addresses are no Go memory to make a slice of.
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, r.Start, r.End-r.Start, unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("madvise %x-%x: %w", r.Start, r.End, e)
		}
	}
	return nil
}
