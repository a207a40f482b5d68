package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// unmountUnder detaches every mount at or below dir (deepest first).
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	mps, err := MountsUnder(f, dir)
	f.Close()
	if err != nil {
		return err
	}
	for _, mp := range mps {
		// MNT_DETACH: a busy /proc (a process still inside) must not stop the cleanup.
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", mp, &os.PathError{Op: "umount2", Path: mp, Err: err})
		}
	}
	return nil
}

// removeTree removes dir after detaching the mounts under it, and refuses if
// one is still there: deleting through a bind mount of /dev or /proc left by
// an interrupted debootstrap would delete the host's files.
func removeTree(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := unmountUnder(dir); err != nil {
		return err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	left, err := MountsUnder(f, dir)
	f.Close()
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("not removing %s: %s is still mounted", dir, left[0])
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
