package procfs

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/exepages"
	"vmlite/internal/procstat"
	"vmlite/internal/runfile"
)

// Role is the hidden command of the server: vmlite __procfs DIR LOG.
const Role = "__procfs"

// readyFD is where the server says "ready" once mounted (and guests bound
// again after a restart).
const readyFD = 3

// gcPercent is the server's GOGC.
const gcPercent = 25

// idleCheck is how often the server looks whether the registry changed;
// pruneEvery how many of those checks go by, when it did not, before it
// reads the registry and looks for guests gone without unregistering
// (each look reads every entry and its init's stat: at 1000 guests
// not a thing to do every second).
const (
	idleCheck  = time.Second
	pruneEvery = 10
)

// fuseMagic is FUSE_SUPER_MAGIC.
const fuseMagic = 0x65735546

// Boottime is CLOCK_BOOTTIME: uptime counts from there, suspend included.
func Boottime() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return time.Duration(ts.Nano())
}

// Main runs the server: args are the layout's directory and the log file.
func Main(args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: vmlite %s DIR LOGFILE\n", Role)
		return 2
	}
	l := Layout{Dir: args[0]}
	lf, err := os.OpenFile(args[1], os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logger := log.New(lf, fmt.Sprintf("procfs[%d] ", os.Getpid()), log.LstdFlags|log.Lmicroseconds)
	// A small resident daemon whose live heap is a few hundred KiB and
	// whose garbage is each answer's: collect at 25% growth rather than
	// 100% (Go's smallest heap goal scales with it), and give what a burst
	// of reads grew back to the kernel once it is over (idle, below).
	debug.SetGCPercent(gcPercent)
	ready := os.NewFile(readyFD, "ready")
	if err := serve(l, logger, ready); err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}

func serve(l Layout, logger *log.Logger, ready *os.File) error {
	// Held until this process is gone: supervisors wait on it to restart
	// a server that died (see Watch).
	lock, err := runfile.Lock(l.ServerLock())
	if err != nil {
		return err
	}
	defer lock.Close() // also keeps it from the garbage collector's finalizer
	// Who holds it, for the supervisors' guard (hang_linux.go).
	if err := writeIdentity(lock); err != nil {
		return err
	}
	mnt := l.Mountpoint()
	detachDead(mnt) // before anything looks at mnt: a dead mount answers ENOTCONN
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return err
	}
	mode, err := cgroup.Detect()
	if err != nil {
		return err
	}
	v := NewView(l, mode, cgroup.DefaultRoot, "/", Boottime)
	v.logf = logger.Printf
	if err := os.MkdirAll(l.GuestsDir(), 0o700); err != nil {
		return err
	}
	if err := v.Watch(); err != nil {
		logger.Printf("%v: the registry is read again whole when it changes", err)
	}
	conn, srv, err := mount(mnt, v, logger)
	if err != nil {
		return err
	}
	// The connection ends when it is aborted (the guard's abort of a hung
	// server, or by hand): nothing is served after, so the server goes
	// and a new one starts.
	ended := make(chan struct{})
	go func() {
		if err := conn.Serve(); err != nil {
			logger.Print(err)
		}
		close(ended)
	}()
	ents, _ := l.Entries()
	for _, e := range ents {
		if e.InitPID == 0 {
			continue // not running yet: its supervisor binds the new mount once it registers the pid
		}
		if err := Rebind(e, mode, mnt); err != nil {
			logger.Printf("guest %s: bind again: %v", e.Name, err)
		} else {
			logger.Printf("guest %s: served again", e.Name)
		}
	}
	logger.Printf("serving %s for %d guests", mnt, len(ents))
	if ready != nil {
		_, _ = ready.WriteString("ready\n")
		ready.Close()
	}
	// The mount namespaces the guests made themselves, after "ready": a
	// guest's count of them must not delay every guest's restart.
	go func() {
		for _, e := range ents {
			if e.InitPID == 0 {
				continue
			}
			n, err := RebindOthers(e, mode, cgroup.DefaultRoot, mnt)
			if err != nil {
				logger.Printf("guest %s: bind again in its own mount namespaces: %v", e.Name, err)
			}
			if n > 0 {
				logger.Printf("guest %s: served again in %d mount namespaces it made", e.Name, n)
			}
		}
	}()
	// Serving runs little of vmlite's code; what starting up mapped goes
	// back to the page cache (package exepages), once the starts that
	// came with this server are likely over (supervisor/exepages_linux.go).
	time.AfterFunc(30*time.Second, func() {
		if err := exepages.Drop(); err != nil {
			logger.Printf("give back the executable's pages: %v", err)
		}
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	tick := time.NewTicker(idleCheck)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case s := <-sig:
			logger.Printf("%v: unmounting", s)
			detach(mnt)
			return nil
		case <-ended:
			logger.Printf("the FUSE connection ended (aborted): exiting")
			detach(mnt)
			return nil
		case <-tick.C:
		}
		changed := v.Refresh()
		srv.sweep()
		if srv.answers.Swap(0) > 0 {
			debug.FreeOSMemory()
		}
		if !changed && n%pruneEvery != 0 {
			continue
		}
		lk, err := runfile.Lock(l.Lock())
		if err != nil {
			if _, serr := os.Stat(l.Dir); errors.Is(serr, os.ErrNotExist) {
				logger.Printf("%s was removed: unmounting", l.Dir)
				detach(mnt)
				return nil
			}
			logger.Print(err)
			continue
		}
		ents, _ := l.Entries()
		ents = l.pruneGone(ents, logger)
		if len(ents) == 0 {
			// Exit with the lock held: a start that registers next finds
			// the server gone and starts another.
			logger.Printf("no guest left: unmounting")
			detach(mnt)
			return nil
		}
		lk.Close()
	}
}

