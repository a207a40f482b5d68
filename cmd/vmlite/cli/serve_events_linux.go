package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/sys/unix"

	"vmlite/libvirtrpc"
	"vmlite/netdef"
	"vmlite/service"
	"vmlite/state"
)

// Lifecycle events come from the state files themselves: every change,
// whoever makes it (an RPC call, the CLI, a guest powering off, rebooting
// or crashing, which only its supervisor sees), lands in the definitions,
// the runtime directories and last/NAME.json. The daemon watches those
// directories with inotify and diffs what it sees against what it saw, so
// it needs no help from supervisors or the CLI, and works the same whether
// it started before or after the guests (its first look is the baseline).
// A rescan catches anything a watch missed: every rescanEvery while a
// stopped guest's last state is awaited (or without inotify), else every
// idleRescanEvery, rarely enough that an idle daemon stays idle (each
// rescan reads every guest's state and faults code back in).
const (
	rescanEvery     = 2 * time.Second
	idleRescanEvery = 30 * time.Second
)

type guestSeen struct {
	uuid      [16]byte
	defined   bool
	defMtime  time.Time
	active    bool
	id        int32
	restarts  int
	startedAt time.Time
	paused    bool
	// lastStopped is last/NAME.json's StoppedAt: a new one means a run ended.
	lastStopped time.Time
	// pendingSince: the guest went away before its last run's state was
	// written; its STOPPED event waits for that (for the reason).
	pendingSince time.Time
}

type netSeen struct {
	uuid            [16]byte
	defined, active bool
	// defMtime: a redefinition is a Defined event too, as in libvirt.
	defMtime time.Time
}

func (b *rpcBackend) Events(ctx context.Context, out chan<- libvirtrpc.Event) error {
	l := b.app.Layout
	dirs := []string{l.DomainsDir(), l.NetworksDir(), l.GuestsRunDir(), filepath.Join(l.Run, "networks"), filepath.Join(l.Lib, "last"), filepath.Join(l.Lib, "autostart")}
	for _, d := range dirs {
		_ = os.MkdirAll(d, 0o755)
	}
	fd, stop, err := watcherFDs()
	if err != nil {
		// The host's inotify instances are per user and limited
		// (fs.inotify.max_user_instances, 128 by default): without one,
		// the rescan alone finds the changes (poll ignores fd -1, so the
		// loop below waits rescanEvery), and the daemon goes on serving.
		fmt.Fprintf(b.app.Stderr, "vmlite serve: inotify: %v; lifecycle events come from a rescan every %v (raise fs.inotify.max_user_instances)\n", err, rescanEvery)
	}
	const mask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB
	// What each watch is on, for the cache and this loop: which guest an
	// event names (the definitions, the runtime directories, last states
	// and autostart marks name guests by file name), or the networks.
	kinds := []watchOn{{suffix: ".xml"}, {kind: watchNets}, {}, {kind: watchNets}, {suffix: ".json"}, {}}
	if fd >= 0 {
		b.cache.attach(fd)
	}
	for i, d := range dirs {
		_ = b.cache.addWatch(fd, d, mask, kinds[i])
	}
	watched := map[string]bool{}
	watchRunDirs := func() {
		ents, _ := os.ReadDir(l.GuestsRunDir())
		for _, e := range ents {
			p := filepath.Join(l.GuestsRunDir(), e.Name())
			if e.IsDir() && !watched[p] {
				if err := b.cache.addWatch(fd, p, mask, watchOn{kind: watchGuest, name: e.Name()}); err == nil {
					watched[p] = true
					// Written in before its watch: read by the next list
					// and the next look.
					b.cache.changed(e.Name())
				}
			}
		}
	}
	watchRunDirs()
	wake := make(chan struct{}, 1)
	var pending, rescan atomic.Bool
	readerDone := make(chan struct{})
	if fd >= 0 {
		// The reader is gone before fd is closed: until then it may poll
		// or read fd, and a closed number may be another file's by then
		// (a client's connection). stop wakes it from its poll.
		defer func() {
			_, _ = unix.Write(stop, []byte{1, 0, 0, 0, 0, 0, 0, 0})
			<-readerDone
			b.cache.detach(fd)
			unix.Close(fd)
			unix.Close(stop)
		}()
	}
	guests, nets := b.scanGuests(), b.scanNets()
	go func() {
		defer close(readerDone)
		// A blocking read would pin a thread; poll the fd with a timeout.
		buf := make([]byte, 64<<10)
		for ctx.Err() == nil {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(stop), Events: unix.POLLIN}}
			every := idleRescanEvery
			if fd < 0 || pending.Load() {
				every = rescanEvery
			}
			n, _ := unix.Poll(pfd, int(every/time.Millisecond))
			if pfd[1].Revents != 0 {
				return
			}
			switch {
			case n <= 0:
				rescan.Store(true) // the poll's timeout: the safety net's rescan
			case !b.cache.drain(fd, buf):
				continue // a list read them first, and woke the loop
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	for {
		full := false
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-b.cache.notify:
		case <-b.kicked:
			full = true
		}
		watchRunDirs()
		for p := range watched {
			if _, err := os.Stat(p); err != nil {
				delete(watched, p) // the kernel dropped the watch with the directory
			}
		}
		// Events name the guests they are about: a start, a stop or a
		// define is a look at that guest, not at every one (200 guests
		// read several times per start cost the daemon more CPU than the
		// start itself). The rescan (the reader's poll timed out), an event
		// no watch explains, a kick: every guest, as the cache then. A
		// wake that finds nothing to take (the reader's and a list's wakes
		// for events one of them read) looks at nothing.
		ch := b.cache.take()
		if full = full || ch.all || rescan.Swap(false); full {
			b.cache.invalidate()
		}
		ng, nn := guests, nets
		if full || guests == nil {
			ng = b.scanGuests()
		} else if len(ch.names) > 0 {
			ng = b.rescanGuests(guests, ch.names)
		}
		if full || ch.nets || nets == nil {
			nn = b.scanNets()
		}
		for _, ev := range diffGuests(guests, ng, b) {
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
		for _, ev := range diffNets(nets, nn) {
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
		guests, nets = ng, nn
		waiting := false
		for _, g := range guests {
			waiting = waiting || !g.pendingSince.IsZero()
		}
		pending.Store(waiting)
	}
}

// watcherFDs opens the Events loop's inotify instance and the eventfd
// that wakes its reader at the end; both or neither (-1, -1).
func watcherFDs() (fd, stop int, err error) {
	fd, err = unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return -1, -1, err
	}
	stop, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return -1, -1, fmt.Errorf("eventfd: %w", err)
	}
	return fd, stop, nil
}

