// Package sysfile reads the small files of /proc and /sys (cgroupfs
// control files, /proc/PID/status) with plain open, read and close.
// os.ReadFile costs eight system calls on such a file: the runtime tries
// to register every file it opens with its poller (fcntl twice, and on
// cgroupfs, whose files support poll, epoll_ctl in and out) and stats it
// for a size these files do not report. A stop's teardown reads one or
// more per cgroup hierarchy.
package sysfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// Read returns the whole content of path. Errors are *os.PathError, so
// errors.Is(err, fs.ErrNotExist) and the like work as for os.ReadFile.
func Read(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
