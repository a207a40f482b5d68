package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollable returns a copy of the pty master that Go's poller manages, and
// closes f. creack/pty's Open calls f.Fd() internally, which leaves the
// master in blocking mode: a Read then sits in the kernel, where neither a
// deadline nor Close can reach it, and the pump could never be stopped. A dup
// made non-blocking before os.NewFile is registered with the poller.
func pollable(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("console master: %w", err)
	}
	var nfd int
	var opErr error
	if err := rc.Control(func(fd uintptr) {
		nfd, opErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("console master: %w", err)
	}
	if opErr != nil {
		return nil, fmt.Errorf("dup console master: %w", &os.SyscallError{Syscall: "fcntl", Err: opErr})
	}
	// O_NONBLOCK is a property of the open file description, shared with f;
	// f is closed right below, so nobody relies on it blocking.
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, fmt.Errorf("console master: %w", &os.SyscallError{Syscall: "fcntl", Err: err})
	}
	f.Close()
	return os.NewFile(uintptr(nfd), "ptmx"), nil
}

// readBatches waits for output on the master and hands it to deliver in
// batches: it reads until the pty is empty (EAGAIN) or a pooled buffer of
// pumpBufSize is full, so that a burst costs one pass through the clients
// and the log per batch rather than one per pty read (the kernel hands out
// 1 to 4 KiB a read while a guest prints in bulk). A read that finds the
// pty empty first waits for the kernel's pending flush of the guest's
// output, so while the guest prints it returns more instead of EAGAIN: the
// batch grows with the guest's pace, without any timer. (Asking TIOCINQ
// instead of that read measured worse: more, smaller batches.) An echoed
// keystroke is delivered as soon as the read after it finds the pty empty.
// The batch that ends at EAGAIN is delivered right there, before waiting,
// which saves the extra read a plain Read loop makes.
//
// It returns after a full batch (nil), at the read deadline (Close) or on a
// read error (EIO: no slave open), and reports whether it delivered
// anything. An idle console holds no buffer.
func readBatches(rc syscall.RawConn, deliver func([]byte)) (bool, error) {
	var bp *[]byte
	var n int
	var delivered bool
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			if bp == nil {
				bp = pumpBufs.Get().(*[]byte)
			}
			k, err := readRaw(int(fd), (*bp)[n:])
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.EAGAIN):
				if n > 0 {
					deliver((*bp)[:n])
					n, delivered = 0, true
				}
				pumpBufs.Put(bp)
				bp = nil
				return false // wait for the poller
			case err != nil:
				rerr = &os.SyscallError{Syscall: "read", Err: err}
				return true
			case k == 0:
				rerr = io.EOF
				return true
			}
			n += k
			if n == len(*bp) {
				return true
			}
		}
	})
	if bp != nil {
		if n > 0 {
			deliver((*bp)[:n])
			delivered = true
		}
		pumpBufs.Put(bp)
	}
	if err != nil {
		return delivered, err
	}
	return delivered, rerr
}

// readNonblock reads what is available from the non-blocking master without
// waiting and regardless of its read deadline. It returns 0, nil when nothing
// is left.
func readNonblock(f *os.File, buf []byte) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			n, rerr = unix.Read(int(fd), buf)
			if !errors.Is(rerr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return 0, err
	}
	if errors.Is(rerr, unix.EAGAIN) || errors.Is(rerr, unix.EIO) {
		return 0, nil
	}
	if n < 0 {
		n = 0
	}
	return n, rerr
}

// setWinsize applies a window size to the pty. pty.Setsize would do the same
// ioctl, but through f.Fd(), which switches the master back to blocking mode
// (see pollable); Control leaves it alone.
func setWinsize(f *os.File, rows, cols uint16) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}); err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("resize console: %w", &os.SyscallError{Syscall: "ioctl TIOCSWINSZ", Err: ierr})
	}
	return nil
}
