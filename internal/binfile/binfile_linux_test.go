package binfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWriteOut: the binary is written once per build, executable, older
// builds' copies go, a half-written one of another process stays, and a
// removed copy is written again.
func TestWriteOut(t *testing.T) {
	dir := t.TempDir()
	id, err := ID()
	if err != nil || len(id) != 8 {
		t.Fatalf("ID = %q, %v", id, err)
	}
	for _, f := range []string{"x-oldbuild", "x-oldbuild.tmp123", "y-other"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const body = "\x7fELF pretend"
	writes := 0
	write := func(w io.Writer) error { writes++; _, err := io.WriteString(w, body); return err }
	path, err := WriteOut(dir, "x-", int64(len(body)), write)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "x-"+id) {
		t.Errorf("path %s, want x-%s", path, id)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != body {
		t.Errorf("content %q, %v", b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("mode %v, %v; want 0711", fi.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), ".write.lock x-"+id+" x-oldbuild.tmp123 y-other"; got != want {
		t.Errorf("directory holds %s, want %s", got, want)
	}
	if _, err := WriteOut(dir, "x-", int64(len(body)), write); err != nil || writes != 1 {
		t.Errorf("second WriteOut: %v, %d writes; want the file reused", err, writes)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteOut(dir, "x-", int64(len(body)), write); err != nil || writes != 2 {
		t.Errorf("WriteOut after removal: %v, %d writes; want it written again", err, writes)
	}
}

// TestWriteOutOneWriter: a writer that finds another process writing (its
// lock held) waits, then takes that process's copy instead of writing
// the same bytes again.
func TestWriteOutOneWriter(t *testing.T) {
	dir := t.TempDir()
	id, err := ID()
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".write.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	const body = "\x7fELF the other writer's"
	writes := 0
	done := make(chan error, 1)
	go func() {
		_, err := WriteOut(dir, "x-", int64(len(body)), func(w io.Writer) error { writes++; _, err := io.WriteString(w, body); return err })
		done <- err
	}()
	// The other writer's copy, made while it holds the lock.
	if err := os.WriteFile(filepath.Join(dir, "x-"+id), []byte(body), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || writes != 0 {
		t.Errorf("WriteOut: %v, %d writes; want the other writer's copy taken", err, writes)
	}
}
