package launch

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps the host-wide idmap record (uidmap.HostDir) of the
// guests these tests prepare in a temporary directory: no test writes the
// host's /run/vmlite-idmap.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vmlite-idmap-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("VMLITE_IDMAP_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
