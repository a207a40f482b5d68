package runfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// TryLock opens (creating) path and takes an exclusive flock without
// blocking. The lock lives as long as the returned file's open file
// description: passing the file to a child (ExtraFiles) passes the lock.
func TryLock(path string) (*os.File, error) {
	return tryLock(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC)
}

func tryLock(path string, flags int) (*os.File, error) {
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, &os.SyscallError{Syscall: "flock", Err: err})
	}
	return f, nil
}

// Lock opens (creating) path and waits for an exclusive flock: for
// host-wide locks held briefly (the idmap check, network changes, starting
// a shared supervisor). The lock lives as long as the returned file.
func Lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, &os.SyscallError{Syscall: "flock", Err: err})
	}
	return f, nil
}

// Held reports whether some process holds the lock at path (a live supervisor).
// A missing lock file is not held.
func Held(path string) (bool, error) {
	f, err := tryLock(path, os.O_RDONLY|unix.O_CLOEXEC)
	switch {
	case err == nil:
		f.Close()
		return false, nil
	case errors.Is(err, ErrLocked):
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}
