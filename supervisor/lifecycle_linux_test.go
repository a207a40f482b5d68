package supervisor

import (
	"runtime"
	"testing"
)

// TestBorrowP: overlapping records (two guests of a shared supervisor
// ending together) hold the second P until the last one is done, and
// GOMAXPROCS is what it was afterwards, whatever the order of release.
func TestBorrowP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a := borrowP()
	b := borrowP()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS while borrowed = %d, want 2", got)
	}
	a()
	a() // a second release does nothing
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS with one record left = %d, want 2", got)
	}
	b()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS after both = %d, want 1", got)
	}
}
