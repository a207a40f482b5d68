package procfs

import (
	"os"
	"testing"
)

func TestConnectionID(t *testing.T) {
	for _, tc := range []struct {
		dev  string
		want uint64
		ok   bool
	}{
		{"0:45", 45, true},
		{"8:1", 8<<20 | 1, true},
		{"0:1048576", 0, false}, // a minor has 20 bits
		{"45", 0, false},
		{"a:1", 0, false},
	} {
		got, err := connectionID(tc.dev)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("connectionID(%q) = %d, %v", tc.dev, got, err)
		}
	}
}

// The server's identity in its lock file: what the guard kills, never a
// reused pid (the start time goes with it).
func TestIdentity(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	if _, _, ok := l.identity(); ok {
		t.Fatal("an identity without a server")
	}
	f, err := openLockForTest(l.ServerLock())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeIdentity(f); err != nil {
		t.Fatal(err)
	}
	pid, start, ok := l.identity()
	if !ok || pid <= 0 || start == 0 {
		t.Fatalf("identity %d %d %v", pid, start, ok)
	}
}

func openLockForTest(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
