package procfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// A long-lived server holds the trees of the guests it serves, not of
// every guest it ever served: a guest's tree goes when its entry does,
// even when nobody reads, and comes back when it is registered again.
func TestForgetGoneGuests(t *testing.T) {
	l := NewLayout(t.TempDir())
	const n = 20
	for i := 0; i < n; i++ {
		if err := l.Register(Entry{Name: fmt.Sprintf("g%d", i), Partition: "/forget-test", CgroupDir: fmt.Sprintf("g%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	v, srv := mountForTest(t, l)
	for i := 0; i < n; i++ {
		// Outside any guest: the host's file, but the guest's tree is made.
		if _, err := os.Stat(filepath.Join(l.GuestFiles(fmt.Sprintf("g%d", i)), "proc/meminfo")); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.guestTrees(); got != n {
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
		srv.mu.Lock()
		defer srv.mu.Unlock()
		_, kept := srv.slots["g0"]
		return len(srv.slots) == 1 && kept
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
