package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// inputReader is the client's input: Read until Cancel.
type inputReader interface {
	io.Reader
	// Cancel makes a pending and every later Read return errCanceled.
	Cancel()
	// Close releases what the reader holds; after the reading goroutine ended.
	Close()
}

// newInputReader reads f in a way that can be interrupted. Where it can,
// it opens f's file again (/proc/self/fd/N: a new open file description of
// the same terminal or pipe) non-blocking, so that Go's network poller
// waits for input: a keystroke then wakes the poller's thread, with no
// system call of ours blocked meanwhile. A blocking poll(2) (fdReader, the
// fallback) holds its thread in the kernel; when it returns, the runtime
// has to find the process a P again and wake its monitor thread, on every
// keystroke (bench/README.md, "Console"). O_NONBLOCK is set on the new
// description only: the shell that started us shares f's.
func newInputReader(f *os.File) (inputReader, error) {
	fd, ok := fileFd(f)
	if !ok {
		return nil, fmt.Errorf("input %s has no descriptor", f.Name())
	}
	if r := reopenPollable(fd); r != nil {
		return r, nil
	}
	return newFdReader(f)
}

// pollReader is input read through the network poller.
type pollReader struct{ f *os.File }

// reopenPollable opens fd's file again, non-blocking, and checks that it
// is the same file; nil when that cannot be done (a socket, a deleted
// file, no /proc).
func reopenPollable(fd int) *pollReader {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR, unix.S_IFIFO:
	default:
		return nil // regular files are always readable: poll says nothing
	}
	nfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var nst unix.Stat_t
	if unix.Fstat(nfd, &nst) != nil || nst.Dev != st.Dev || nst.Ino != st.Ino || nst.Rdev != st.Rdev {
		unix.Close(nfd)
		return nil
	}
	// os.NewFile registers a non-blocking descriptor with the poller;
	// only then can Cancel's deadline interrupt a Read.
	f := os.NewFile(uintptr(nfd), "input")
	if f.SetReadDeadline(time.Time{}) != nil {
		f.Close()
		return nil
	}
	return &pollReader{f: f}
}

// Read returns io.EOF at the end of input (including a hung-up terminal)
// and errCanceled after Cancel.
func (r *pollReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, errCanceled
	case errors.Is(err, unix.EIO), errors.Is(err, io.EOF):
		return 0, io.EOF // the terminal hung up, or the pipe's writer ended
	}
	return 0, fmt.Errorf("read input: %w", err)
}

// Cancel wakes a pending Read: a deadline in the past.
func (r *pollReader) Cancel() { _ = r.f.SetReadDeadline(time.Now()) }

// Close closes the second description.
func (r *pollReader) Close() { r.f.Close() }
