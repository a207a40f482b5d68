package service

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/errdefs"
)

// SendSignal sends sig to process pid of guest name, pid as the guest sees
// it (1 is its init): virsh send-process-signal. The process is looked up
// among the guest's own processes (its cgroup) only, so no host process can
// be reached, and each candidate is pinned by a pidfd before its guest pid
// is read, so a host pid reused meanwhile is never signalled.
func (s *Service) SendSignal(ctx context.Context, name string, pid int, sig unix.Signal) error {
	if err := live(ctx); err != nil {
		return err
	}
	return classify(onDomain, s.sendSignal(name, pid, sig))
}

func (s *Service) sendSignal(name string, pid int, sig unix.Signal) error {
	if pid <= 0 {
		return fmt.Errorf("%w: pid %d: give the process id as the guest sees it (1 is its init)", errdefs.ErrInvalid, pid)
	}
	if sig < 0 || sig > 64 {
		return fmt.Errorf("%w: signal %d: not a signal number (0 to 64)", errdefs.ErrInvalid, int(sig))
	}
	g, err := s.requireRunning(name)
	if err != nil {
		return err
	}
	if g.plan == nil {
		return fmt.Errorf("guest %q is still starting: %w", name, errdefs.ErrNotRunning)
	}
	m, err := cgroup.Open(g.plan.Cgroup)
	if err != nil {
		return err
	}
	procs, err := m.Procs()
	if err != nil {
		return err
	}
	for _, hp := range procs {
		fd, err := unix.PidfdOpen(hp, 0)
		if err != nil {
			continue // gone meanwhile
		}
		if guestPID(hp) == pid {
			err = unix.PidfdSendSignal(fd, sig, nil, 0)
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("send %s to pid %d of %s: %w", signalName(sig), pid, name, err)
			}
			return nil
		}
		unix.Close(fd)
	}
	// Not ErrNotFound: that would read as "no such guest" (NoDomain).
	return fmt.Errorf("%w: guest %q has no process %d (pids as the guest sees them: vmlite exec %s -- ps)", errdefs.ErrInvalid, name, pid, name)
}

// signalName is sig's name, or its number where it has none.
func signalName(sig unix.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}

// guestPID is the pid of host process hp in its innermost pid namespace
// (the last NSpid field of /proc/PID/status); 0 when unknown.
func guestPID(hp int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", hp))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				return 0
			}
			n, _ := strconv.Atoi(fs[len(fs)-1])
			return n
		}
	}
	return 0
}
