package caps

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// DropBounding removes the named capabilities from the calling thread's
// bounding set, so that nothing it execs can gain them again. One the
// kernel does not know (EINVAL) or the set already lacks is gone already
// and skipped. An unknown name is an error before anything is dropped.
// (vmlite exec's forked child drops the same Mask with raw system calls:
// it cannot call Go code that might allocate.)
func DropBounding(names []string) error {
	mask, err := Mask(names)
	if err != nil {
		return err
	}
	for c := uintptr(0); c < 64; c++ {
		if mask&(1<<c) == 0 {
			continue
		}
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, c, 0, 0, 0)
		if errors.Is(err, unix.EINVAL) || (err == nil && in == 0) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil {
			return &os.SyscallError{Syscall: "prctl(PR_CAPBSET_DROP " + name(int(c)) + ")", Err: err}
		}
	}
	return nil
}

// name is the CAP_X name of capability c, for messages.
func name(c int) string {
	for n, v := range names {
		if v == c {
			return n
		}
	}
	return "capability " + strconv.Itoa(c)
}
