package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// TestNspawnCgroup: a command started through the run's nspawn cgroup
// is in it (where nspawn then makes its payload and supervisor), the
// harness itself stays where it was, and once closed the cgroup is empty
// and goes: in a cgroup2 tree (a v2 host's, or this hybrid host's unified
// mount, what newNspawnCgroup takes here) and through the starting thread
// in name=systemd (a v1 host without cgroup2).
func TestNspawnCgroup(t *testing.T) {
	testutil.RequireRoot(t)
	ran := 0
	for _, tc := range []struct {
		root, line string
		make       func(string) (*nspawnCgroup, error)
	}{
		{"/sys/fs/cgroup", "0::/", cgroup2Starter},
		{"/sys/fs/cgroup/unified", "0::/", cgroup2Starter},
		{"/sys/fs/cgroup/systemd", ":name=systemd:/", threadStarter},
	} {
		var st unix.Statfs_t
		if unix.Statfs(tc.root, &st) != nil || (st.Type != unix.CGROUP2_SUPER_MAGIC) != (tc.line != "0::/") {
			continue
		}
		ran++
		t.Run(tc.root, func(t *testing.T) { nspawnCgroupIn(t, tc.root, tc.line, tc.make) })
	}
	if ran == 0 {
		t.Skip("SKIPPED LOUDLY: neither a cgroup2 tree nor name=systemd on this host")
	}
}

func nspawnCgroupIn(t *testing.T, root, line string, mk func(string) (*nspawnCgroup, error)) {
	before, _ := os.ReadFile("/proc/self/cgroup")
	c, err := mk(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, nspawnCgroupName())
	t.Cleanup(func() {
		c.close()
		if err := unix.Rmdir(dir); err != nil {
			t.Errorf("remove %s after close: %v", dir, err)
		}
	})
	for i := 0; i < 3; i++ {
		cmd := exec.Command("cat", "/proc/self/cgroup")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var out strings.Builder
		cmd.Stdout = &out
		if err := c.start(cmd); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		if want := line + nspawnCgroupName() + "\n"; !strings.Contains(out.String(), want) {
			t.Errorf("started command's cgroups:\n%s\nwant a line ending %q", out.String(), want)
		}
	}
	if after, _ := os.ReadFile("/proc/self/cgroup"); string(after) != string(before) {
		t.Errorf("the harness moved:\nbefore %s\nafter %s", before, after)
	}
	if moved := threadsIn(t, nspawnCgroupName()); len(moved) != 1 && c.fd < 0 {
		t.Errorf("threads of the harness in its nspawn cgroup: %v, want the starting one", moved)
	}
	c.close()
	if moved := threadsIn(t, nspawnCgroupName()); len(moved) != 0 {
		t.Errorf("threads of the harness in its nspawn cgroup after close: %v", moved)
	}
	if err := c.start(exec.Command("true")); err == nil {
		t.Error("a start after close succeeded")
	}
}

// threadsIn lists the harness's threads whose cgroup file names cg.
func threadsIn(t *testing.T, cg string) []string {
	t.Helper()
	files, err := filepath.Glob("/proc/self/task/*/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "/"+cg+"\n") {
			out = append(out, filepath.Base(filepath.Dir(f)))
		}
	}
	return out
}

// TestNspawnRunDirs: teardown removes the per-machine directories in /run
// that this run's starts made, and leaves one that was there before (a
// guest of the same name of another run).
func TestNspawnRunDirs(t *testing.T) {
	saved := nspawnRunDirs
	t.Cleanup(func() { nspawnRunDirs = saved })
	base := t.TempDir()
	nspawnRunDirs = []string{filepath.Join(base, "propagate"), filepath.Join(base, "unix-export")}
	other := filepath.Join(nspawnRunDirs[0], "vmb-nspawn-x")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &nspawnPeer{made: &runDirs{dirs: map[string]bool{}}}
	for _, name := range []string{"vmb-nspawn-a", "vmb-nspawn-x", "vmb-nspawn-a"} {
		p.noteRunDirs(&guest{name: name})
		for _, d := range nspawnRunDirs { // what nspawn makes
			if err := os.MkdirAll(filepath.Join(d, name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.teardown()
	for _, d := range nspawnRunDirs {
		if _, err := os.Stat(filepath.Join(d, "vmb-nspawn-a")); !os.IsNotExist(err) {
			t.Errorf("this run's %s/vmb-nspawn-a after teardown: %v", d, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another run's %s removed: %v", other, err)
	}
	if _, err := os.Stat(filepath.Join(nspawnRunDirs[1], "vmb-nspawn-x")); !os.IsNotExist(err) {
		t.Errorf("unix-export/vmb-nspawn-x, made by this run, after teardown: %v", err)
	}
}
