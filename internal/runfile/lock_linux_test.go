package runfile

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestLocks: TryLock refuses a held lock at once, Lock waits for it, Held
// tells them apart.
func TestLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if held, err := Held(path); err != nil || held {
		t.Fatalf("missing lock: held %v, %v", held, err)
	}
	first, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := Held(path); err != nil || !held {
		t.Errorf("after Lock: held %v, %v", held, err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Errorf("TryLock of a held lock: %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	go func() {
		f, err := Lock(path)
		if err == nil {
			f.Close()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while the lock was held", err)
	default:
	}
	first.Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Lock did not return after the holder released it")
	}
	if _, err := Lock(filepath.Join(t.TempDir(), "no", "such", "dir", "lock")); err == nil {
		t.Error("Lock in a missing directory succeeded")
	}
}
