package launch

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"vmlite/plan"
)

// TestInitKindStaysInRoot: the probe reads the guest's /sbin/init as the
// guest would resolve it. A FIFO is never opened for a blocking read, and
// a link into a host directory that holds a "systemd" does not make the
// guest's init systemd.
func TestInitKindStaysInRoot(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "systemd"), []byte("systemd SYSTEMD_"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(host, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, setup := range map[string]func(root string) error{
		"init is a FIFO": func(root string) error { return syscall.Mkfifo(filepath.Join(root, "sbin/init"), 0o755) },
		"init links to a host FIFO": func(root string) error {
			return os.Symlink(filepath.Join(host, "fifo"), filepath.Join(root, "sbin/init"))
		},
		"init links to a host systemd": func(root string) error {
			return os.Symlink("../../../../../../.."+filepath.Join(host, "systemd"), filepath.Join(root, "sbin/init"))
		},
	} {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "sbin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := setup(root); err != nil {
			t.Fatal(err)
		}
		got := make(chan plan.InitKind, 1)
		go func() { got <- NewHostProbe().InitKind(root, "/sbin/init") }()
		select {
		case k := <-got:
			if k != plan.InitUnknown {
				t.Errorf("%s: InitKind = %v, want unknown", name, k)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: InitKind blocked", name)
		}
	}
}