func (b *rpcBackend) scanGuests() map[string]guestSeen {
	rows, err := b.svc.List(context.Background(), service.ListOptions{All: true})
	if err != nil {
		return nil
	}
	seen := map[string]guestSeen{}
	for i := range rows {
		if s, ok := b.seeGuest(&rows[i]); ok {
			seen[rows[i].Name] = s
		}
	}
	return seen
}

// rescanGuests is old with the guests named looked at again (a copy:
// diffGuests compares the two).
func (b *rpcBackend) rescanGuests(old map[string]guestSeen, names map[string]bool) map[string]guestSeen {
	seen := make(map[string]guestSeen, len(old)+len(names))
	for n, s := range old {
		seen[n] = s
	}
	for n := range names {
		delete(seen, n)
		if d, ok, err := b.svc.Listed(context.Background(), n); err == nil && ok {
			if s, ok := b.seeGuest(d); ok {
				seen[n] = s
			}
		}
	}
	return seen
}

// seeGuest is what the event loop sees of the guest of row d; false for
// one neither defined nor active.
func (b *rpcBackend) seeGuest(d *service.Domain) (guestSeen, bool) {
	l := b.app.Layout
	n := d.Name
	g, err := b.svc.Inspect(context.Background(), n)
	if err != nil {
		return guestSeen{}, false
	}
	// Active while a supervisor holds the guest (through a reboot's
	// gap between two inits too), or its processes outlive it.
	s := guestSeen{uuid: uuidBytes(d.UUID), defined: g.Defined, active: g.Running || g.Orphaned, id: info(d).ID}
	if !s.defined && !s.active {
		return guestSeen{}, false
	}
	if fi, err := os.Stat(l.DomainFile(n)); err == nil {
		s.defMtime = fi.ModTime()
	}
	if g.State != nil {
		s.restarts, s.startedAt = g.State.Restarts, g.State.StartedAt
		s.paused = g.Running && g.State.Status == state.Paused
	}
	if st, err := state.Read(l.LastFile(n)); err == nil {
		s.lastStopped = st.StoppedAt
	}
	return s, true
}

// stopDetail reads why a guest stopped from its last run's state.
func (b *rpcBackend) stopDetail(name string) int32 {
	st, err := state.Read(b.app.Layout.LastFile(name))
	if err != nil {
		return int32(libvirt.DomainEventStoppedShutdown)
	}
	switch st.Reason {
	case state.ReasonDestroyed:
		return int32(libvirt.DomainEventStoppedDestroyed)
	case state.ReasonCrashed:
		return int32(libvirt.DomainEventStoppedCrashed)
	case state.ReasonFailed:
		return int32(libvirt.DomainEventStoppedFailed)
	}
	return int32(libvirt.DomainEventStoppedShutdown)
}

// pendingFor bounds the wait for a stopped guest's last state: past it the
// STOPPED event goes out without the reason.
const pendingFor = 5 * time.Second

