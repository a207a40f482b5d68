package ctl

import (
	"errors"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/procstat"
)

// exitWatch is a pidfd of the supervisor on the other end of a control
// connection (SO_PEERCRED names the process that listens), or none.
type exitWatch struct {
	pid, fd int
}

// watchPeer opens a pidfd of conn's peer; without one (a kernel before
// 5.3, no credentials) wait falls back to polling /proc.
func watchPeer(conn net.Conn) *exitWatch {
	w := &exitWatch{fd: -1}
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return w
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return w
	}
	_ = rc.Control(func(fd uintptr) { w = watchPeerFD(int(fd)) })
	return w
}

// watchPeerFD is watchPeer for a socket's descriptor.
func watchPeerFD(sock int) *exitWatch {
	w := &exitWatch{fd: -1}
	cred, err := unix.GetsockoptUcred(sock, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || cred.Pid <= 0 {
		return w
	}
	if fd, err := unix.PidfdOpen(int(cred.Pid), unix.PIDFD_NONBLOCK); err == nil {
		w.pid, w.fd = int(cred.Pid), fd
	}
	return w
}

func (w *exitWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// wait returns once process pid has ended (a zombie whose threads have
// all exited counts: the supervisor's parent is init, which reaps it in its
// own time) or limit has passed.
func (w *exitWatch) wait(pid int, limit time.Duration) {
	if pid <= 0 {
		return
	}
	deadline := time.Now().Add(limit)
	if w.fd >= 0 && w.pid == pid {
		// A pidfd polls readable once its process has exited.
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		for {
			ms := int(time.Until(deadline).Milliseconds())
			if ms <= 0 {
				return
			}
			if _, err := unix.Poll(fds, ms); !errors.Is(err, unix.EINTR) {
				return
			}
		}
	}
	for time.Now().Before(deadline) {
		if procstat.Exited(pid) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
