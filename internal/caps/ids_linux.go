package caps

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SetIDs makes the calling thread's process run as uid and gid, with gid
// its only supplementary group: real, effective and saved ids alike, so
// that nothing can switch back. Leaving uid 0 clears the capability sets
// (the kernel's rule without SECBIT_KEEP_CAPS).
func SetIDs(uid, gid int) error {
	if err := unix.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("set groups: %w", os.NewSyscallError("setgroups", err))
	}
	if err := unix.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("set gid %d: %w", gid, os.NewSyscallError("setresgid", err))
	}
	if err := unix.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("set uid %d: %w", uid, os.NewSyscallError("setresuid", err))
	}
	return nil
}
