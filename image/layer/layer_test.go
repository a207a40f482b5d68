package layer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"vmlite/plan"
)

// TestLayerLifecycle: a created layer is whole (record, upper, work), a
// second one at the same place fails with os.ErrExist, the record reads
// back and is replaced by Write, and Remove leaves nothing (twice: no
// error for a missing layer).
func TestLayerLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "guests", "g1")
	rec := Record{Guest: "g1", Image: "busybox", ImageID: "sha256:ab", Lowers: []string{"/l/2", "/l/1"},
		Stored: plan.IDMap{UIDs: []plan.IDRange{{Start: 0, Target: 100000, Count: 65536}}}}
	if err := Create(dir, rec); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"upper", "work"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	if err := Create(dir, rec); !errors.Is(err, os.ErrExist) {
		t.Errorf("second Create: %v, want os.ErrExist", err)
	}
	got, err := Read(dir)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, rec)
	}
	rec.Stored = plan.IDMap{}
	if err := Write(dir, rec); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(dir); err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("Read after Write = %+v, %v; want %+v", got, err, rec)
	}
	for i := 0; i < 2; i++ {
		if err := Remove(dir); err != nil {
			t.Fatalf("Remove %d: %v", i, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 0 {
		t.Errorf("left after Remove: %v", ents)
	}
}
