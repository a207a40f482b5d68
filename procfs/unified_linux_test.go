package procfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmlite/cgroup"
	"vmlite/internal/testutil"
)

// The v2 code on a real kernel: this host is cgroup v1 with the hybrid
// cgroup2 mount at /sys/fs/cgroup/unified, which has no controllers (they
// are v1's), only the core files. A process in a cgroup there is found
// by its "0::" line, its threads by cgroup.threads and its CPU time by
// cpu.stat; with no memory or cpu controller it reads the host's memory
// files and has no CPU quota (not an error: a v2 host that does not
// delegate a controller to vmlite's tree is the same).
func TestV2OnTheUnifiedMount(t *testing.T) {
	testutil.RequireRoot(t)
	root := "/sys/fs/cgroup/unified"
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		root = "/sys/fs/cgroup" // a v2 host
		if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
			t.Skip("SKIP: no cgroup2 mount on this host")
		}
	}
	top := filepath.Join(root, cgroup.TopDir)
	madeTop := false
	if _, err := os.Stat(top); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(top, 0o755); err != nil {
			t.Fatal(err)
		}
		madeTop = true
	}
	part := fmt.Sprintf("v2test-%d", os.Getpid())
	dir := filepath.Join(top, part, "g")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	child := exec.Command("sleep", "600")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
		// The cgroup is empty once the child is reaped.
		testutil.WaitFor(t, 10*time.Second, "the test cgroup removed", func() bool {
			return os.Remove(dir) == nil || errors.Is(os.Remove(dir), os.ErrNotExist)
		})
		_ = os.Remove(filepath.Dir(dir))
		if madeTop {
			_ = os.Remove(top) // fails, and stays, if anybody else uses it now
		}
	})
	pid := child.Process.Pid
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatal(err)
	}
	l := NewLayout(t.TempDir())
	start := Boottime() - 100*time.Second
	if err := l.Register(Entry{Name: "g", Partition: "/" + part, CgroupDir: "g", Start: start}); err != nil {
		t.Fatal(err)
	}
	v := NewView(l, cgroup.V2, root, "/", Boottime)
	render := func(file string, pid int) string {
		t.Helper()
		b, err := v.Render(file, pid)
		if err != nil {
			t.Fatalf("%s for %d: %v", file, pid, err)
		}
		return string(b)
	}
	// loadavg: the guest's one task (sleep's thread), not the host's.
	if f := strings.Fields(render("proc/loadavg", pid)); len(f) != 5 || !strings.HasSuffix(f[3], "/1") {
		t.Errorf("loadavg %q, want 1 task", f)
	}
	// uptime: from the guest's start, not the host's boot.
	up, err := strconv.ParseFloat(strings.Fields(render("proc/uptime", pid))[0], 64)
	if err != nil || up < 100 || up > 100+3600 {
		t.Errorf("uptime %v (%v), want about 100 s", up, err)
	}
	// stat: per-CPU lines for the host's CPUs (no cpuset, no quota).
	stat := render("proc/stat", pid)
	host := v.hostOnline()
	if n := strings.Count(stat, "\ncpu"); n != len(host) {
		t.Errorf("stat has %d cpuN lines, want %d:\n%s", n, len(host), stat)
	}
	// meminfo: the host's when the tree has no memory controller.
	if _, err := os.Stat(filepath.Join(dir, "memory.current")); errors.Is(err, os.ErrNotExist) {
		mine := render("proc/meminfo", pid)
		hostMem, _ := os.ReadFile("/proc/meminfo")
		if hostMeminfo(mine)["MemTotal"] != hostMeminfo(string(hostMem))["MemTotal"] {
			t.Errorf("meminfo without a memory controller: MemTotal %d, want the host's %d", hostMeminfo(mine)["MemTotal"], hostMeminfo(string(hostMem))["MemTotal"])
		}
	}
	// A process of no guest (this test, in the unified tree's root or its
	// own cgroup) reads the host's file: the host's uptime.
	b, _ := os.ReadFile("/proc/uptime")
	hostUp, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	mine, err := strconv.ParseFloat(strings.Fields(render("proc/uptime", os.Getpid()))[0], 64)
	if err != nil || mine < hostUp {
		t.Errorf("uptime for a host process %v (%v), want the host's (%v or more)", mine, err, hostUp)
	}
}
