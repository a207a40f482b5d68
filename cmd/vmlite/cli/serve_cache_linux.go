package cli

import (
	"bytes"
	"sort"
	"strings"
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
// files (the same source as the lifecycle events). An event read from
// that instance marks the row of the guest it names stale, and the next
// call reads that guest's files again (Service.Listed); an event no
// watch explains (an IN_Q_OVERFLOW, a watch it was not told of) and every
// rescan mark the whole list stale. A call also looks
// whether the instance holds events nobody read yet, under the lock the
// reader takes to read them: so a change whose syscall returned before
// the call began (a CLI stop, a guest's poweroff that its supervisor
// recorded, a define) is always in the answer. Without an instance (none
// left, or the loop not running) every call reads the disk.
type domainCache struct {
	mu    sync.Mutex
	fd    int // the watcher's inotify fd; -1: no watcher, no cache
	stale bool
	// dirty are the guests whose rows changed since the last load: a
	// list reads only theirs (Service.Listed), not every guest's again.
	// An event no watch explains (an overflow, a watch the cache does not
	// know) makes the whole list stale instead.
	dirty map[string]bool
	rows  []service.Domain
	// gen counts the loads: rows of one gen never change; full counts
	// those that read every guest.
	gen, full uint64
	// watches says what each of fd's watch descriptors watches.
	watches map[int32]watchOn
	// seen is what the events read tell the Events loop, which it has not
	// taken yet (take); notify wakes it when a list read them.
	seen   changes
	notify chan struct{}
	buf    []byte
}

// watchOn is what one inotify watch is on: a directory whose entries
// name guests (by file name, less a suffix), one guest's runtime
// directory, or the networks' directories.
type watchOn struct {
	kind   watchKind
	name   string // watchGuest: the guest
	suffix string // watchNamed: cut from an entry's name to get the guest's
}

type watchKind int

const (
	watchNamed watchKind = iota
	watchGuest
	watchNets
)

// changes are what a batch of events says changed: every guest (all),
// the networks, or the guests named.
type changes struct {
	all, nets bool
	names     map[string]bool
}

func (ch *changes) mark(name string) {
	if ch.names == nil {
		ch.names = map[string]bool{}
	}
	ch.names[name] = true
}

func newDomainCache() *domainCache {
	return &domainCache{fd: -1, notify: make(chan struct{}, 1)}
}

// attach makes fd the watcher the cache trusts.
func (c *domainCache) attach(fd int) {
	c.mu.Lock()
	c.fd, c.stale, c.rows, c.dirty = fd, true, nil, nil
	c.watches = map[int32]watchOn{}
	c.mu.Unlock()
}

// addWatch adds a watch of path to fd and records what it is on, under
// the lock the reader parses under: an event of the new watch is never
// read before the cache knows the watch (it would read every guest).
func (c *domainCache) addWatch(fd int, path string, mask uint32, w watchOn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wd, err := unix.InotifyAddWatch(fd, path, mask)
	if err == nil && c.watches != nil && c.fd == fd {
		c.watches[int32(wd)] = w
	}
	return err
}

// detach stops trusting fd (before it is closed, so that a call never
// polls a number the kernel gave to another file).
func (c *domainCache) detach(fd int) {
	c.mu.Lock()
	if c.fd == fd {
		c.fd, c.rows, c.watches = -1, nil, nil
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
// without a write).
func (c *domainCache) invalidate() {
	c.mu.Lock()
	c.stale = true
	c.mu.Unlock()
}

// changed marks guest name's row stale, for the cache and the Events
// loop (a runtime directory whose watch came after its first writes).
func (c *domainCache) changed(name string) {
	c.mu.Lock()
	c.markLocked(name)
	c.mu.Unlock()
}

func (c *domainCache) markLocked(name string) {
	if c.dirty == nil {
		c.dirty = map[string]bool{}
	}
	c.dirty[name] = true
	c.seen.mark(name)
}

// take returns what the events read since the last take said, and
// forgets it.
func (c *domainCache) take() changes {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := c.seen
	c.seen = changes{}
	return ch
}

// drain reads what fd holds, under the lock, and marks what the events
// name stale. It reports whether it read anything.
func (c *domainCache) drain(fd int, buf []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.drainLocked(fd, buf)
}

func (c *domainCache) drainLocked(fd int, buf []byte) bool {
	got := false
	for {
		k, err := unix.Read(fd, buf)
		if k <= 0 || err != nil {
			break
		}
		got = true
		c.parseLocked(buf[:k])
	}
	return got
}

// parseLocked marks what a read of inotify events names.
func (c *domainCache) parseLocked(b []byte) {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(b) {
			break
		}
		name := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:end], "\x00"))
		b = b[end:]
		w, ok := c.watches[ev.Wd]
		switch {
		case ev.Mask&unix.IN_Q_OVERFLOW != 0 || !ok:
			c.stale, c.seen.all = true, true
		case w.kind == watchNets:
			c.seen.nets = true
		case w.kind == watchGuest:
			c.markLocked(w.name)
			if ev.Mask&unix.IN_IGNORED != 0 {
				delete(c.watches, ev.Wd) // the directory is gone
			}
		case ev.Mask&unix.IN_IGNORED != 0:
		default:
			// A temporary file (a definition written atomically) says
			// nothing: its rename into place does.
			if n, ok := strings.CutSuffix(name, w.suffix); ok && n != "" && !strings.HasPrefix(n, ".") && !strings.Contains(n, ".tmp") {
				c.markLocked(n)
			}
		}
	}
}

// list returns the guests, from memory when nothing changed since the
// last read of the disk (load; loadOne for one guest's row), and the
// rows' generation (0: read just for this call, no watcher). The rows
// are shared: callers copy what they change.
func (c *domainCache) list(load func() ([]service.Domain, error), loadOne func(string) (*service.Domain, bool, error)) ([]service.Domain, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		rows, err := load()
		return rows, 0, err
	}
	if !c.stale && c.rows != nil && pending(c.fd) {
		// Unread events: read them here, so that what they name is in
		// this answer, and wake the Events loop, which did not see them.
		if c.buf == nil {
			c.buf = make([]byte, 4096)
		}
		if c.drainLocked(c.fd, c.buf) {
			select {
			case c.notify <- struct{}{}:
			default:
			}
		}
	}
	if !c.stale && c.rows != nil && len(c.dirty) > 0 {
		if rows, ok := c.patchLocked(loadOne); ok {
			c.gen++
			c.rows, c.dirty = rows, nil
		} else {
			c.stale = true
		}
	}
	if c.stale || c.rows == nil {
		rows, err := load()
		if err != nil {
			c.rows = nil
			return nil, 0, err
		}
		c.gen++
		c.full++
		c.rows, c.stale, c.dirty = rows, false, nil
	}
	return c.rows, c.gen, nil
}

// patchLocked is the rows with each dirty guest's read again (a new
// slice: rows of one generation never change); false if one could not be
// read.
func (c *domainCache) patchLocked(loadOne func(string) (*service.Domain, bool, error)) ([]service.Domain, bool) {
	rows := make([]service.Domain, 0, len(c.rows)+len(c.dirty))
	for _, r := range c.rows {
		if !c.dirty[r.Name] {
			rows = append(rows, r)
		}
	}
	for n := range c.dirty {
		d, ok, err := loadOne(n)
		if err != nil {
			return nil, false
		}
		if ok {
			rows = append(rows, *d)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows, true
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
