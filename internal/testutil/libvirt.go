package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// LibvirtDataEnv names the directory of libvirt's test XML and schemas
// (LGPL data, kept outside the repository). Unset, it is
// ../shared/testdata/libvirt beside the repository's root.
const LibvirtDataEnv = "VMLITE_LIBVIRT_TESTDATA"

// LibvirtDataDir returns the directory of libvirt's test data and whether it
// exists, without failing or skipping (for fuzz seeds).
func LibvirtDataDir() (string, bool) {
	dir := os.Getenv(LibvirtDataEnv)
	if dir == "" {
		dir = filepath.Join(repoRoot(), "..", "shared", "testdata", "libvirt")
	}
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}

// LibvirtData returns the directory of libvirt's test data. Missing, it
// skips t loudly, naming the path and the variable that moves it; a
// directory named by the variable that is not there fails t.
func LibvirtData(t testing.TB) string {
	t.Helper()
	dir, ok := LibvirtDataDir()
	if !ok {
		if os.Getenv(LibvirtDataEnv) != "" {
			t.Fatalf("%s=%s: no such directory", LibvirtDataEnv, dir)
		}
		t.Skipf("SKIPPED LOUDLY: libvirt's test data is missing at %s; check it out there or set %s to its directory", dir, LibvirtDataEnv)
	}
	return dir
}

// repoRoot is the nearest directory above the working directory (a test's
// package directory) that holds go.mod.
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}
