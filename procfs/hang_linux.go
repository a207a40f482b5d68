package procfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/mountinfo"
	"vmlite/internal/procstat"
	"vmlite/internal/runfile"
)

// A server that is stopped (SIGSTOP, a debugger's job control) or hung
// holds its lock, so Watch never sees it go, and every read in every guest
// waits for its answer: the kernel has no timeout of its own for a FUSE
// request unless the server asks for one at INIT (FUSE_REQUEST_TIMEOUT,
// Linux 6.14, which this server's INIT does not ask for yet), or the host sets the
// host-wide fs.fuse.default_request_timeout, which is not vmlite's to set.
// LXCFS does nothing about it either. So each supervisor that watches the
// server also guards it (guard): every probeEvery it looks at the
// server's state and asks it a statfs (a request the kernel never answers
// from its caches). A server stopped at two looks in a row, or whose
// probe is unanswered after hangAfter, is hung: its connection is aborted
// (/sys/fs/fuse/connections/N/abort: every waiting read fails at once,
// ECONNABORTED, and later ones ENOTCONN, as when it dies) and it is killed,
// so that Watch starts a new server, which binds its files into the
// guests again. A guest's read then waits at most about two probes for a
// stopped server and hangAfter for a hung one.
const (
	probeEvery = time.Second
	hangAfter  = 10 * time.Second
)

// identity is what the server writes into its lock file: its pid and
// start time (a pid alone may be another process's by the time it is
// killed).
func writeIdentity(f *os.File) error {
	st, err := procstat.Read(os.Getpid())
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt([]byte(fmt.Sprintf("%d %d\n", os.Getpid(), st.StartTime)), 0)
	return err
}

func (l Layout) identity() (pid int, start uint64, ok bool) {
	b, err := os.ReadFile(l.ServerLock())
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	return pid, start, err1 == nil && err2 == nil && pid > 0
}

// guard watches the running server for hangs until done is closed.
func (l Layout) guard(done <-chan struct{}, logf func(string, ...any)) {
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	var (
		probe     chan struct{} // the outstanding statfs, closed when answered
		probeAt   time.Time
		probePid  int
		stoppedAt int // consecutive looks at a stopped server
	)
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		pid, start, ok := l.identity()
		if !ok {
			continue
		}
		st, err := procstat.Read(pid)
		if err != nil || procstat.Ended(pid, start) {
			// Gone: Watch restarts it. A zombie leader whose other threads
			// still run has not ended: they may hang in the kernel, and
			// the probe below still finds that.
			probe, stoppedAt = nil, 0
			continue
		}
		if pid != probePid {
			probe, probePid, stoppedAt = nil, pid, 0
		}
		if st.State == 'T' {
			stoppedAt++
		} else {
			stoppedAt = 0
		}
		if probe != nil {
			select {
			case <-probe:
				probe = nil
			default:
			}
		}
		why := ""
		switch {
		case stoppedAt >= 2:
			why = "stopped"
		case probe != nil && time.Since(probeAt) > hangAfter:
			why = fmt.Sprintf("no answer to a statfs for %s", time.Since(probeAt).Round(time.Second))
		}
		if why != "" {
			if how, err := l.abortHung(pid, start); err != nil {
				logf("the /proc server %d is hung (%s): %v", pid, why, err)
			} else if how != "" {
				logf("the /proc server %d is hung (%s): %s; a new one starts", pid, why, how)
			}
			stoppedAt = 0
			continue
		}
		if probe == nil {
			probe, probeAt = make(chan struct{}), time.Now()
			go statfsProbe(l.Mountpoint(), probe)
		}
	}
}

// statfsProbe asks the server for its statfs and closes answered when it
// has (the goroutine, and its thread, wait as long as the server does:
// until the abort at the latest).
func statfsProbe(mnt string, answered chan struct{}) {
	var st unix.Statfs_t
	_ = unix.Statfs(mnt, &st)
	close(answered)
}

// abortHung aborts the FUSE connection of the server pid (started at
// start) and kills it, if it is still the running server, and says what
// it did ("" when the server was replaced or ended meanwhile). Under
// Lock, so that no start or exit runs meanwhile, unless the hung server
// itself holds it (stopped inside its idle check): then without, the
// pidfd alone naming what is killed.
func (l Layout) abortHung(pid int, start uint64) (string, error) {
	if lk := lockWithin(l.Lock(), lockWait); lk != nil {
		defer lk.Close()
	}
	if p, s, ok := l.identity(); !ok || p != pid || s != start {
		return "", nil // replaced meanwhile
	}
	// The pidfd names that process for good: the start time is checked
	// once it is held, so the kill cannot reach a reused pid.
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return "", fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	defer unix.Close(pfd)
	if st, err := procstat.Read(pid); err != nil || st.StartTime != start {
		return "", nil // it ended meanwhile
	}
	conns, errAbort := abortConnections(l.Mountpoint())
	how := "killed (no fusectl at " + fuseConnections + ": its connection ends with it)"
	if len(conns) > 0 {
		how = fmt.Sprintf("its connection aborted (%s %v), killed", fuseConnections, conns)
	}
	if err := unix.PidfdSendSignal(pfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return "", errors.Join(errAbort, fmt.Errorf("kill %d: %w", pid, err))
	}
	return how, errAbort
}

// lockWait is how long abortHung waits for Lock.
const lockWait = 3 * time.Second

// lockWithin takes the lock at path, or gives up after d (nil).
func lockWithin(path string, d time.Duration) *os.File {
	end := time.Now().Add(d)
	for {
		f, err := runfile.TryLock(path)
		if err == nil {
			return f
		}
		if time.Now().After(end) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fuseConnections is where the kernel's fusectl filesystem is mounted
// (systemd mounts it; a host without it has no abort files: the kill
// that follows the abort closes the server's /dev/fuse, which ends the
// connection as well, once the process can die).
const fuseConnections = "/sys/fs/fuse/connections"

// abortConnections aborts the FUSE connection of every vmlite mount at
// mnt (a dead one stacked below the live one included: aborting it again
// is harmless) and returns their numbers; none without fusectl.
func abortConnections(mnt string) ([]uint64, error) {
	var st unix.Statfs_t
	if unix.Statfs(fuseConnections, &st) != nil || st.Type != fusectlMagic {
		return nil, nil // no fusectl: the kill alone
	}
	// This thread's: the mount namespace it looks in (every thread's but
	// a Rebind's, which never gets here).
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	ms, err := mountinfo.Parse(string(b))
	if err != nil {
		return nil, err
	}
	var (
		done []uint64
		errs []error
	)
	for _, m := range ms {
		if m.MountPoint != mnt || m.FSType != FSType {
			continue
		}
		conn, err := connectionID(m.Dev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f := filepath.Join(fuseConnections, strconv.FormatUint(conn, 10), "abort")
		if err := os.WriteFile(f, []byte("1"), 0); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, conn)
	}
	if len(done) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("no %s mount at %s", FSType, mnt)
	}
	return done, errors.Join(errs...)
}

// fusectlMagic is FUSE_CTL_SUPER_MAGIC.
const fusectlMagic = 0x65735543

// connectionID is a FUSE connection's number in /sys/fs/fuse/connections:
// the kernel's encoding of its device (major<<20 | minor).
func connectionID(dev string) (uint64, error) {
	maj, min, ok := strings.Cut(dev, ":")
	a, err1 := strconv.ParseUint(maj, 10, 32)
	b, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil || b >= 1<<20 {
		return 0, fmt.Errorf("device %q: not major:minor", dev)
	}
	return a<<20 | b, nil
}
