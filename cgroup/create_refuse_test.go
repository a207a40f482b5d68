package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// TestCreateRefusesInUse: a cgroup that holds processes (another guest's
// leaf, or a guest's leaf named as a partition) is refused, and a refused
// Create leaves the tree exactly as it found it: the busy cgroup and its
// processes untouched, no directory of its own behind.
func TestCreateRefusesInUse(t *testing.T) {
	tests := []struct {
		name      string
		occupant  plan.Cgroup // started first, given a process
		newcomer  plan.Cgroup
		wantErr   error
		wantInErr string
	}{
		{"same leaf", plan.Cgroup{Partition: "/machine", Name: "web.11111111"},
			plan.Cgroup{Partition: "/machine", Name: "web.11111111"}, errdefs.ErrAlreadyExists, "holds processes"},
		// Leaves of the NAME.ID form are refused as partitions by RelPath
		// (TestRelPath); these are leaves of another form (an older vmlite's).
		{"partition inside a guest", plan.Cgroup{Partition: "/machine", Name: "other"},
			plan.Cgroup{Partition: "/machine/other", Name: "web.22222222"}, errdefs.ErrInvalid, "not a partition"},
		{"partition below a guest", plan.Cgroup{Partition: "/machine", Name: "other"},
			plan.Cgroup{Partition: "/machine/other/sub", Name: "web.22222222"}, errdefs.ErrInvalid, "not a partition"},
	}
	for _, mode := range []Mode{V1, V2} {
		for _, tc := range tests {
			t.Run(mode.String()+"/"+tc.name, func(t *testing.T) {
				root, f := fakeHost(t, mode, []string{"memory", "pids"})
				occ := newFake(t, root, f, tc.occupant)
				if err := occ.Create(); err != nil {
					t.Fatal(err)
				}
				// The faked occupant's process, in every hierarchy.
				for _, p := range occ.Paths() {
					if err := os.WriteFile(filepath.Join(p, "cgroup.procs"), []byte("4242\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				before := tree(t, root)
				err := newFake(t, root, f, tc.newcomer).Create()
				if !errors.Is(err, tc.wantErr) || !containsStr(err, tc.wantInErr) {
					t.Fatalf("Create = %v, want %v mentioning %q", err, tc.wantErr, tc.wantInErr)
				}
				if after := tree(t, root); !reflect.DeepEqual(before, after) {
					t.Errorf("a refused Create changed the tree:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
	}
}

// TestCreateRollsBack: a Create that fails after making directories (a
// limit the kernel refuses) removes them all.
func TestCreateRollsBack(t *testing.T) {
	root, f := fakeHost(t, V2, []string{"memory", "pids"})
	before := tree(t, root)
	m := newFake(t, root, f, plan.Cgroup{Partition: "/machine/p", Name: "web.11111111",
		Limits: plan.Limits{MemoryBytes: 1 << 20, SwapBytes: 1}})
	if err := m.Create(); err == nil {
		t.Fatal("Create with swap below memory succeeded")
	}
	if after := tree(t, root); !reflect.DeepEqual(before, after) {
		t.Errorf("a failed Create left directories:\nbefore %v\nafter  %v", before, after)
	}
}

// tree records every path under root with the content of regular files.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = string(b)
			return nil
		}
		out[p] = fi.Mode().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func containsStr(err error, s string) bool {
	return err != nil && (s == "" || (len(err.Error()) >= len(s) && strings.Contains(err.Error(), s)))
}
