package templates

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestForcedBuildStaysInTree: --force builds over a directory that may be a
// guest's root, with the guest's links in it: /etc an absolute link to a
// host directory, /usr a relative one climbing out, /etc/shadow a FIFO.
// Nothing may be written outside the tree (the build once wrote the host's
// /etc/passwd through such a link), and nothing may block.
func TestForcedBuildStaysInTree(t *testing.T) {
	requireBusybox(t)
	host := t.TempDir()
	dir := filepath.Join(t.TempDir(), "guest")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for target, name := range map[string]string{
		host: "etc",
		"../../../../../../../../../../.." + host: "usr",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// The links resolve inside the tree, where nothing is: the build
	// refuses to create through them (a clear error), or builds there.
	err := BuildBusybox(context.Background(), dir, BusyboxOptions{Force: true})
	if ents, _ := os.ReadDir(host); len(ents) > 0 {
		t.Fatalf("the build wrote %s in a host directory through the guest's link (build: %v)", ents[0].Name(), err)
	}
	// Where the link leads somewhere inside the tree, the build follows it there.
	if err := os.MkdirAll(filepath.Join(dir, host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "usr")); err != nil {
		t.Fatal(err)
	}
	if err := BuildBusybox(context.Background(), dir, BusyboxOptions{Force: true}); err != nil {
		t.Fatalf("forced build over the guest's links: %v", err)
	}
	if ents, _ := os.ReadDir(host); len(ents) > 0 {
		t.Errorf("the build wrote %s in a host directory through the guest's link", ents[0].Name())
	}
	if _, err := os.Stat(filepath.Join(dir, host, "passwd")); err != nil {
		t.Errorf("the guest's /etc (its link, resolved in its root) has no passwd: %v", err)
	}

	// setRootLogin rewrites /etc/shadow: a FIFO there is refused, not read.
	deb := t.TempDir()
	if err := os.MkdirAll(filepath.Join(deb, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(deb, "etc/shadow"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := setRootLogin(context.Background(), deb, "", true); err == nil {
		t.Errorf("setRootLogin read a FIFO as /etc/shadow")
	}
}
