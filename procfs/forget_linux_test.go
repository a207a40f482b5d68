package procfs

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vmlite/cgroup"
	"vmlite/internal/testutil"
)

// A long-lived server holds the trees of the guests it serves, not of
// every guest it ever served: a guest's tree goes when its entry does,
// even when nobody reads, and comes back when it is registered again.
func TestForgetGoneGuests(t *testing.T) {
	testutil.RequireRoot(t)
	l := NewLayout(t.TempDir())
	const n = 20
	for i := 0; i < n; i++ {
		if err := l.Register(Entry{Name: fmt.Sprintf("g%d", i), Partition: "/forget-test", CgroupDir: fmt.Sprintf("g%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	mnt := l.Mountpoint()
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	// The host's cgroup tree: only its layout is read (no guest cgroup
	// is made: nothing reads as a guest here).
	mode, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	v := NewView(l, mode, cgroup.DefaultRoot, "/", Boottime)
	fsrv, srv, err := mount(mnt, v, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fsrv.Unmount() })
	for i := 0; i < n; i++ {
		// Outside any guest: the host's file, but the guest's tree is made.
		if _, err := os.Stat(filepath.Join(l.GuestFiles(fmt.Sprintf("g%d", i)), "proc/meminfo")); err != nil {
			t.Fatal(err)
		}
	}
	gd := guests(t, srv)
	if got := len(gd.Children()); got != n {
		t.Fatalf("%d guest trees, want %d", got, n)
	}
	for i := 1; i < n; i++ {
		if err := l.Unregister(fmt.Sprintf("g%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// What the idle check does: no read needed (a directory's mtime has a
	// coarse clock: the refresh is repeated until it sees the change).
	testutil.WaitFor(t, 10*time.Second, "the gone guests' trees dropped", func() bool {
		v.refresh(true)
		ch := gd.Children()
		return len(ch) == 1 && ch["g0"] != nil
	})
	// The kernel is told after the tree went (its cached entries too).
	testutil.WaitFor(t, 10*time.Second, "a gone guest's file not found", func() bool {
		_, err := os.Stat(filepath.Join(l.GuestFiles("g3"), "proc/meminfo"))
		return os.IsNotExist(err)
	})
	if err := l.Register(Entry{Name: "g3", Partition: "/forget-test", CgroupDir: "g3"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "a guest registered again served again", func() bool {
		_, err := os.Stat(filepath.Join(l.GuestFiles("g3"), "proc/meminfo"))
		return err == nil
	})
}

// guests finds the server's guestsDir (the view's gone hook is its forget).
func guests(t *testing.T, srv *server) *guestsDir {
	t.Helper()
	ch := srv.root.GetChild(GuestsDir)
	if ch == nil {
		t.Fatal("no guests directory")
	}
	return ch.Operations().(*guestsDir)
}
