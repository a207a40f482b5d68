package netdef

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"vmlite/state"
)

// lockNetworks takes RUN/networks/.lock, waiting for it: start, destroy and
// address allocation of all networks are serialised, because they share the
// nftables table, ip_forward and the address records.
func lockNetworks(l state.Layout) (unlock func(), err error) {
	dir := netsRunDir(l)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, &os.SyscallError{Syscall: "flock", Err: err})
	}
	return func() { f.Close() }, nil
}
