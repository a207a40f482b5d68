package caps

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// inBounding says whether capability c is in the calling thread's bounding set.
func inBounding(t *testing.T, c int) bool {
	in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
	if err != nil {
		t.Fatalf("PR_CAPBSET_READ %d: %v", c, err)
	}
	return in == 1
}

func TestDropBoundingUnknown(t *testing.T) {
	if err := DropBounding([]string{"CAP_CHOWN", "CAP_NOPE"}); err == nil {
		t.Fatal("an unknown capability was accepted")
	}
}

// TestDropBounding drops on a thread of its own, which ends with the
// goroutine (the bounding set is per thread), so the test process keeps its
// capabilities.
func TestDropBounding(t *testing.T) {
	testutil.RequireRoot(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with us
		mod, _ := ByName("CAP_SYS_MODULE")
		chown, _ := ByName("CAP_CHOWN")
		if !inBounding(t, mod) || !inBounding(t, chown) {
			t.Error("the test thread lacks CAP_SYS_MODULE or CAP_CHOWN to begin with")
			return
		}
		// Twice, and with a capability newer than most kernels' (EINVAL or
		// already gone): both are no-ops, not errors.
		for i := 0; i < 2; i++ {
			if err := DropBounding([]string{"sys_module", "CAP_CHECKPOINT_RESTORE"}); err != nil {
				t.Errorf("DropBounding, round %d: %v", i, err)
			}
		}
		if inBounding(t, mod) {
			t.Error("CAP_SYS_MODULE is still in the bounding set")
		}
		if !inBounding(t, chown) {
			t.Error("CAP_CHOWN was dropped too")
		}
	}()
	<-done
}
