package ctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"vmlite/internal/errdefs"
)

// maxAnswer bounds a response line (a guest's state is well under 4 KiB).
const maxAnswer = 1 << 20

// Stop sends a stop or destroy request (req.Op) to the supervisor at
// socket and returns its answer, as Call does (wait bounds the exchange;
// a dedicated supervisor's exit is awaited), for a process that makes
// this one request and exits: the CLI's front. It uses a blocking socket
// of its own rather than package net, whose first connection sets up the
// runtime's poller (epoll, an eventfd, registrations) and whose answer
// reaches the waiting goroutine through that poller, where a blocking
// read is woken by the kernel itself. A daemon keeps using Call: a
// blocking call holds an OS thread for the whole stop.
func Stop(socket string, req Request, wait time.Duration) (*StopAnswer, error) {
	if req.Op != OpStop && req.Op != OpDestroy {
		return nil, fmt.Errorf("ctl.Stop: %s is not a stop", req.Op)
	}
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	fd, err := dialBlocking(socket, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): %w", ErrNoSupervisor, err, errdefs.ErrNotRunning)
	}
	defer unix.Close(fd)
	exit := watchPeerFD(fd)
	defer exit.close()
	// A raw write as the connect: a fresh socket's buffer takes the line
	// at once.
	line := requestLine(req)
	if n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&line[0])), uintptr(len(line))); e == 0 {
		line = line[n:]
	}
	if err := writeAll(fd, line, deadline); err != nil {
		return nil, fmt.Errorf("send %s request: %w", req.Op, err)
	}
	answer, err := readLine(fd, deadline)
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", req.Op, err)
	}
	var a StopAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", req.Op, err)
	}
	if !a.OK {
		return &a, fmt.Errorf("%s: %s", req.Op, a.Error)
	}
	if !a.State.SharedSupervisor {
		exit.wait(a.State.SupervisorPID, ExitWait)
	}
	return &a, nil
}

// dialBlocking connects a blocking unix stream socket to path. A unix
// connect completes at once or waits for room in the listener's backlog,
// bounded by the send timeout; one interrupted by a signal did nothing
// and is tried again. The connect is a raw call (connectRaw).
func dialBlocking(path string, timeout time.Duration) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	for {
		err = connectRaw(fd, path)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("dial unix %s: %w", path, err)
	}
	return fd, nil
}

// connectRaw is connect(2) to a unix socket's path made without telling
// the Go scheduler (RawSyscall). A unix connect wakes the listener, some
// tens of µs: as a plain call the runtime's monitor may hand the
// process's P to another thread meanwhile, and the client goes on, with
// its request, on that thread after a wake-up and a context switch. It
// waits only while the listener's backlog is full, bounded by the send
// timeout, holding one of the process's Ps: Stop is for a client that
// makes this one call.
func connectRaw(fd int, path string) error {
	var sa unix.RawSockaddrUnix
	if len(path) >= len(sa.Path) {
		return unix.ENAMETOOLONG
	}
	sa.Family = unix.AF_UNIX
	for i := 0; i < len(path); i++ {
		sa.Path[i] = int8(path[i])
	}
	n := unsafe.Offsetof(sa.Path) + uintptr(len(path)) + 1
	if _, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), n); e != 0 {
		return e
	}
	return nil
}

// setTimeout sets fd's option opt (SO_RCVTIMEO, SO_SNDTIMEO) to the time
// left until deadline; the zero deadline is none. ok false once it passed.
func setTimeout(fd, opt int, deadline time.Time) bool {
	var d time.Duration
	if !deadline.IsZero() {
		if d = time.Until(deadline); d <= 0 {
			return false
		}
	}
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if !deadline.IsZero() && tv.Sec == 0 && tv.Usec == 0 {
		tv.Usec = 1 // zero means no timeout
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, opt, &tv)
	return true
}

var errTimeout = errors.New("i/o timeout")

func writeAll(fd int, b []byte, deadline time.Time) error {
	for len(b) > 0 {
		if !setTimeout(fd, unix.SO_SNDTIMEO, deadline) {
			return errTimeout
		}
		n, err := unix.Write(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return errTimeout
		case err != nil:
			return err
		}
		b = b[n:]
	}
	return nil
}

// readLine reads up to and without the first newline; EOF before one is
// an error, as is a line over maxAnswer.
func readLine(fd int, deadline time.Time) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	for {
		if !setTimeout(fd, unix.SO_RCVTIMEO, deadline) {
			return nil, errTimeout
		}
		if len(buf) == cap(buf) {
			if len(buf) >= maxAnswer {
				return nil, fmt.Errorf("answer longer than %d bytes", maxAnswer)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return nil, errTimeout
		case err != nil:
			return nil, err
		case n == 0:
			return nil, fmt.Errorf("connection closed before the answer's end (%d bytes)", len(buf))
		}
		start := len(buf)
		buf = buf[:len(buf)+n]
		if i := bytes.IndexByte(buf[start:], '\n'); i >= 0 {
			return buf[:start+i], nil
		}
	}
}
