package main

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// execWatch reports the first exec of the guest's init binary: a
// fanotify FAN_OPEN_EXEC mark on the file, which only execve raises. It
// separates the manager's share of a start (up to init's exec) from the
// guest's own boot work (rcS), which is the same for every peer. A plain
// open does not count: vmlite's start reads /sbin/init to name the init
// system, which an inotify IN_OPEN watch took for the exec.
type execWatch struct {
	fd   int
	seen chan time.Time
}

func newExecWatch(initPath string) (*execWatch, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fanotify: %w", err)
	}
	if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, unix.FAN_OPEN_EXEC, unix.AT_FDCWD, initPath); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", initPath, err)
	}
	w := &execWatch{fd: fd, seen: make(chan time.Time, 1)}
	go func() {
		buf := make([]byte, 4096)
		n, err := unix.Read(fd, buf)
		if err == nil && n >= metaSize {
			w.seen <- time.Now()
			// Each event carries an fd of the file: ours to close.
			for off := 0; off+metaSize <= n; {
				m := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[off]))
				if m.Fd >= 0 {
					unix.Close(int(m.Fd))
				}
				if m.Event_len == 0 {
					break
				}
				off += int(m.Event_len)
			}
		}
		close(w.seen)
	}()
	return w, nil
}

// wait returns when the first exec was seen, or false after d.
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

// metaSize is the size of one fanotify event header.
const metaSize = int(unsafe.Sizeof(unix.FanotifyEventMetadata{}))

// close ends the watch (and the reading goroutine).
func (w *execWatch) close() { unix.Close(w.fd) }
