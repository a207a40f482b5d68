package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// exitSignals end an attached client; the terminal is restored first.
var exitSignals = []os.Signal{unix.SIGTERM, unix.SIGHUP, unix.SIGINT, unix.SIGQUIT}

// winchSignal reports a change of the terminal's size.
var winchSignal os.Signal = unix.SIGWINCH

// fileFd returns f's descriptor without f.Fd()'s side effect of switching it
// to blocking mode.
func fileFd(f *os.File) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, false
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil {
		return -1, false
	}
	return fd, fd >= 0
}

// terminalFd returns the descriptor of v if it is an *os.File on a terminal.
func terminalFd(v any) (int, bool) {
	f, ok := v.(*os.File)
	if !ok || f == nil {
		return -1, false
	}
	fd, ok := fileFd(f)
	if !ok || !term.IsTerminal(fd) {
		return -1, false
	}
	return fd, true
}

// termState remembers a terminal's settings so that they can be put back.
type termState struct {
	fd    int
	saved *term.State
	once  sync.Once
}

// makeRaw puts the terminal fd in raw mode: no echo, no line editing, no
// signals from ^C/^Z (they go to the guest), no output processing.
func makeRaw(fd int) (*termState, error) {
	st, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("set terminal raw mode: %w", err)
	}
	return &termState{fd: fd, saved: st}, nil
}

// restore puts the saved settings back; only the first call acts.
func (s *termState) restore() error {
	var err error
	s.once.Do(func() {
		if rerr := term.Restore(s.fd, s.saved); rerr != nil {
			err = fmt.Errorf("restore terminal: %w", rerr)
		}
	})
	return err
}

// termSize returns the window size of the terminal fd.
func termSize(fd int) (rows, cols uint16, err error) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, &os.SyscallError{Syscall: "ioctl TIOCGWINSZ", Err: err}
	}
	return ws.Row, ws.Col, nil
}

// errCanceled is returned by a canceled fdReader.
var errCanceled = errors.New("read canceled")

// fdReader reads a file descriptor in a way that can be interrupted: poll on
// the fd and a wake-up pipe, then read. Unlike a deadline this works on a
// blocking descriptor such as a terminal on stdin, whose O_NONBLOCK flag we
// must not change (it is shared with the shell that started us).
type fdReader struct {
	fd   int
	wake [2]int
	once sync.Once
}

func newFdReader(f *os.File) (*fdReader, error) {
	fd, ok := fileFd(f)
	if !ok {
		return nil, fmt.Errorf("input %s has no descriptor", f.Name())
	}
	r := &fdReader{fd: fd}
	if err := unix.Pipe2(r.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("input wake-up pipe: %w", &os.SyscallError{Syscall: "pipe2", Err: err})
	}
	return r, nil
}

// Read waits for input or Cancel. It returns io.EOF at the end of input
// (including a hung-up terminal) and errCanceled after Cancel.
func (r *fdReader) Read(p []byte) (int, error) {
	for {
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}, {Fd: int32(r.wake[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return 0, &os.SyscallError{Syscall: "poll", Err: err}
		}
		if fds[1].Revents != 0 {
			return 0, errCanceled
		}
		if fds[0].Revents&unix.POLLNVAL != 0 {
			return 0, fmt.Errorf("read input: %w", syscall.EBADF)
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(r.fd, p)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue // spurious wake-up of a non-blocking fd
		case errors.Is(err, unix.EIO):
			return 0, io.EOF // the terminal hung up
		case err != nil:
			return 0, &os.SyscallError{Syscall: "read", Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Cancel makes a pending and every later Read return errCanceled.
func (r *fdReader) Cancel() {
	r.once.Do(func() { _, _ = unix.Write(r.wake[1], []byte{0}) })
}

// Close releases the wake-up pipe; call it after the reading goroutine ended.
func (r *fdReader) Close() {
	unix.Close(r.wake[0])
	unix.Close(r.wake[1])
}
