//go:build integration

package integration

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestSameNameTwoRoots: two state roots each run a guest called the same:
// their cgroups differ, and neither start nor destroy under one root
// touches the other's guest (before, the second start failed at "create
// cgroup: holds processes" and its cleanup SIGKILLed the first guest).
func TestSameNameTwoRoots(t *testing.T) {
	h1, h2 := newHarness(t), newHarness(t)
	name := h1.uniqueName("two")
	h2.names = append(h2.names, name)
	x1, _ := h1.busybox(name, false)
	x2, _ := h2.busybox(name, false)
	h1.must("start", x1)
	first := h1.waitState(name, "running")
	if r := h2.run("start", x2); r.code != 0 {
		t.Fatalf("same name under a second root: %v", r)
	}
	second := h2.waitState(name, "running")
	if !strings.HasSuffix(second.Cgroup, "/"+h2.cgroupLeaf(name)) || !strings.HasSuffix(first.Cgroup, "/"+h1.cgroupLeaf(name)) {
		t.Errorf("status cgroups %q and %q: want .../%s and .../%s", first.Cgroup, second.Cgroup, h1.cgroupLeaf(name), h2.cgroupLeaf(name))
	}
	if s := h1.status(name); s.State != "running" || s.InitPID != first.InitPID || processGone(first.InitPID) {
		t.Fatalf("the first root's guest after the second start: %+v (was init %d)", s, first.InitPID)
	}
	c1, c2 := cgroupsOf(h1.cgroupLeaf(name)), cgroupsOf(h2.cgroupLeaf(name))
	if len(c1) == 0 || len(c2) == 0 || h1.cgroupLeaf(name) == h2.cgroupLeaf(name) {
		t.Fatalf("want distinct cgroups per root: %v and %v", c1, c2)
	}
	h2.must("destroy", name)
	h2.assertGone(name)
	if s := h1.status(name); s.State != "running" || processGone(first.InitPID) {
		t.Fatalf("destroy under the second root hit the first root's guest: %+v", s)
	}
	if len(cgroupsOf(h1.cgroupLeaf(name))) != len(c1) {
		t.Errorf("the first guest's cgroups changed: %v, want %v", cgroupsOf(h1.cgroupLeaf(name)), c1)
	}
}

// TestCgroupInUseRefused: a start whose cgroup is already there with a
// process in it is refused (exit 2) and leaves that process and cgroup
// alone: cleanup undoes only what the start made.
func TestCgroupInUseRefused(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("busy")
	x, _ := h.busybox(name, false)
	hier := "/sys/fs/cgroup/pids"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		hier = "/sys/fs/cgroup"
	}
	leaf := filepath.Join(hier, "vmlite", "machine", h.cgroupLeaf(name))
	made := mkdirAllRecord(t, leaf)
	sleeper := exec.Command("sleep", "1000")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sleeper.Process.Kill()
		_ = sleeper.Wait()
		// The kernel empties cgroup.procs once the sleeper is reaped.
		testutil.WaitFor(t, 10*time.Second, "removal of "+leaf, func() bool {
			err := syscall.Rmdir(leaf)
			return err == nil || errors.Is(err, syscall.ENOENT)
		})
		// Parents we made go if empty; a guest of another test may keep
		// them, and vmlite removes them with it.
		for i := len(made) - 2; i >= 0; i-- {
			_ = syscall.Rmdir(made[i])
		}
	})
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := h.run("start", x)
	if r.code != 2 || !strings.Contains(r.stderr, "holds processes") {
		t.Fatalf("start over a cgroup in use: want exit 2 naming it, got %v", r)
	}
	if err := sleeper.Process.Signal(syscall.Signal(0)); err != nil || processGone(sleeper.Process.Pid) {
		t.Fatalf("the process in the cgroup was killed by the failed start")
	}
	b, err := os.ReadFile(filepath.Join(leaf, "cgroup.procs"))
	if err != nil || !bytes.Contains(b, []byte(strconv.Itoa(sleeper.Process.Pid))) {
		t.Fatalf("the cgroup in use changed: %q, %v", b, err)
	}
	if dirExists(filepath.Join(h.root, "run", "guests", name)) {
		t.Errorf("the refused start left its runtime directory")
	}
}

// TestPartitionInsideGuest: <resource><partition> naming a running guest's
// cgroup is refused at validate and start with the xpath; the other guest
// runs on.
func TestPartitionInsideGuest(t *testing.T) {
	h := newHarness(t)
	a, b := h.uniqueName("pa"), h.uniqueName("pb")
	xa, _ := h.busybox(a, false)
	xb, _ := h.busybox(b, false)
	h.must("start", xa)
	sa := h.waitState(a, "running")
	raw, err := os.ReadFile(xb)
	if err != nil {
		t.Fatal(err)
	}
	part := "/machine/" + h.cgroupLeaf(a)
	raw = bytes.Replace(raw, []byte("</memory>"), []byte("</memory>\n  <resource><partition>"+part+"</partition></resource>"), 1)
	if err := os.WriteFile(xb, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "start"} {
		r := h.run(cmd, xb)
		if r.code != 2 || !strings.Contains(r.stderr, "/domain/resource/partition") || !strings.Contains(r.stderr, "guest's cgroup") {
			t.Errorf("%s with a partition inside guest %s: want exit 2 with the xpath, got %v", cmd, a, r)
		}
	}
	if s := h.status(a); s.State != "running" || s.InitPID != sa.InitPID {
		t.Errorf("guest %s after the refused start: %+v", a, s)
	}
}

// mkdirAllRecord creates dir and its missing parents and returns those it
// made, top first.
func mkdirAllRecord(t *testing.T, dir string) []string {
	t.Helper()
	var missing []string
	for d := dir; !dirExists(d); d = filepath.Dir(d) {
		missing = append([]string{d}, missing...)
	}
	for _, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return missing
}

// TestIDMapOverlapTwoRoots: the host-id overlap check is host-wide: a
// guest under a second state root with the host ids of a running guest
// under the first is refused (exit 2, naming it), and starts once that one
// is gone (before, each root checked only its own guests).
func TestIDMapOverlapTwoRoots(t *testing.T) {
	h1, h2 := newHarness(t), newHarness(t)
	a, b := h1.uniqueName("ida"), h2.uniqueName("idb")
	xa, _ := h1.busybox(a, true)
	xb, _ := h2.busybox(b, true)
	ra, _ := os.ReadFile(xa)
	rb, _ := os.ReadFile(xb)
	if !bytes.Contains(ra, []byte(`<uid start="0" target="`)) || !bytes.Equal(idmapOf(ra), idmapOf(rb)) {
		t.Fatalf("want two templates with the same <idmap>:\n%s\n%s", idmapOf(ra), idmapOf(rb))
	}
	h1.must("start", xa)
	r := h2.run("start", xb)
	if r.code != 2 || !strings.Contains(r.stderr, `also mapped by running guest "`+a+`"`) || !strings.Contains(r.stderr, h1.root) {
		t.Fatalf("same host ids under another root: want exit 2 naming %s and its root, got %v", a, r)
	}
	if dirExists(filepath.Join(h2.root, "run", "guests", b)) {
		t.Errorf("the refused start left run/guests/%s", b)
	}
	h1.must("destroy", a)
	h2.must("start", xb)
	h2.waitState(b, "running")
}

// idmapOf is the <idmap> element of a domain XML.
func idmapOf(doc []byte) []byte {
	i, j := bytes.Index(doc, []byte("<idmap>")), bytes.Index(doc, []byte("</idmap>"))
	if i < 0 || j < i {
		return nil
	}
	return doc[i:j]
}
