package state

import (
	"path/filepath"
	"testing"
)

func TestWriteRuntimeReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	in := &State{Name: "g1", Status: Running, InitPID: 42}
	if err := WriteRuntime(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != in.Name || out.Status != in.Status || out.InitPID != in.InitPID {
		t.Errorf("read back %+v, want %+v", out, in)
	}
}