// diffGuests turns two looks at the guests into events. cur's entries
// may be updated (a pending stop carried forward); gone guests with a
// pending stop stay in cur until it is sent.
func diffGuests(old, cur map[string]guestSeen, b *rpcBackend) []libvirtrpc.Event {
	var evs []libvirtrpc.Event
	ev := func(name string, s guestSeen, typ libvirt.DomainEventType, detail int32) {
		id := int32(-1)
		if s.active {
			id = s.id
		}
		evs = append(evs, libvirtrpc.Event{Name: name, UUID: s.uuid, ID: id, Type: int32(typ), Detail: detail})
	}
	now := time.Now()
	// stopped handles a run that ended: the event now if its last state
	// is there, else later.
	stopped := func(name string, c *guestSeen, o guestSeen) {
		// The supervisor records the last state before it lets go of the
		// guest, or just after: it is this run's when it is not older
		// than the run's start.
		c.startedAt = o.startedAt
		if !c.lastStopped.IsZero() && !c.lastStopped.Before(o.startedAt) || !o.pendingSince.IsZero() && now.Sub(o.pendingSince) > pendingFor {
			c.pendingSince = time.Time{}
			ev(name, *c, libvirt.DomainEventStopped, b.stopDetail(name))
			return
		}
		c.pendingSince = o.pendingSince
		if c.pendingSince.IsZero() {
			c.pendingSince = now
		}
	}
	for name, c := range cur {
		o, had := old[name]
		switch {
		case c.defined && (!had || !o.defined):
			ev(name, c, libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedAdded))
		case c.defined && had && o.defined && !c.defMtime.Equal(o.defMtime):
			ev(name, c, libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedUpdated))
		}
		switch {
		case c.active && (!had || !o.active):
			if !o.pendingSince.IsZero() { // the previous run's end, never seen
				ev(name, guestSeen{uuid: c.uuid}, libvirt.DomainEventStopped, b.stopDetail(name))
			}
			ev(name, c, libvirt.DomainEventStarted, int32(libvirt.DomainEventStartedBooted))
			if c.paused { // started and suspended between two looks
				ev(name, c, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused))
			}
		case c.active && o.active && c.restarts > o.restarts:
			evs = append(evs, libvirtrpc.Event{Reboot: true, Name: name, UUID: c.uuid, ID: c.id})
		case c.active && o.active && c.paused && !o.paused:
			ev(name, c, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused))
		case c.active && o.active && !c.paused && o.paused:
			ev(name, c, libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedUnpaused))
		case !c.active && had && o.active:
			stopped(name, &c, o)
		case !c.active && had && !o.pendingSince.IsZero():
			stopped(name, &c, o)
		case !c.active && had && c.lastStopped.After(o.lastStopped):
			// Started and gone between two looks: say both.
			ev(name, c, libvirt.DomainEventStarted, int32(libvirt.DomainEventStartedBooted))
			ev(name, c, libvirt.DomainEventStopped, b.stopDetail(name))
		}
		cur[name] = c
		if !c.defined && had && o.defined {
			ev(name, c, libvirt.DomainEventUndefined, int32(libvirt.DomainEventUndefinedRemoved))
		}
	}
	for name, o := range old {
		if _, ok := cur[name]; ok {
			continue
		}
		gone := o
		gone.active, gone.defined = false, false
		if o.active || !o.pendingSince.IsZero() {
			gone.lastStopped = o.lastStopped
			if st, err := state.Read(b.app.Layout.LastFile(name)); err == nil {
				gone.lastStopped = st.StoppedAt
			}
			stopped(name, &gone, o)
			if !gone.pendingSince.IsZero() {
				cur[name] = gone // keep waiting for its last state
			}
		}
		if o.defined {
			ev(name, gone, libvirt.DomainEventUndefined, int32(libvirt.DomainEventUndefinedRemoved))
		}
	}
	return evs
}

func (b *rpcBackend) scanNets() map[string]netSeen {
	ns, err := netdef.List(b.app.Layout)
	seen := map[string]netSeen{}
	if err != nil {
		return seen
	}
	for _, n := range ns {
		ns := netSeen{uuid: uuidBytes(n.UUID), defined: !n.Transient, active: netdef.Active(b.app.Layout, n.Name)}
		if fi, err := os.Stat(netdef.DefinitionFile(b.app.Layout, n.Name)); err == nil && ns.defined {
			ns.defMtime = fi.ModTime()
		}
		seen[n.Name] = ns
	}
	return seen
}

// diffNets is libvirt's network lifecycle events between two scans: a
// transient network (not defined) is only ever Started and Stopped; one
// defined while it runs is Defined then.
func diffNets(old, cur map[string]netSeen) []libvirtrpc.Event {
	var evs []libvirtrpc.Event
	ev := func(name string, s netSeen, typ libvirt.NetworkEventLifecycleType) {
		evs = append(evs, libvirtrpc.Event{Network: true, Name: name, UUID: s.uuid, Type: int32(typ)})
	}
	for name, c := range cur {
		o, had := old[name]
		if c.defined && (!had || !o.defined || !c.defMtime.Equal(o.defMtime)) {
			ev(name, c, libvirt.NetworkEventDefined)
		}
		if c.active && !o.active {
			ev(name, c, libvirt.NetworkEventStarted)
		}
		if !c.active && had && o.active {
			ev(name, c, libvirt.NetworkEventStopped)
		}
		if !c.defined && had && o.defined {
			ev(name, c, libvirt.NetworkEventUndefined)
		}
	}
	for name, o := range old {
		if _, ok := cur[name]; !ok {
			if o.active {
				ev(name, o, libvirt.NetworkEventStopped)
			}
			if o.defined {
				ev(name, o, libvirt.NetworkEventUndefined)
			}
		}
	}
	return evs
}
