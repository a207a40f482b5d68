//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
)

// TestCgroupSkeletonShared: on a v1 host, the /sys/fs/cgroup tmpfs of the
// unmapped guests of one supervisor is one read-only superblock, the
// supervisor's (issue 17: a superblock per guest), with the hierarchies
// mounted on it as before; a mapped guest keeps a writable tmpfs of its own,
// and its device node copies are a directory of the supervisor's one node
// tmpfs, gone with the guest.
func TestCgroupSkeletonShared(t *testing.T) {
	mode, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	if mode == cgroup.V2 {
		t.Skip("SKIP: cgroup v2 host: a guest's /sys/fs/cgroup is its cgroup2 mount, no tmpfs")
	}
	h := newHarness(t)
	type view struct{ dev, opts, memLimit, probe string }
	see := func(name string) view {
		script := `stat -c %d /sys/fs/cgroup; awk '$5=="/sys/fs/cgroup"{print $6}' /proc/self/mountinfo; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; { mkdir /sys/fs/cgroup/probe 2>&1 && echo made; } || true`
		f := strings.SplitN(strings.TrimSpace(h.must("exec", name, "--", "/bin/sh", "-c", script).stdout), "\n", 4)
		if len(f) != 4 {
			t.Fatalf("%s: unexpected output %q", name, f)
		}
		return view{f[0], f[1], f[2], f[3]}
	}
	sv := map[int]bool{}
	var views []view
	var names []string
	for _, idmap := range []bool{false, false, true} {
		name := h.uniqueName("cgfs")
		names = append(names, name)
		xml, _ := h.busybox(name, idmap)
		h.must("start", xml)
		h.waitConsole(name, "vmlite-guest: BOOTED "+name)
		sv[h.status(name).SupervisorPID] = true
		v := see(name)
		t.Logf("idmap=%v: %+v", idmap, v)
		if v.memLimit == "" || strings.Contains(v.memLimit, "No such") {
			t.Errorf("idmap=%v: the guest reads no memory limit through its /sys/fs/cgroup: %q", idmap, v.memLimit)
		}
		wantRO := !idmap
		if got := strings.HasPrefix(v.opts, "ro"); got != wantRO {
			t.Errorf("idmap=%v: /sys/fs/cgroup mounted %q, want read-only %v", idmap, v.opts, wantRO)
		}
		if got := strings.Contains(v.probe, "Read-only"); got != wantRO || (!wantRO && v.probe != "made") {
			t.Errorf("idmap=%v: mkdir /sys/fs/cgroup/probe: %q, want a read-only file system %v", idmap, v.probe, wantRO)
		}
		views = append(views, v)
	}
	if len(sv) != 1 {
		t.Fatalf("the guests ran in %d supervisors, want one shared supervisor (the default)", len(sv))
	}
	if views[0].dev != views[1].dev {
		t.Errorf("two unmapped guests of one supervisor: /sys/fs/cgroup on filesystems %s and %s, want the supervisor's one", views[0].dev, views[1].dev)
	}
	if views[2].dev == views[0].dev {
		t.Errorf("the mapped guest's /sys/fs/cgroup is the unmapped guests' (%s), want a tmpfs of its own", views[2].dev)
	}
	// The mapped guest's device node copies are a directory of its
	// supervisor's one node tmpfs, removed with the guest while the
	// supervisor goes on for the others.
	svPID := h.status(names[0]).SupervisorPID
	null := filepath.Join("/proc", strconv.Itoa(h.status(names[2]).InitPID), "root/dev/null")
	var st unix.Stat_t
	if err := unix.Stat(null, &st); err != nil {
		t.Fatal(err)
	}
	nodeDir := func() []string {
		fds, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(svPID), "fd", "*"))
		for _, fd := range fds {
			var fst unix.Stat_t
			if unix.Stat(fd, &fst) == nil && fst.Dev == st.Dev && fst.Mode&unix.S_IFMT == unix.S_IFDIR {
				ents, _ := os.ReadDir(fd)
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				return names
			}
		}
		t.Fatalf("no fd of supervisor %d on the filesystem of the mapped guest's /dev/null (dev %d)", svPID, st.Dev)
		return nil
	}
	if d := nodeDir(); len(d) != 1 {
		t.Errorf("the supervisor's node tmpfs holds %v, want the mapped guest's one directory", d)
	}
	h.must("destroy", names[2])
	h.assertGone(names[2])
	if d := nodeDir(); len(d) != 0 {
		t.Errorf("the supervisor's node tmpfs holds %v after the mapped guest's destroy, want nothing", d)
	}
	for _, name := range names[:2] {
		h.must("destroy", name)
		h.assertGone(name)
	}
}
