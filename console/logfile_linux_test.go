package console

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLogFileNeverRotatesSpecialFiles: a log path that is not a regular file
// (a FIFO here; /dev/null in a careless configuration) is written but never
// renamed, which would replace a device node with a regular file.
func TestLogFileNeverRotatesSpecialFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// A reader, so that opening the FIFO for writing does not block.
	rfd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	l, err := openLog(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		l.Write([]byte("0123456789abcdefghij"))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(RotatedPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("special file rotated: %v", err)
	}
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("%s is no longer a FIFO: %v %v", path, st.Mode(), err)
	}
	buf := make([]byte, 200)
	n, err := unix.Read(rfd, buf)
	if err != nil || n != 100 {
		t.Fatalf("FIFO got %d bytes (%v), want 100", n, err)
	}
}
