package procfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/runfile"
)

// startTimeout bounds a server's start-up (mount, binding running guests
// again).
const startTimeout = 20 * time.Second

// Attach registers e and makes sure the server runs, starting it if need
// be: what a supervisor does before cloning a guest that uses it. logFile
// receives the server's diagnostics.
func (l Layout) Attach(e Entry, logFile string) error {
	if err := os.MkdirAll(l.Dir, runfile.RunDirMode); err != nil {
		return err
	}
	lk, err := runfile.Lock(l.Lock())
	if err != nil {
		return err
	}
	defer lk.Close()
	if err := l.Register(e); err != nil {
		return err
	}
	return l.ensureLocked(logFile)
}

// Leave unregisters name: the server exits by itself when no guest is
// left; a dead server's mount, which nobody else would remove, goes with
// the last guest.
func (l Layout) Leave(name string) error {
	lk, err := runfile.Lock(l.Lock())
	if err != nil {
		return err
	}
	defer lk.Close()
	if err := l.Unregister(name); err != nil {
		return err
	}
	// Alive first: with a server running (the rule) the other guests'
	// entries need not be read, one file each, on every guest's stop.
	if !l.Alive() {
		if ents, _ := l.Entries(); len(ents) == 0 {
			detachDead(l.Mountpoint())
			_ = os.Remove(l.Mountpoint())
		}
	}
	return nil
}

// Alive reports whether a server holds the server lock.
func (l Layout) Alive() bool {
	f, err := os.OpenFile(l.ServerLock(), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}

// ensureLocked starts the server unless one runs; the caller holds Lock.
func (l Layout) ensureLocked(logFile string) error {
	if l.Alive() {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		w.Close()
		return err
	}
	defer log.Close()
	path, argv0 := binPath(), "vmlite"
	if l.Exe != "" {
		// A newer build's supervisor may have replaced it meanwhile.
		if _, err := os.Stat(l.Exe); err == nil {
			path, argv0 = l.Exe, "vmlite-procfs"
		}
	}
	cmd := &exec.Cmd{
		Path:       path,
		Args:       []string{argv0, Role, l.Dir, logFile},
		Env:        serverEnv,
		Dir:        "/",
		Stdout:     log,
		Stderr:     log,
		ExtraFiles: []*os.File{w},
		// Its own session: the server outlives the supervisor that starts it.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("start the /proc server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	_ = r.SetReadDeadline(time.Now().Add(startTimeout))
	buf := make([]byte, 16)
	n, _ := r.Read(buf)
	if strings.TrimSpace(string(buf[:n])) == "ready" {
		return nil
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("the /proc server did not start (its log: %s)", logFile)
}

// serverEnv is the server's environment. memprofilerate=0: the Go
// runtime's heap profiling (on by default, 512 KiB sampling) keeps a
// 1.4 MiB bucket table resident once it samples, which nobody here reads;
// it must be off from the process's start, hence the environment.
// GOMAXPROCS=1: an answer is a few cgroup reads, so one thread running Go
// is enough, and each P costs its own caches and a GC worker (the
// requests are read and answered by one goroutine, internal/fuseraw).
var serverEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GODEBUG=memprofilerate=0", "GOMAXPROCS=1"}

// watching is set while this process runs a Watch loop.
var (
	watchMu  sync.Mutex
	watching = map[string]bool{}
)

// Watch restarts the server whenever it dies while guests are registered,
// for as long as this process lives or until no guest is left, and guards
// it against hangs (guard: a stopped or hung server is aborted and
// killed, so that it is restarted). Every
// supervisor with a served guest runs one; the lock makes the first to
// notice start the new server, and the others find it running. logf
// receives what it did.
func (l Layout) Watch(logFile string, logf func(string, ...any)) {
	watchMu.Lock()
	defer watchMu.Unlock()
	if watching[l.Dir] {
		return
	}
	watching[l.Dir] = true
	go l.watch(logFile, logf)
}

func (l Layout) watch(logFile string, logf func(string, ...any)) {
	done := make(chan struct{})
	go l.guard(done, logf)
	stop := func() {
		watchMu.Lock()
		delete(watching, l.Dir)
		watchMu.Unlock()
		close(done)
	}
	for {
		f, err := os.OpenFile(l.ServerLock(), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil {
			logf("watch the /proc server: %v", err)
			stop()
			return
		}
		// Granted when the server's exclusive lock goes: it exited or died.
		for {
			err = unix.Flock(int(f.Fd()), unix.LOCK_SH)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		f.Close()
		lk, err := runfile.Lock(l.Lock())
		if err != nil {
			logf("watch the /proc server: %v", err)
			stop()
			return
		}
		ents, _ := l.Entries()
		if len(ents) == 0 {
			stop()
			lk.Close()
			return
		}
		if !l.Alive() {
			logf("the /proc server is gone: starting it again for %d guests", len(ents))
			if err := l.ensureLocked(logFile); err != nil {
				// Not again at once (the lock is free now): the next
				// guest start tries again.
				logf("%v", err)
				stop()
				lk.Close()
				return
			}
		}
		lk.Close()
	}
}
