package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inputReader is the client's input: Read until Cancel, then Close once
// the reading goroutine ended.
type inputReader interface {
	io.Reader
	Cancel()
	Close()
}

// newInputReader reads f, the client's input: through an epollReader
// when f is a terminal and one can be set up, else an fdReader.
func newInputReader(f *os.File, terminal bool) (inputReader, error) {
	if terminal {
		if r, err := newEpollReader(f); err == nil {
			return r, nil
		}
	}
	return newFdReader(f)
}

// epollReader reads the user's terminal without a blocking system call:
// a second open of it, non-blocking (the shared description of stdin must
// stay blocking: the shell that started us has it too), registered for
// input alone in an epoll instance of its own, which waits in the Go
// runtime's poller. Its reads are raw calls (rawsys_linux.go). fdReader's
// blocking poll made the runtime's monitor thread take the P during the
// wait, and the return of the poll with a keystroke woke that thread,
// which then polled every 20 µs while the key's echo was on its way
// through the guest, the supervisor and this client, on the same CPUs.
// The epoll instance is what the runtime's poller watches rather than
// the terminal itself: the runtime registers a file for output too, and
// a terminal that is also the output would wake it every time its
// output drains.
type epollReader struct {
	tty *os.File // the second, non-blocking open
	ep  *os.File // the epoll instance, in the runtime's poller
	rc  syscall.RawConn
	fd  int
	// canceled is set by Cancel: every later Read returns errCanceled,
	// even with input waiting.
	canceled atomic.Bool
}

func newEpollReader(f *os.File) (*epollReader, error) {
	in, ok := fileFd(f)
	if !ok {
		return nil, fmt.Errorf("input %s has no descriptor", f.Name())
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", in), unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "input terminal", Err: err}
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(fd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	r := &epollReader{tty: os.NewFile(uintptr(fd), "input terminal"), ep: os.NewFile(uintptr(epfd), "input epoll"), fd: fd}
	if r.rc, err = r.ep.SyscallConn(); err != nil {
		r.tty.Close()
		r.ep.Close()
		return nil, err
	}
	return r, nil
}

// Read waits for input or Cancel. It returns io.EOF at the end of input
// (a hung-up terminal) and errCanceled after Cancel.
func (r *epollReader) Read(p []byte) (int, error) {
	for {
		if r.canceled.Load() {
			return 0, errCanceled
		}
		n, err := readRaw(r.fd, p)
		switch {
		case err == nil && n == 0 && len(p) > 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EIO):
			return 0, io.EOF // the terminal hung up
		case !errors.Is(err, unix.EAGAIN):
			return 0, &os.SyscallError{Syscall: "read", Err: err}
		}
		// Nothing to read: wait until the epoll instance has the
		// terminal ready (it polls readable then).
		werr := r.rc.Read(func(epfd uintptr) bool {
			var evs [1]unix.EpollEvent
			for {
				n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, epfd, uintptr(unsafe.Pointer(&evs[0])), 1, 0, 0, 0)
				if e != unix.EINTR {
					return e != 0 || n > 0 // false: wait for the runtime's poller
				}
			}
		})
		if werr != nil {
			return 0, errCanceled // Cancel closed the instance
		}
	}
}

// Cancel makes a pending and every later Read return errCanceled.
func (r *epollReader) Cancel() {
	r.canceled.Store(true)
	r.ep.Close()
}

// Close releases the terminal's second open.
func (r *epollReader) Close() {
	r.ep.Close()
	r.tty.Close()
}
