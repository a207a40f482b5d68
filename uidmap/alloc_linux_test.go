package uidmap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// TestFreeTarget: defined guests, running guests and /etc/subuid entries
// all take their ids out of the choice.
func TestFreeTarget(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	// A defined guest's map (domain.Store.IDMaps reads them).
	defined := []plan.IDMap{both(one(0, 100000, 65536))}
	fakeGuest(t, l, "run", both(one(0, 165536, 65536)), true)
	subuid := filepath.Join(t.TempDir(), "subuid")
	if err := os.WriteFile(subuid, []byte("alice:231072:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := SubIDFiles
	SubIDFiles = []string{subuid, filepath.Join(t.TempDir(), "missing")}
	t.Cleanup(func() { SubIDFiles = saved })

	got, err := FreeTarget(l, defined, 100000, 65536)
	if err != nil || got != 296608 {
		t.Fatalf("FreeTarget = %d, %v; want 296608", got, err)
	}
	if err := os.WriteFile(subuid, []byte("broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FreeTarget(l, defined, 100000, 65536); err == nil {
		t.Error("a malformed subuid file went unnoticed")
	}
}

// TestSubIDOwner: with "vmlite" entries in both files, ranges come from
// them; CheckSubIDs refuses another user's ids and allows vmlite's (or
// any, with allowOverlap).
func TestSubIDOwner(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	subuid, subgid := filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")
	saved := SubIDFiles
	SubIDFiles = []string{subuid, subgid}
	t.Cleanup(func() { SubIDFiles = saved })
	write := func(u, g string) {
		t.Helper()
		if err := os.WriteFile(subuid, []byte(u), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(subgid, []byte(g), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, subuid, subgid string
		want                 uint32 // FreeTarget; 0 = an error
	}{
		{"no entries", "", "", 100000},
		{"a user at 100000", "alice:100000:65536\n", "alice:100000:65536\n", 165536},
		{"vmlite entries", "alice:100000:65536\nvmlite:1000000000:1000000000\n", "vmlite:1000000000:1000000000\n", 1000000000},
		{"vmlite entries differ", "vmlite:1000000000:200000\n", "vmlite:1000065536:200000\n", 1000065536},
		{"vmlite entry full", "vmlite:1000000000:1000\n", "vmlite:1000000000:1000\n", 0},
		{"vmlite in one file only", "vmlite:1000000000:1000000000\n", "", 100000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write(tc.subuid, tc.subgid)
			got, err := FreeTarget(l, nil, 100000, 65536)
			if tc.want == 0 {
				if err == nil {
					t.Fatalf("FreeTarget = %d, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("FreeTarget = %d, %v; want %d", got, err, tc.want)
			}
		})
	}

	write("alice:100000:65536\nvmlite:1000000000:1000000000\n", "alice:100000:65536\nvmlite:1000000000:1000000000\n")
	for _, tc := range []struct {
		name   string
		target uint32
		allow  bool
		bad    bool
	}{
		{"alice's ids", 100000, false, true},
		{"part of alice's", 150000, false, true},
		{"alice's, allowed", 100000, true, false},
		{"vmlite's", 1000000000, false, false},
		{"nobody's", 300000, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan.Plan{Name: "g", IDMap: both(one(0, tc.target, 65536))}
			p.IDMap.AllowOverlap = tc.allow
			err := CheckSubIDs(p)
			if tc.bad != (err != nil) {
				t.Fatalf("CheckSubIDs(target %d) = %v, want refused %v", tc.target, err, tc.bad)
			}
			if tc.bad && (!errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `belong to "alice" in `+subuid)) {
				t.Errorf("refusal %v: want ErrInvalid naming alice and %s", err, subuid)
			}
		})
	}
}
