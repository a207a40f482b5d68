package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vmlite/plan"
)

func TestSpareName(t *testing.T) {
	n := SpareName("0123abcd", 4242, 3)
	if plan.IsGuestCgroupName(n) {
		t.Errorf("spare name %q has a guest leaf's form", n)
	}
	if err := checkElem(n); err != nil {
		t.Errorf("spare name %q: %v", n, err)
	}
	for _, tc := range []struct {
		name, id string
		pid      int
		ok       bool
	}{
		{n, "0123abcd", 4242, true},
		{n, "deadbeef", 0, false},
		{"spare.0123abcd.x.1", "0123abcd", 0, false},
		{"spare.0123abcd.12", "0123abcd", 0, false},
		{"spare.0123abcd.12.y", "0123abcd", 0, false},
		{"web1.0123abcd", "0123abcd", 0, false},
	} {
		pid, ok := spareOwner(tc.name, tc.id)
		if pid != tc.pid || ok != tc.ok {
			t.Errorf("spareOwner(%q, %q) = %d, %v; want %d, %v", tc.name, tc.id, pid, ok, tc.pid, tc.ok)
		}
	}
}

// TestSpareAdopt: a spare on a faked hybrid host is made in the v1
// hierarchies only; Adopt renames it to the guest's leaf (its processes
// with it), makes the guest's cgroup2 leaf, applies the limits, and join
// writes only the cgroup2 tree; a failed Adopt changes nothing.
func TestSpareAdopt(t *testing.T) {
	root, f := fakeHost(t, V1, nil)
	if sp, err := newSpare(root, V2, "", "x", f); sp != nil || err != nil {
		t.Errorf("newSpare on v2 = %v, %v; want none", sp, err)
	}
	sp, err := newSpare(root, V1, "/machine", SpareName("0123abcd", 1, 0), f)
	if err != nil || sp == nil {
		t.Fatalf("newSpare: %v, %v", sp, err)
	}
	for _, h := range sp.hs {
		if h.v2 {
			t.Errorf("spare has the cgroup2 hierarchy %s", h.root)
		}
	}
	if err := CreateSpare(sp); err != nil {
		t.Fatal(err)
	}
	// The stage in the spare (faked: the kernel would list it).
	for _, h := range sp.hs {
		if err := os.WriteFile(filepath.Join(sp.leaf(h), "cgroup.procs"), []byte("777\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := readString(filepath.Join(root, "cpuset", "vmlite", "machine", sp.rel[len("vmlite/machine/"):], "cpuset.mems")); got != "0" {
		t.Errorf("spare cpuset.mems = %q, want the parent's", got)
	}
	c := plan.Cgroup{Partition: "/machine", Name: plan.CgroupName("web1", "0123abcd"), Limits: plan.Limits{MemoryBytes: 256 << 20}}

	// A leftover leaf of the guest in one hierarchy: the rename fails, and
	// the hierarchies renamed before it are renamed back.
	g := newFake(t, root, f, c)
	block := g.leaf(hierarchyNamed(t, g, "pids"))
	if err := os.MkdirAll(block, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(block, "x"), nil, 0o644); err != nil {
		t.Fatal(err) // a non-empty directory: rename(2) refuses it as the kernel would
	}
	if _, err := Adopt(g, sp); err == nil {
		t.Fatal("Adopt over an existing leaf succeeded")
	}
	for _, h := range sp.hs {
		if !exists(sp.leaf(h)) {
			t.Errorf("after a failed Adopt the spare lacks %s", sp.leaf(h))
		}
		if h.root != hierarchyNamed(t, g, "pids").root && exists(g.leaf(h)) {
			t.Errorf("after a failed Adopt the guest has %s", g.leaf(h))
		}
	}
	if err := os.RemoveAll(block); err != nil {
		t.Fatal(err)
	}

	join, err := Adopt(g, sp)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range g.hs {
		procs, err := readString(filepath.Join(g.leaf(h), "cgroup.procs"))
		if err != nil {
			t.Fatalf("guest leaf in %s: %v", h.root, err)
		}
		want := "777"
		if h.v2 {
			want = ""
		}
		if procs != want {
			t.Errorf("%s: cgroup.procs %q, want %q", g.leaf(h), procs, want)
		}
	}
	for _, h := range sp.hs {
		if exists(sp.leaf(h)) {
			t.Errorf("spare %s still there after Adopt", sp.leaf(h))
		}
	}
	if got, _ := readString(filepath.Join(g.leaf(hierarchyNamed(t, g, "memory")), "memory.limit_in_bytes")); got != "268435456" {
		t.Errorf("memory limit after Adopt = %q", got)
	}
	if err := join(888); err != nil {
		t.Fatal(err)
	}
	for _, h := range g.hs {
		procs, _ := readString(filepath.Join(g.leaf(h), "cgroup.procs"))
		if h.v2 != (procs == "888") {
			t.Errorf("after join, %s holds %q: want 888 only in the cgroup2 tree", g.leaf(h), procs)
		}
	}
}

// TestSweepSpares removes the spares of dead supervisors of one state
// root, and only those, with the partition when it is left empty.
func TestSweepSpares(t *testing.T) {
	root, f := fakeHost(t, V1, nil)
	mk := func(id string, pid int) *manager {
		sp, err := newSpare(root, V1, "", SpareName(id, pid, 0), f)
		if err != nil {
			t.Fatal(err)
		}
		if err := CreateSpare(sp); err != nil {
			t.Fatal(err)
		}
		return sp
	}
	const deadPid = 4242
	dead, live, other := mk("0123abcd", deadPid), mk("0123abcd", os.Getpid()), mk("deadbeef", deadPid)
	alive := func(pid int) bool { return pid == os.Getpid() }
	if err := sweepSpares(root, V1, "", "0123abcd", f, alive); err != nil {
		t.Fatal(err)
	}
	for _, h := range dead.hs {
		if exists(dead.leaf(h)) {
			t.Errorf("a dead supervisor's spare %s was kept", dead.leaf(h))
		}
		if !exists(live.leaf(h)) || !exists(other.leaf(h)) {
			t.Errorf("a live supervisor's or another root's spare was removed in %s", h.root)
		}
	}
	for _, sp := range []*manager{live, other} {
		if err := sp.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range dead.hs {
		if exists(filepath.Join(h.root, TopDir)) {
			t.Errorf("%s left behind", filepath.Join(h.root, TopDir))
		}
	}
}

func hierarchyNamed(t *testing.T, m *manager, c string) hierarchy {
	t.Helper()
	for _, h := range m.hs {
		if !h.v2 && h.has(c) {
			return h
		}
	}
	t.Fatalf("no %s hierarchy", c)
	return hierarchy{}
}

func TestSupervisorAlive(t *testing.T) {
	if supervisorAlive(os.Getpid()) {
		t.Error("the test binary passes for a supervisor")
	}
	if supervisorAlive(1 << 22) { // above the kernel's pid ceiling
		t.Error("a pid that cannot exist passes for a live supervisor")
	}
}

// TestSelfJoin: on a faked hybrid host SelfJoin opens the tasks file of
// every v1 hierarchy's leaf, JoinSelf writes 0 to each, and join moves a
// pid into the cgroup2 tree only.
func TestSelfJoin(t *testing.T) {
	root, f := fakeHost(t, V1, nil)
	m := newFake(t, root, f, plan.Cgroup{Name: plan.CgroupName("web1", "0123abcd")})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	tasks, join, err := SelfJoin(m)
	if err != nil {
		t.Fatal(err)
	}
	v1 := 0
	for _, h := range m.hs {
		if !h.v2 {
			v1++
		}
	}
	if len(tasks) != v1 {
		t.Errorf("SelfJoin opened %d tasks files, want one per v1 hierarchy (%d)", len(tasks), v1)
	}
	if err := JoinSelf(tasks); err != nil {
		t.Fatal(err)
	}
	if err := join(999); err != nil {
		t.Fatal(err)
	}
	for _, h := range m.hs {
		if h.v2 {
			if got, _ := readString(filepath.Join(m.leaf(h), "cgroup.procs")); got != "999" {
				t.Errorf("%s cgroup.procs = %q, want 999", m.leaf(h), got)
			}
			continue
		}
		if got, _ := readString(filepath.Join(m.leaf(h), "tasks")); got != "0" {
			t.Errorf("%s tasks = %q, want the 0 of a thread moving itself", m.leaf(h), got)
		}
		if got, _ := readString(filepath.Join(m.leaf(h), "cgroup.procs")); got != "" {
			t.Errorf("%s cgroup.procs = %q: written by pid", m.leaf(h), got)
		}
	}
	if _, _, err := SelfJoin(newFake(t, root, f, plan.Cgroup{Name: "absent"})); err == nil {
		t.Error("SelfJoin of a cgroup that was never made succeeded")
	}
}

// FuzzSpareOwner: spareOwner never panics, accepts only what SpareName
// makes for the instance, and gives back its pid.
func FuzzSpareOwner(f *testing.F) {
	f.Add("spare.0123abcd.4242.3", "0123abcd")
	f.Add("spare.0123abcd..3", "0123abcd")
	f.Add("web1.0123abcd", "0123abcd")
	f.Fuzz(func(t *testing.T, name, id string) {
		pid, ok := spareOwner(name, id)
		if !ok {
			return
		}
		if pid <= 0 {
			t.Fatalf("spareOwner(%q, %q) = %d, true", name, id, pid)
		}
		// Canonical numbers round-trip through SpareName.
		pidS, nS, _ := strings.Cut(name[len("spare."+id+"."):], ".")
		n, err := strconv.Atoi(nS)
		if err != nil {
			t.Fatalf("accepted %q with a bad serial", name)
		}
		if strconv.Itoa(pid) == pidS && strconv.Itoa(n) == nS && SpareName(id, pid, n) != name {
			t.Fatalf("spareOwner(%q) = %d, but SpareName gives %q", name, pid, SpareName(id, pid, n))
		}
	})
}
