package cgroup

import (
	"path/filepath"
	"syscall"
	"testing"

	"vmlite/internal/testutil"
	"vmlite/plan"
)

func owner(t *testing.T, p string) (uid, gid uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

// TestDelegateFake chowns on a fake tree (chown to another uid needs root).
func TestDelegateFake(t *testing.T) {
	testutil.RequireRoot(t)
	for _, mode := range []Mode{V1, V2} {
		t.Run(mode.String(), func(t *testing.T) {
			root, f := fakeHost(t, mode, []string{"memory"})
			m := newFake(t, root, f, plan.Cgroup{Name: "g"})
			if err := m.Create(); err != nil {
				t.Fatal(err)
			}
			if err := m.Delegate(100000, 100001); err != nil {
				t.Fatal(err)
			}
			for _, h := range m.hs {
				owned := delegatedV1
				if h.v2 {
					owned = delegatedV2
				}
				check := func(p string, want bool) {
					uid, gid := owner(t, p)
					if got := uid == 100000 && gid == 100001; got != want {
						t.Errorf("%s owned by %d:%d, delegated=%v want %v", p, uid, gid, got, want)
					}
				}
				check(m.leaf(h), true)
				check(filepath.Dir(m.leaf(h)), false)
				for _, f := range owned {
					if p := filepath.Join(m.leaf(h), f); exists(p) {
						check(p, true)
					}
				}
				if h.has("memory") {
					check(filepath.Join(m.leaf(h), "memory.limit_in_bytes"), false)
				}
				if h.v2 && mode == V2 {
					check(filepath.Join(m.leaf(h), "memory.max"), false)
				}
			}
		})
	}
}
