package supervisor

import (
	"errors"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"testing"
)

// TestGuestLogLazy: a guest's log file exists only once something is
// written to it, is appended to (a restarted guest keeps its history), and
// a log that cannot be opened does not fail the write (the line goes to
// the supervisor's stderr).
func TestGuestLogLazy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.supervisor.log")
	gl := newGuestLog(path)
	l := log.New(gl, "g: ", 0)
	if err := gl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("log file before any line: %v, want none", err)
	}
	l.Print("one")
	if err := gl.Close(); err != nil {
		t.Fatal(err)
	}
	l.Print("two") // after Close: opened again, appended
	gl.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "g: one\ng: two\n" {
		t.Errorf("log file holds %q, want both lines in order", b)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	bad := newGuestLog(filepath.Join(dir, "missing", "g.supervisor.log"))
	if n, err := bad.Write([]byte("lost? no: on stderr\n")); err != nil || n == 0 {
		t.Errorf("write to a log that cannot be opened: %d, %v; want it written to stderr", n, err)
	}
}
