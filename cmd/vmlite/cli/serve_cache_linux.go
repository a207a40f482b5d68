package cli

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"vmlite/service"
)

// domainCache keeps the last list of guests (name, uuid, id, state) so
// that virsh's list and its GET_STATE per guest are answered from memory,
// as libvirtd answers them, instead of reading every guest's lock, state
// and definition again (bench/README.md, the serve section).
//
// It is only as good as the watcher behind it: the Events loop's inotify
// instance, which sees every write to the definitions and the state
// files (the same source as the lifecycle events). Anything read from
// that instance, an IN_Q_OVERFLOW included, and every rescan, marks the
// list stale; the next call reads the disk again. A call also looks
// whether the instance holds events nobody read yet, under the lock the
// reader takes to read them: so a change whose syscall returned before
// the call began (a CLI stop, a guest's poweroff that its supervisor
// recorded, a define) is always in the answer. Without an instance (none
// left, or the loop not running) every call reads the disk.
type domainCache struct {
	mu    sync.Mutex
	fd    int // the watcher's inotify fd; -1: no watcher, no cache
	stale bool
	rows  []service.Domain
	// gen counts the loads: rows of one gen never change.
	gen uint64
}

func newDomainCache() *domainCache { return &domainCache{fd: -1} }

// attach makes fd the watcher the cache trusts.
func (c *domainCache) attach(fd int) {
	c.mu.Lock()
	c.fd, c.stale, c.rows = fd, true, nil
	c.mu.Unlock()
}

// detach stops trusting fd (before it is closed, so that a call never
// polls a number the kernel gave to another file).
func (c *domainCache) detach(fd int) {
	c.mu.Lock()
	if c.fd == fd {
		c.fd, c.rows = -1, nil
	}
	c.mu.Unlock()
}

// watching reports whether a watcher is attached (lists are cached).
func (c *domainCache) watching() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fd >= 0
}

// invalidate marks the list stale (a rescan: a supervisor that died
// without a write, a watch added late).
func (c *domainCache) invalidate() {
	c.mu.Lock()
	c.stale = true
	c.mu.Unlock()
}

// drain reads what fd holds, under the lock, and marks the list stale if
// anything was there. It reports whether it read anything.
func (c *domainCache) drain(fd int, buf []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := false
	for {
		k, err := unix.Read(fd, buf)
		if k <= 0 || err != nil {
			break
		}
		got = true
	}
	if got {
		c.stale = true
	}
	return got
}

// list returns the guests, from memory when nothing changed since the
// last read of the disk (load), and the rows' generation (0: read just
// for this call, no watcher). The rows are shared: callers copy what they
// change.
func (c *domainCache) list(load func() ([]service.Domain, error)) ([]service.Domain, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		rows, err := load()
		return rows, 0, err
	}
	if !c.stale && c.rows != nil {
		if pending(c.fd) {
			c.stale = true // unread events: the reader drains them
		}
	}
	if c.stale || c.rows == nil {
		rows, err := load()
		if err != nil {
			c.rows = nil
			return nil, 0, err
		}
		c.gen++
		c.rows, c.stale = rows, false
	}
	return c.rows, c.gen, nil
}

// pending reports whether inotify fd holds unread events (or cannot
// tell): a ppoll with a zero timeout, raw, since it never blocks: the
// runtime's syscall entry would wake its sysmon thread on every call of
// an otherwise idle daemon (libvirtrpc's rawIO says why that matters).
func pending(fd int) bool {
	pfd := unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	var ts unix.Timespec
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return e != 0 || n > 0
}
