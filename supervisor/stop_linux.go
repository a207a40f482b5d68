package supervisor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/signame"
	"vmlite/internal/sysfile"
	"vmlite/state"
)

// pollInterval is how often a graceful stop checks on init.
const pollInterval = 20 * time.Millisecond

// requestStop starts a stop, destroy or reboot of the running guest. It
// returns at once; the run loop sees init exit and finishes the job.
func (s *Supervisor) requestStop(op request, timeout time.Duration) {
	// A frozen guest cannot shut itself down: let it run first.
	if err := s.setPaused(false); err != nil {
		s.log.Printf("resume before %s: %v", op, err)
	}
	s.mu.Lock()
	if s.init == nil || s.pending == reqDestroy || (s.pending == op && op != reqNone) {
		s.mu.Unlock()
		return // nothing runs, or already on its way
	}
	s.pending = op
	pid := s.st.InitPID
	exited := s.exited
	if op != reqReboot {
		s.st.Status = state.Stopping
	}
	s.mu.Unlock()
	if timeout <= 0 {
		timeout = time.Duration(s.p.Stop.Timeout)
	}
	switch op {
	case reqDestroy:
		forceKill(pid)
	case reqStop:
		s.graceful(pid, exited, s.p.Stop.Signal, timeout)
	case reqReboot:
		s.graceful(pid, exited, s.p.Stop.RebootSignal, timeout)
	}
	// Recorded once the signal is on its way: the state file's rename
	// (a flush on ext4) was on every stop's path before it.
	if op != reqReboot {
		s.mu.Lock()
		if s.st.Status == state.Stopping {
			s.writeStateLocked()
		}
		s.mu.Unlock()
	}
}

// graceful asks init to stop with sig, waits up to timeout, then kills. The
// signal is sent once init has a handler for it: a pid namespace's init
// never gets signals it does not handle, so one sent during early boot,
// before systemd installed its handlers, would be lost (lxc/incus#4041).
// The first try is made before graceful returns; the waiting goes on in
// the background.
func (s *Supervisor) graceful(pid int, exited <-chan struct{}, sigName string, timeout time.Duration) {
	sig, ok := parseSignal(sigName)
	if !ok {
		// No shutdown protocol (a shell as init): nothing to wait for.
		s.log.Printf("init %s has no shutdown signal: stopping it by force", s.p.Init.Path)
		forceKill(pid)
		return
	}
	send := func() bool {
		if !catches(pid, sig) || unix.Kill(pid, sig) != nil {
			return false
		}
		s.log.Printf("sent %s to init", sigName)
		return true
	}
	sent := send()
	go s.awaitGraceful(pid, exited, send, sent, timeout)
}

// awaitGraceful waits up to timeout for init to exit, sending the signal
// (send) while it has not gone out, then kills.
func (s *Supervisor) awaitGraceful(pid int, exited <-chan struct{}, send func() bool, sent bool, timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if !sent {
			sent = send()
		}
		select {
		case <-exited:
			return
		case <-deadline.C:
			s.log.Printf("init did not stop within %v: killing the guest", timeout)
			s.mu.Lock()
			s.forced = true
			s.mu.Unlock()
			forceKill(pid)
			return
		case <-tick.C:
		}
	}
}

// removeCgroup removes the guest's cgroup at the end. The boot's undo has
// killed what was left and seen the cgroup empty (killGuestProcesses), so
// it is removed at once: one pass over the hierarchies, not a second list
// of their processes first. One that something moved into since is busy:
// kill, then remove.
func removeCgroup(m cgroupHandle) error {
	err := m.Destroy()
	if !errors.Is(err, cgroup.ErrBusy) {
		return err
	}
	if err := m.Kill(); err != nil {
		return err
	}
	return m.Destroy()
}

// forceKill ends init with SIGKILL; the kernel then kills every process in
// the guest's pid namespace.
func forceKill(pid int) {
	if pid > 0 {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// catches reports whether init will act on sig. A pid namespace's init only
// gets signals it handles (kernel/signal.c sig_task_ignored) or blocks:
// SigCgt for sigaction handlers, SigBlk for signalfd users (systemd). An
// init sleeping in sigtimedwait (busybox) has its waited-for signals moved
// out of the visible blocked mask for the wait, so that state counts too.
func catches(pid int, sig unix.Signal) bool {
	b, err := sysfile.Read(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	bit := uint64(1) << (uint(sig) - 1)
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "SigCgt" && k != "SigBlk") {
			continue
		}
		if mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil && mask&bit != 0 {
			return true
		}
	}
	wchan, err := sysfile.Read(fmt.Sprintf("/proc/%d/wchan", pid))
	return err == nil && strings.Contains(string(wchan), "sigtimedwait")
}

// parseSignal reads a signal name of the plan, with the parser that
// validated it; "" (an init without a shutdown protocol) is no signal.
func parseSignal(name string) (unix.Signal, bool) {
	sig, err := signame.Parse(name)
	return sig, err == nil
}
