package console

import (
	"io"
	"os"
)

// rawOutMax bounds the writes rawOut makes with a raw call.
const rawOutMax = 128

// rawOut writes the guest's output to a file (the user's terminal): a
// short write (an echoed keystroke) to a file that polls writable is a
// raw call (rawsys_linux.go), which does not wake the runtime's monitor
// thread on the echo's way; longer writes, and whatever a raw call did
// not take, go through the file as before. A terminal polls writable with
// room in its buffer, so such a write does not wait (one whose reader
// stalled with under rawOutMax bytes of room would hold the thread, as
// the plain write holds the goroutine).
type rawOut struct {
	f  *os.File
	fd int
}

// outputWriter is out, through rawOut when out is a file.
func outputWriter(out io.Writer) io.Writer {
	f, ok := out.(*os.File)
	if !ok {
		return out
	}
	fd, ok := fileFd(f)
	if !ok {
		return out
	}
	return rawOut{f: f, fd: fd}
}

func (w rawOut) Write(p []byte) (int, error) {
	done := 0
	if len(p) <= rawOutMax && pollWritable(w.fd) {
		if n, err := writeRaw(w.fd, p); err == nil && n > 0 {
			done = n
		}
		if done == len(p) {
			return done, nil
		}
	}
	n, err := w.f.Write(p[done:])
	return done + n, err
}
