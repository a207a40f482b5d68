package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/internal/supervisorbin"
	"vmlite/plan"
)

// TestSupervisorExecutable: a build that embeds vmlite-supervisor (make
// build) runs supervisors from its copy in InitBinDir, written once; one
// whose copy cannot be written, or a build that embeds none (plain go
// build), runs them from itself, the former saying why in the log.
func TestSupervisorExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bin")
	p := &plan.Plan{Paths: plan.Paths{InitBinDir: dir}}
	path, note, err := supervisorExecutable(p)
	if err != nil {
		t.Fatal(err)
	}
	size := supervisorbin.Size()
	if size == 0 {
		t.Logf("this build embeds no vmlite-supervisor (no make build): supervisors run from the test binary")
		if path != self || note != "" {
			t.Errorf("without an embedded supervisor: %q, note %q; want %q and no note", path, note, self)
		}
		return
	}
	fi, err := os.Stat(path)
	if err != nil || !strings.HasPrefix(filepath.Base(path), "supervisor-") || filepath.Dir(path) != dir || fi.Size() != size || note != "" {
		t.Fatalf("supervisorExecutable = %q (%v, %v), note %q; want dir/supervisor-ID of %d bytes", path, fi, err, note, size)
	}
	if again, _, _ := supervisorExecutable(p); again != path {
		t.Errorf("second call: %q, want the same copy %q", again, path)
	}
	// An InitBinDir below a regular file cannot be made.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p.Paths.InitBinDir = filepath.Join(blocker, "bin")
	path, note, err = supervisorExecutable(p)
	if err != nil || path != self || !strings.Contains(note, "runs from vmlite itself") {
		t.Errorf("unwritable InitBinDir: %q, note %q, %v; want %q and a note", path, note, err, self)
	}
}
