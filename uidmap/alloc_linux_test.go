package uidmap

import (
	"os"
	"path/filepath"
	"testing"

	"vmlite/state"
)

// TestFreeTarget: defined guests, running guests and /etc/subuid entries
// all take their ids out of the choice.
func TestFreeTarget(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	defined := `<domain type='lxc'><name>def</name><memory>65536</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>
</domain>`
	if err := os.WriteFile(l.DomainFile("def"), []byte(defined), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeGuest(t, l, "run", both(one(0, 165536, 65536)), true)
	subuid := filepath.Join(t.TempDir(), "subuid")
	if err := os.WriteFile(subuid, []byte("alice:231072:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := SubIDFiles
	SubIDFiles = []string{subuid, filepath.Join(t.TempDir(), "missing")}
	t.Cleanup(func() { SubIDFiles = saved })

	got, err := FreeTarget(l, 100000, 65536)
	if err != nil || got != 296608 {
		t.Fatalf("FreeTarget = %d, %v; want 296608", got, err)
	}
	if err := os.WriteFile(subuid, []byte("broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FreeTarget(l, 100000, 65536); err == nil {
		t.Error("a malformed subuid file went unnoticed")
	}
}
