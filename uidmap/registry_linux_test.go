package uidmap

import (
	"errors"
	"os"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// TestCheckRunningAcrossRoots: the overlap check sees the running guests of
// every state root, not only its own, and forgets those that stopped.
func TestCheckRunningAcrossRoots(t *testing.T) {
	a, b := state.NewLayout(t.TempDir()), state.NewLayout(t.TempDir())
	for _, l := range []state.Layout{a, b} {
		if err := l.Ensure(); err != nil {
			t.Fatal(err)
		}
	}
	std := both(one(0, 100000, 65536))
	start := func(l state.Layout, name string, m plan.IDMap) (stop func(), err error) {
		if err := os.MkdirAll(l.RunDir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		lock, err := state.TryLock(l.LockFile(name))
		if err != nil {
			t.Fatal(err)
		}
		release, err := CheckRunning(l, &plan.Plan{Name: name, IDMap: m, Paths: plan.Paths{RunRoot: l.Run}})
		if err != nil {
			lock.Close()
			return nil, err
		}
		release()
		return func() { lock.Close() }, nil
	}
	tests := []struct {
		name    string
		l       state.Layout
		guest   string
		m       plan.IDMap
		refused bool
		inError string
	}{
		{"same name, same ids, other root", b, "web", std, true, `running guest "web" of the state root with runtime tree ` + a.Run},
		{"other name, same ids, other root", b, "db", std, true, `running guest "web"`},
		{"same ids, same root", a, "db", std, true, `running guest "web" (its range`},
		{"other ids, other root", b, "web", both(one(0, 300000, 65536)), false, ""},
	}
	stopWeb, err := start(a, "web", std)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stop, err := start(tc.l, tc.guest, tc.m)
			if err == nil {
				defer stop()
			}
			if !tc.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.inError) {
				t.Fatalf("err = %v, want a refusal mentioning %q", err, tc.inError)
			}
		})
	}
	// Once web stops (its lock is free), its ids are free on every root and
	// its record goes.
	stopWeb()
	stop, err := start(b, "web", std)
	if err != nil {
		t.Fatalf("after web stopped: %v", err)
	}
	stop()
	if _, err := os.Stat(recordFile(a, "web")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale record of the stopped guest kept: %v", err)
	}
}
