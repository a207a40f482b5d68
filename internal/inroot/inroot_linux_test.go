package inroot

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestOpenFile: guest-made links resolve inside the root, whatever they
// say; FIFOs and directories are refused at once; magic links are refused.
func TestOpenFile(t *testing.T) {
	host := t.TempDir()
	must(t, os.WriteFile(filepath.Join(host, "secret"), []byte("host"), 0o600))
	root := filepath.Join(t.TempDir(), "root")
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("guest"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "secret"), []byte("guest secret"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	for name, target := range map[string]string{
		"abs":     filepath.Join(host, "secret"), // resolves to root/<host>/secret: absent
		"dotdot":  "../../../../../../../.." + filepath.Join(host, "secret"),
		"up":      "../../../../secret", // stays at the root: the guest's /secret
		"tofifo":  "/fifo",
		"passwd":  "/etc/passwd",
		"magic":   "/proc/self/root" + filepath.Join(host, "secret"),
		"etcdir":  "/etc",
		"hostdir": host,
	} {
		must(t, os.Symlink(target, filepath.Join(root, name)))
	}
	tests := []struct {
		path, want string
		err        error // nil: any error
		ok         bool
	}{
		{"passwd", "guest", nil, true},
		{"/etc/passwd", "guest", nil, true},
		{"up", "guest secret", nil, true},
		{"abs", "", nil, false},
		{"dotdot", "", nil, false},
		{"hostdir/secret", "", nil, false},
		{"magic", "", nil, false},
		{"fifo", "", ErrNotRegular, false},
		{"tofifo", "", ErrNotRegular, false},
		{"etcdir", "", ErrNotRegular, false},
	}
	for _, tc := range tests {
		done := make(chan struct{})
		go func() {
			defer close(done)
			f, err := OpenFile(root, tc.path)
			if !tc.ok {
				if err == nil {
					f.Close()
					t.Errorf("OpenFile(%s) opened it, want an error", tc.path)
				} else if tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("OpenFile(%s) = %v, want %v", tc.path, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Errorf("OpenFile(%s): %v", tc.path, err)
				return
			}
			defer f.Close()
			b := make([]byte, 64)
			n, _ := f.Read(b)
			if string(b[:n]) != tc.want {
				t.Errorf("OpenFile(%s) read %q, want %q", tc.path, b[:n], tc.want)
			}
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("OpenFile(%s) blocked", tc.path)
		}
	}
	f, err := OpenFile(root, "passwd")
	must(t, err)
	defer f.Close()
	if got, err := Resolved(root, f); err != nil || got != "/etc/passwd" {
		t.Errorf("Resolved = %q, %v; want /etc/passwd", got, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
