package testutil

import (
	"fmt"
	"os"
	"testing"
)

// RunWithTempIDMapDir runs m's tests with the host-wide idmap record
// (uidmap.HostDir, moved by VMLITE_IDMAP_DIR) in a temporary directory, so
// no test writes the host's /run/vmlite-idmap, and returns m.Run's code:
// a package's TestMain calls os.Exit(testutil.RunWithTempIDMapDir(m)).
func RunWithTempIDMapDir(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vmlite-idmap-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv("VMLITE_IDMAP_DIR", dir)
	return m.Run()
}
