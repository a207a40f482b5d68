package sysfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 100000} {
		want := bytes.Repeat([]byte("x"), n)
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Read(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Read of %d bytes: %d bytes, %v", n, len(got), err)
		}
	}
	// A file that reports no size (procfs) is read to its end.
	want, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read("/proc/self/status")
	if err != nil || !bytes.HasPrefix(got, []byte("Name:")) || len(got) < len(want)/2 {
		t.Errorf("Read(/proc/self/status) = %d bytes, %v (os.ReadFile: %d)", len(got), err, len(want))
	}
	if _, err := Read(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing file = %v, want fs.ErrNotExist", err)
	}
	var pe *fs.PathError
	if _, err := Read(dir); !errors.As(err, &pe) || pe.Op != "read" {
		t.Errorf("Read of a directory = %v, want a read PathError", err)
	}
}
