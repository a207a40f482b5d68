package main

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// execWatch reports the first open of the guest's init binary, which
// in a start cycle is the exec of the guest's /sbin/init (execve raises
// IN_OPEN on the file it runs). It separates the manager's share of a
// start (up to init's exec) from the guest's own boot work (rcS), which is
// the same for every peer.
type execWatch struct {
	fd   int
	seen chan time.Time
}

func newExecWatch(initPath string) (*execWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, initPath, unix.IN_OPEN); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", initPath, err)
	}
	w := &execWatch{fd: fd, seen: make(chan time.Time, 1)}
	go func() {
		buf := make([]byte, 4096)
		n, err := unix.Read(fd, buf)
		if err == nil && n > 0 {
			w.seen <- time.Now()
		}
		close(w.seen)
	}()
	return w, nil
}

// wait returns when the first open was seen, or false after d.
func (w *execWatch) wait(d time.Duration) (time.Time, bool) {
	select {
	case t, ok := <-w.seen:
		return t, ok
	default:
	}
	select {
	case t, ok := <-w.seen:
		return t, ok
	case <-time.After(d):
		return time.Time{}, false
	}
}

// close ends the watch (and the reading goroutine).
func (w *execWatch) close() { unix.Close(w.fd) }
