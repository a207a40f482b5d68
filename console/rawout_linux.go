package console

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// rawOutMax bounds the writes rawOut tries with a raw call.
const rawOutMax = 128

// rawOut writes the guest's output to the user's terminal. A short write
// (an echoed keystroke) goes first through a second, non-blocking open of
// the terminal as a raw call (rawsys_linux.go), which does not wake the
// runtime's monitor thread on the echo's way and cannot wait: what it did
// not take, and every longer write, goes through the file as before (the
// terminal's own description stays blocking, as the shell that started us
// expects).
type rawOut struct {
	f  *os.File
	nb int // the non-blocking open
}

// outputWriter is out, through rawOut when out is a terminal; done
// releases what it opened.
func outputWriter(out io.Writer) (w io.Writer, done func()) {
	f, ok := out.(*os.File)
	if !ok {
		return out, func() {}
	}
	fd, ok := fileFd(f)
	if !ok {
		return out, func() {}
	}
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return out, func() {} // not a terminal
	}
	nb, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_WRONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return out, func() {}
	}
	return rawOut{f: f, nb: nb}, func() { unix.Close(nb) }
}

func (w rawOut) Write(p []byte) (int, error) {
	done := 0
	if len(p) <= rawOutMax {
		if n, err := writeRaw(w.nb, p); err == nil && n > 0 {
			done = n
		}
		if done == len(p) {
			return done, nil
		}
	}
	n, err := w.f.Write(p[done:])
	return done + n, err
}
