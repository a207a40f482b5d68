package uidmap

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain points the host-wide record (HostDir) at a temporary directory,
// so that no test touches the host's, and the subordinate id files at
// missing ones, so that results do not depend on the host's users (tests
// of them set their own).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vmlite-idmap-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	HostDir = dir
	os.Unsetenv(hostDirEnv)
	SubIDFiles = []string{filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