// pruneGone drops the entries of guests that are gone without their
// supervisor saying so (it was killed: nothing else unregisters them), and
// returns the rest. A guest is gone when its recorded init has ended (the
// pid with its start time), or when it never recorded one and its entry
// is older than any start takes. Call it with Lock held.
func (l Layout) pruneGone(ents []Entry, logger *log.Logger) []Entry {
	live := ents[:0]
	for _, e := range ents {
		if gone, why := entryGone(l, e, time.Now()); gone {
			logger.Printf("guest %s: %s: forgotten", e.Name, why)
			_ = l.Unregister(e.Name)
			continue
		}
		live = append(live, e)
	}
	return live
}

// startGrace is how long an entry may wait for its init's pid: far longer
// than any start, so only a start whose supervisor died meanwhile hits it.
const startGrace = 5 * time.Minute

func entryGone(l Layout, e Entry, now time.Time) (bool, string) {
	if e.InitPID == 0 {
		fi, err := os.Stat(filepath.Join(l.GuestsDir(), e.Name))
		if err == nil && now.Sub(fi.ModTime()) > startGrace {
			return true, "no init recorded since " + fi.ModTime().Format(time.RFC3339)
		}
		return false, ""
	}
	st, err := procstat.Read(e.InitPID)
	if errors.Is(err, os.ErrNotExist) {
		return true, fmt.Sprintf("init %d has ended", e.InitPID)
	}
	if err == nil && (st.Zombie() || (e.InitStart != 0 && st.StartTime != e.InitStart)) {
		return true, fmt.Sprintf("init %d has ended", e.InitPID)
	}
	return false, ""
}

// detach lazily unmounts the server's mount: binds of it in guests that are
// still being torn down keep the connection until they go, and the exit
// of this process aborts it.
func detach(mnt string) {
	_ = unix.Unmount(mnt, unix.MNT_DETACH)
	_ = os.Remove(mnt)
}

// detachDead removes what a dead server left mounted at mnt (a dead FUSE
// mount answers ENOTCONN).
func detachDead(mnt string) {
	for i := 0; i < 8; i++ {
		var st unix.Statfs_t
		err := unix.Statfs(mnt, &st)
		if !errors.Is(err, unix.ENOTCONN) && (err != nil || st.Type != fuseMagic) {
			return
		}
		if unix.Unmount(mnt, unix.MNT_DETACH) != nil {
			return
		}
	}
}

// binPath is this binary, for spawning the server: /proc/self/exe still
// works when the file was replaced or removed meanwhile (an upgrade).
func binPath() string { return "/proc/self/exe" }
