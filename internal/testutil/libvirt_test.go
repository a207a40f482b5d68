package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLibvirtDataDir(t *testing.T) {
	d := t.TempDir()
	t.Setenv(LibvirtDataEnv, d)
	if got, ok := LibvirtDataDir(); got != d || !ok {
		t.Errorf("with %s=%s: %q, %v", LibvirtDataEnv, d, got, ok)
	}
	t.Setenv(LibvirtDataEnv, filepath.Join(d, "nope"))
	if _, ok := LibvirtDataDir(); ok {
		t.Error("a missing directory is reported present")
	}
	t.Setenv(LibvirtDataEnv, "")
	got, _ := LibvirtDataDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(root), "shared", "testdata", "libvirt"); got != want {
		t.Errorf("default %q, want %q (beside the repository)", got, want)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s: %v", root, err)
	}
}
