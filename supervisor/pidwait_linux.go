package supervisor

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns once process pid has exited (without reaping it), by
// waiting for its pidfd to become readable in Go's network poller. A
// blocking wait would hold an OS thread per guest for the guest's whole
// life: dozens of idle threads in a shared supervisor. Where pidfds are
// missing (kernel < 5.10) it returns at once and the caller's Wait blocks.
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		// WNOWAIT: look, don't reap; cmd.Wait reaps and records the
		// status. With WNOHANG and nothing to report the kernel writes a
		// zero si_signo; an exited child's is SIGCHLD.
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		return err != nil || info.Signo != 0
	})
}
