package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// regWatch tells the view which registry entries changed (inotify on
// Layout.GuestsDir), so that a guest's registration costs the server the
// reading of that one entry, not of every entry: each start registers a
// guest and then looks up its tree, which without it read all N entries
// again (N starts: N² entries read, 35 µs each; bench/README.md).
type regWatch struct {
	fd  int
	buf []byte
}

// regEvents are what the registry directory says changed: names, or
// all (an overflowed queue, the directory itself gone or moved).
type regEvents struct {
	names []string
	all   bool
}

const regMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// watchRegistry starts watching dir.
func watchRegistry(dir string) (*regWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, regMask); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return &regWatch{fd: fd, buf: make([]byte, 4096)}, nil
}

// pending returns the changes queued since the last call, without
// waiting; an error means the watch is no use any more.
func (w *regWatch) pending() (regEvents, error) {
	var ev regEvents
	for {
		n, err := unix.Read(w.fd, w.buf)
		if errors.Is(err, unix.EAGAIN) {
			return ev, nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return ev, fmt.Errorf("read inotify: %w", err)
		}
		if err := parseInotify(w.buf[:n], &ev); err != nil {
			return ev, err
		}
		if ev.all {
			return ev, nil
		}
	}
}

func (w *regWatch) close() { unix.Close(w.fd) }

const inotifyHeader = int(unsafe.Sizeof(unix.InotifyEvent{}))

// parseInotify adds the events in b (what one read of an inotify
// descriptor returned) to ev: the names of entries created, replaced or
// removed (not the dot files of a write in progress), or all when the
// queue overflowed or the directory went.
func parseInotify(b []byte, ev *regEvents) error {
	for len(b) > 0 {
		if len(b) < inotifyHeader {
			return fmt.Errorf("inotify: %d bytes left, short of an event", len(b))
		}
		var e unix.InotifyEvent
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&e)), inotifyHeader), b)
		if uint64(e.Len) > uint64(len(b)-inotifyHeader) {
			return fmt.Errorf("inotify: an event's name of %d bytes past the %d read", e.Len, len(b))
		}
		name := b[inotifyHeader : inotifyHeader+int(e.Len)]
		b = b[inotifyHeader+int(e.Len):]
		if e.Mask&(unix.IN_Q_OVERFLOW|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0 {
			ev.all = true
			continue
		}
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if len(name) == 0 || name[0] == '.' {
			continue // a WriteRuntimeFile in progress
		}
		ev.names = append(ev.names, string(name))
	}
	return nil
}
