package cgroup

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"vmlite/plan"
)

// A faked cgroupfs: plain directories whose Mkdir fills in the control
// files the kernel would create, and whose Rmdir removes them again. The
// file sets follow Linux 6.x (this host's v1, a typical v2 host).

var fakeV2Files = map[string]map[string]string{
	"": {"cgroup.procs": "", "cgroup.threads": "", "cgroup.subtree_control": "", "cgroup.kill": "",
		"cgroup.freeze": "0", "cgroup.events": "populated 0\nfrozen 0\n", "cpu.stat": "usage_usec 0\n"},
	"memory": {"memory.max": "max", "memory.low": "0", "memory.swap.max": "max", "memory.current": "0",
		"memory.swap.current": "0", "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
	"cpu":    {"cpu.weight": "100", "cpu.max": "max 100000"},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
	"pids":   {"pids.max": "max", "pids.current": "0"},
	"io":     {"io.weight": "default 100", "io.max": "", "io.stat": ""},
}

var fakeV1Files = map[string]map[string]string{
	"": {"cgroup.procs": "", "tasks": "", "cgroup.clone_children": "0", "notify_on_release": "0"},
	"memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.soft_limit_in_bytes": "9223372036854771712",
		"memory.memsw.limit_in_bytes": "9223372036854771712", "memory.usage_in_bytes": "0",
		"memory.memsw.usage_in_bytes": "0", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
	"cpu":     {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.stat": "nr_periods 0\nthrottled_time 0\n"},
	"cpuacct": {"cpuacct.usage": "0"},
	"cpuset":  {"cpuset.cpus": "", "cpuset.mems": ""},
	"pids":    {"pids.max": "max", "pids.current": "0"},
	"blkio": {"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "", "blkio.throttle.read_bps_device": "",
		"blkio.throttle.write_bps_device": "", "blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
		"blkio.throttle.io_service_bytes_recursive": "Total 0\n", "blkio.throttle.io_serviced_recursive": "Total 0\n"},
	"freezer": {"freezer.state": "THAWED"},
}

// fakeDirs implements dirOps on a plain tree.
type fakeDirs struct {
	mode Mode
	// skip lists files the faked kernel lacks ("memory.memsw.limit_in_bytes").
	skip map[string]bool
}

func (f fakeDirs) Mkdir(path string) error {
	if err := os.Mkdir(path, 0o755); err != nil {
		return err
	}
	return f.populate(path, f.controllersFor(path))
}

// controllersFor: v2 takes the parent's subtree_control; v1 the hierarchy's name.
func (f fakeDirs) controllersFor(path string) []string {
	if f.mode == V2 || exists(filepath.Join(filepath.Dir(path), "cgroup.subtree_control")) {
		s, _ := readString(filepath.Join(filepath.Dir(path), "cgroup.subtree_control"))
		return strings.Fields(strings.ReplaceAll(s, "+", ""))
	}
	for d := path; d != "/" && d != "."; d = filepath.Dir(d) {
		if exists(filepath.Join(filepath.Dir(d), "fakeroot")) {
			return strings.Split(filepath.Base(d), ",")
		}
	}
	return nil
}

func (f fakeDirs) populate(dir string, ctrls []string) error {
	v2 := f.mode == V2 || exists(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"))
	files := fakeV1Files
	if v2 {
		files = fakeV2Files
	}
	write := func(m map[string]string) error {
		for name, val := range m {
			if f.skip[name] {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(val), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(files[""]); err != nil {
		return err
	}
	if v2 {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.controllers"), []byte(strings.Join(ctrls, " ")), 0o644); err != nil {
			return err
		}
	}
	for _, c := range ctrls {
		if err := write(files[c]); err != nil {
			return err
		}
	}
	return nil
}

func (f fakeDirs) Rmdir(path string) error {
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			return os.Remove(path) // ENOTEMPTY, like a cgroup with children (EBUSY there)
		}
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(path, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(path)
}

// fakeHost builds a host tree and returns its root. v2: enabled lists the
// controllers the host turned on in the root's subtree_control. v1: the
// hierarchies of this host, with cpu and cpuacct co-mounted to exercise that.
func fakeHost(t *testing.T, mode Mode, enabled []string, skip ...string) (string, fakeDirs) {
	t.Helper()
	root := t.TempDir()
	f := fakeDirs{mode: mode, skip: map[string]bool{}}
	for _, s := range skip {
		f.skip[s] = true
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if mode == V2 {
		must(f.populate(root, []string{"cpu", "cpuset", "io", "memory", "pids"}))
		must(os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpuset cpu io memory hugetlb pids"), 0o644))
		must(os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte(strings.Join(enabled, " ")), 0o644))
		must(os.WriteFile(filepath.Join(root, "cpuset.cpus.effective"), []byte("0-3"), 0o644))
		return root, f
	}
	must(os.WriteFile(filepath.Join(root, "fakeroot"), nil, 0o644))
	for _, h := range []string{"blkio", "cpu,cpuacct", "cpuset", "freezer", "memory", "pids", "systemd"} {
		dir := filepath.Join(root, h)
		must(os.Mkdir(dir, 0o755))
		must(f.populate(dir, strings.Split(h, ",")))
	}
	must(os.WriteFile(filepath.Join(root, "cpuset", "cpuset.cpus"), []byte("0-3"), 0o644))
	must(os.WriteFile(filepath.Join(root, "cpuset", "cpuset.mems"), []byte("0"), 0o644))
	must(os.Symlink("cpu,cpuacct", filepath.Join(root, "cpu")))
	must(os.Symlink("cpu,cpuacct", filepath.Join(root, "cpuacct")))
	// The hybrid cgroup2 mount, with no controllers (as on this host).
	uni := filepath.Join(root, "unified")
	must(os.Mkdir(uni, 0o755))
	must(fakeDirs{mode: V2}.populate(uni, nil))
	return root, f
}

// newFake returns a manager on a fake host.
func newFake(t *testing.T, root string, f fakeDirs, c plan.Cgroup) *manager {
	t.Helper()
	mgr, err := New(root, f.mode, c)
	if err != nil {
		t.Fatal(err)
	}
	m := mgr.(*manager)
	m.dirs = f
	m.devnum = func(p string) (string, error) {
		if p == "/dev/fakedisk" {
			return "8:0", nil
		}
		return "", os.ErrNotExist
	}
	return m
}

// snapshot records every file outside vmlite/ with its content, to prove
// that vmlite wrote nothing there.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for _, e := range strings.Split(rel, string(filepath.Separator)) {
			if e == TopDir {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
