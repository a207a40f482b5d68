package uidmap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// fakeGuest makes name's runtime directory with its plan; running holds its
// lock (as a live supervisor does) until the test ends.
func fakeGuest(t *testing.T, l state.Layout, name string, m plan.IDMap, running bool) {
	t.Helper()
	if err := os.MkdirAll(l.RunDir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := (&plan.Plan{Version: plan.Version, Name: name, IDMap: m}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.PlanFile(name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if !running {
		if err := os.WriteFile(l.LockFile(name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	lock, err := state.TryLock(l.LockFile(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
}

func TestCheckRunning(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	std := both(one(0, 100000, 65536))
	fakeGuest(t, l, "web", std, true)
	fakeGuest(t, l, "stale", both(one(0, 300000, 65536)), false)
	if err := os.MkdirAll(filepath.Join(l.Run, "networks"), 0o700); err != nil { // not a guest
		t.Fatal(err)
	}

	got, err := RunningMaps(l)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "web" || !Equal(got[0].IDMap, std) {
		t.Fatalf("RunningMaps = %+v, want only web", got)
	}

	_, err = CheckRunning(l, &plan.Plan{Name: "new", IDMap: std})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `running guest "web"`) {
		t.Fatalf("overlap with a running guest: err = %v", err)
	}
	// The stale guest's ids are free again.
	release, err := CheckRunning(l, &plan.Plan{Name: "new", IDMap: both(one(0, 300000, 65536))})
	if err != nil {
		t.Fatalf("free ids refused: %v", err)
	}

	// While one start holds the lock, a second one waits for it.
	done := make(chan error, 1)
	go func() {
		r, err := CheckRunning(l, &plan.Plan{Name: "other", IDMap: both(one(0, 500000, 65536))})
		if err == nil {
			r()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("second check did not wait for the lock (err %v)", err)
	case <-time.After(200 * time.Millisecond):
		// Still waiting, as it should: a negative check needs some window.
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("second check: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second check still blocked after release")
	}
}
