package supervisor

import (
	"os"
	"path/filepath"
	"testing"

	"vmlite/state"
)

// TestRemoveRunDir: the runtime directory goes whole, lock, state,
// sockets, subdirectories and all; one already gone is no error.
func TestRemoveRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "g")
	if err := os.MkdirAll(filepath.Join(dir, "root", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{state.LockName, "state.json", "plan.json", "console0.sock"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeRunDir(dir, filepath.Join(dir, "state.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s after removeRunDir: %v", dir, err)
	}
	if err := removeRunDir(dir, filepath.Join(dir, "state.json")); err != nil {
		t.Errorf("again: %v", err)
	}
}
