package runfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomic(t *testing.T) {
	writers := []struct {
		name  string
		write func(path string, data []byte, mode os.FileMode) error
	}{
		{"durable", WriteFileAtomic},
		{"runtime", WriteRuntimeFile},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			steps := []struct {
				data string
				mode os.FileMode
			}{
				{"first\n", 0o600},
				{"second, longer than the first\n", 0o644},
				{"", 0o600},
			}
			for _, st := range steps {
				if err := w.write(path, []byte(st.data), st.mode); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != st.data {
					t.Errorf("content %q, want %q", got, st.data)
				}
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != st.mode {
					t.Errorf("mode %v, want %v", fi.Mode().Perm(), st.mode)
				}
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 1 {
				t.Errorf("temp files left: %v", ents)
			}
		})
	}
}

func TestWriteAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "state.json")
	if err := WriteRuntimeFile(path, []byte("x"), 0o600); err == nil {
		t.Error("no error for a missing directory")
	}
}
