package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

func TestRelPath(t *testing.T) {
	tests := []struct {
		part, name, want string
		bad              bool
	}{
		{"", "web", "vmlite/machine/web", false},
		{"/machine", "web", "vmlite/machine/web", false},
		{"/machine/prod/", "web", "vmlite/machine/prod/web", false},
		{"/", "web", "vmlite/web", false},
		{"machine", "web", "", true},
		{"/machine/../etc", "web", "", true},
		{"/machine", "..", "", true},
		{"/machine", "a/b", "", true},
		{"/machine", "", "", true},
		{"/machine", "cgroup.procs", "", true},
		{"/tasks", "web", "", true},
		{"/machine/web.0a1b2c3d", "x", "", true},
		{"/machine", "web.0a1b2c3d", "vmlite/machine/web.0a1b2c3d", false},
	}
	for _, tc := range tests {
		got, err := RelPath(plan.Cgroup{Partition: tc.part, Name: tc.name})
		if tc.bad {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("RelPath(%q, %q) = %q, %v; want ErrInvalid", tc.part, tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("RelPath(%q, %q) = %q, %v; want %q", tc.part, tc.name, got, err, tc.want)
		}
	}
}

func TestModeString(t *testing.T) {
	for _, m := range []Mode{V1, V2} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("v3"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("ParseMode(v3) = %v", err)
	}
}

// TestCreateDestroyShared runs two guests in one partition: the partition
// outlives the first Destroy and goes with the second, and nothing outside
// vmlite/ is ever written.
func TestCreateDestroyShared(t *testing.T) {
	for _, mode := range []Mode{V1, V2} {
		t.Run(mode.String(), func(t *testing.T) {
			root, f := fakeHost(t, mode, []string{"cpu", "memory", "pids"})
			before := snapshot(t, root)
			a := newFake(t, root, f, plan.Cgroup{Partition: "/machine/p", Name: "a"})
			b := newFake(t, root, f, plan.Cgroup{Partition: "/machine/p", Name: "b"})
			for _, m := range []*manager{a, b} {
				if err := m.Create(); err != nil {
					t.Fatal(err)
				}
			}
			wantKeys := []string{"unified"}
			if mode == V1 {
				wantKeys = []string{"blkio", "cpu", "cpuacct", "cpuset", "freezer", "memory", "name=systemd", "pids", "unified"}
			}
			paths := a.Paths()
			if got := sortedKeys(paths); !reflect.DeepEqual(got, wantKeys) {
				t.Errorf("Paths keys %v, want %v", got, wantKeys)
			}
			for k, p := range paths {
				if !strings.HasSuffix(p, "/vmlite/machine/p/a") || !exists(p) {
					t.Errorf("Paths[%s] = %s: not a created .../vmlite/machine/p/a", k, p)
				}
			}
			if mode == V2 {
				got, _ := readString(filepath.Join(root, "vmlite", "machine", "cgroup.subtree_control"))
				if got != "+cpu +memory +pids" {
					t.Errorf("partition subtree_control = %q", got)
				}
			} else {
				for _, d := range []string{"vmlite", "vmlite/machine", "vmlite/machine/p", "vmlite/machine/p/a"} {
					got, _ := readString(filepath.Join(root, "cpuset", d, "cpuset.mems"))
					if got != "0" {
						t.Errorf("cpuset %s mems = %q, want the parent's 0", d, got)
					}
				}
			}
			// A process left in a's leaf (faked) blocks reuse of the name.
			if err := os.WriteFile(filepath.Join(paths["unified"], "cgroup.procs"), []byte("4242\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			again := newFake(t, root, f, plan.Cgroup{Partition: "/machine/p", Name: "a"})
			if err := again.Create(); !errors.Is(err, errdefs.ErrAlreadyExists) {
				t.Errorf("Create over a populated leaf = %v, want ErrAlreadyExists", err)
			}
			if err := os.WriteFile(filepath.Join(paths["unified"], "cgroup.procs"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := again.Create(); err != nil {
				t.Errorf("Create over an empty leftover leaf = %v", err)
			}
			if err := a.Destroy(); err != nil {
				t.Fatal(err)
			}
			if !exists(filepath.Join(b.hs[0].root, "vmlite", "machine", "p")) || exists(a.leaf(a.hs[0])) {
				t.Error("after the first Destroy: want the shared partition kept and a's leaf gone")
			}
			if err := a.Destroy(); err != nil {
				t.Errorf("second Destroy: %v (want idempotent)", err)
			}
			if err := b.Destroy(); err != nil {
				t.Fatal(err)
			}
			for _, h := range b.hs {
				if exists(filepath.Join(h.root, TopDir)) {
					t.Errorf("%s left behind", filepath.Join(h.root, TopDir))
				}
			}
			after := snapshot(t, root)
			if !reflect.DeepEqual(before, after) {
				t.Errorf("files outside vmlite/ changed")
			}
		})
	}
}

func TestProcsAndDestroyGuestSubtree(t *testing.T) {
	root, f := fakeHost(t, V2, []string{"memory"})
	m := newFake(t, root, f, plan.Cgroup{Name: "g"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	leaf := m.leaf(m.hs[0])
	// The guest's init made init.scope and system.slice/x.service.
	for _, d := range []string{"init.scope", "system.slice", "system.slice/x.service"} {
		if err := f.Mkdir(filepath.Join(leaf, d)); err != nil {
			t.Fatal(err)
		}
	}
	for d, pids := range map[string]string{"init.scope": "7\n", "system.slice/x.service": "9\n12\n", ".": "3\n"} {
		if err := os.WriteFile(filepath.Join(leaf, d, "cgroup.procs"), []byte(pids), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.Procs()
	if err != nil || !reflect.DeepEqual(got, []int{3, 7, 9, 12}) {
		t.Errorf("Procs = %v, %v; want [3 7 9 12]", got, err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(root, TopDir)) {
		t.Error("guest subtree left behind")
	}
	if got, err := m.Procs(); err != nil || len(got) != 0 {
		t.Errorf("Procs after Destroy = %v, %v; want none", got, err)
	}
}

func TestStatsFake(t *testing.T) {
	files := map[Mode]map[string]string{
		V1: {
			"memory/memory.usage_in_bytes": "1048576", "memory/memory.limit_in_bytes": "67108864",
			"memory/memory.memsw.usage_in_bytes": "1572864", "memory/memory.memsw.limit_in_bytes": "134217728",
			"memory/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
			"cpu,cpuacct/cpuacct.usage":                       "1500000000",
			"cpu,cpuacct/cpu.stat":                            "nr_periods 10\nnr_throttled 3\nthrottled_time 250000000\n",
			"pids/pids.current":                               "5",
			"pids/pids.max":                                   "20",
			"blkio/blkio.throttle.io_service_bytes_recursive": "254:0 Read 4096\n254:0 Write 8192\n254:0 Total 12288\n7:0 Read 4096\nTotal 16384\n",
			"blkio/blkio.throttle.io_serviced_recursive":      "254:0 Read 1\n254:0 Write 2\n7:0 Read 1\nTotal 4\n",
		},
		V2: {
			"memory.current": "1048576", "memory.max": "67108864", "memory.swap.current": "524288", "memory.swap.max": "67108864",
			"memory.events": "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n",
			"cpu.stat":      "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nthrottled_usec 250000\n",
			"pids.current":  "5", "pids.max": "20",
			"io.stat": "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n7:0 rbytes=4096 wbytes=0 rios=1 wios=0\n",
		},
	}
	want := Stats{
		MemoryUsage: 1 * mib, MemoryLimit: 64 * mib, SwapUsage: mib / 2, SwapLimit: 64 * mib,
		CPUTime: 1500 * time.Millisecond, CPUThrottled: 250 * time.Millisecond, Pids: 5, PidsMax: 20, OOMKills: 2,
		IOReadBytes: 8192, IOWriteBytes: 8192, IOReads: 2, IOWrites: 2,
	}
	for mode, fs := range files {
		t.Run(mode.String(), func(t *testing.T) {
			root, f := fakeHost(t, mode, []string{"cpu", "io", "memory", "pids"})
			m := newFake(t, root, f, plan.Cgroup{Name: "g"})
			if err := m.Create(); err != nil {
				t.Fatal(err)
			}
			for file, v := range fs {
				p := filepath.Join(m.leaf(m.hs[0]), file)
				if mode == V1 {
					h, rest, _ := strings.Cut(file, "/")
					p = filepath.Join(root, h, m.rel, rest)
				}
				if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := m.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Stats =\n%+v\nwant\n%+v", got, want)
			}
			if err := m.Destroy(); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Stats(); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Stats after Destroy = %v, want ErrNotExist", err)
			}
		})
	}
}

func TestStatsFormat(t *testing.T) {
	s := Stats{MemoryUsage: 3 * mib / 2, MemoryLimit: 64 * mib, CPUTime: 1234567 * time.Microsecond,
		CPUThrottled: time.Second, Pids: 5, OOMKills: 1, IOReadBytes: 512, IOReads: 1}
	want := []Field{
		{"Memory", "1.5 MiB of 64.0 MiB (2%)"},
		{"Swap", "0 B (no limit)"},
		{"CPU time", "1.235s (throttled 1s)"},
		{"Tasks", "5 (no limit)"},
		{"OOM kills", "1"},
		{"Block I/O", "read 512 B (1 ops), written 0 B (0 ops)"},
	}
	if got := s.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields =\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(s.String(), "OOM kills: 1\n") {
		t.Errorf("String = %q", s.String())
	}
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 64 * mib: "64.0 MiB", 3 << 30: "3.0 GiB", 1 << 62: "4.0 EiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDiscoverV1(t *testing.T) {
	root, _ := fakeHost(t, V1, nil)
	hs, err := discover(root, V1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hs {
		got = append(got, h.key())
	}
	want := []string{"blkio", "cpu,cpuacct", "cpuset", "freezer", "memory", "pids", "name=systemd", "unified"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hierarchies %v, want %v", got, want)
	}
	if _, err := discover(root, V2); err == nil {
		t.Error("discover(v1 tree, V2) succeeded")
	}
	if _, err := discover(t.TempDir(), V1); err == nil {
		t.Error("discover(empty, V1) succeeded")
	}
}

func TestCgroupFDv1(t *testing.T) {
	root, f := fakeHost(t, V1, nil)
	m := newFake(t, root, f, plan.Cgroup{Name: "g"})
	if _, err := m.CgroupFD(); !errors.Is(err, ErrV1) {
		t.Errorf("CgroupFD on v1 = %v, want ErrV1", err)
	}
}

// TestWriteGuard: the one write path refuses anything outside vmlite/.
func TestWriteGuard(t *testing.T) {
	root, f := fakeHost(t, V2, []string{"memory"})
	m := newFake(t, root, f, plan.Cgroup{Name: "g"})
	h := m.hs[0]
	for _, p := range []string{
		filepath.Join(root, "cgroup.subtree_control"),
		filepath.Join(root, "vmlite-other", "x"),
		filepath.Join(root, "vmlite", "..", "memory.max"),
	} {
		if err := m.write(h, filepath.Clean(p), "1"); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("write(%s) = %v, want refused", p, err)
		}
	}
}

// countingDirs counts the mkdirs a Create makes.
type countingDirs struct {
	fakeDirs
	mkdirs *int
}

func (c countingDirs) Mkdir(path string) error {
	*c.mkdirs++
	return c.fakeDirs.Mkdir(path)
}

// TestCreateInRunningPartition: a guest created in a partition that is
// there already makes one mkdir per hierarchy (its leaf), still readied
// (v1 cpuset's cpus and mems inherited), and still refuses a partition
// that is a guest's own cgroup (processes in it), removing the leaf it
// made.
func TestCreateInRunningPartition(t *testing.T) {
	for _, mode := range []Mode{V1, V2} {
		t.Run(mode.String(), func(t *testing.T) {
			root, f := fakeHost(t, mode, []string{"cpu", "cpuset", "memory", "pids"})
			first := newFake(t, root, f, plan.Cgroup{Partition: "/machine", Name: "a"})
			if err := first.Create(); err != nil {
				t.Fatal(err)
			}
			n := 0
			b := newFake(t, root, f, plan.Cgroup{Partition: "/machine", Name: "b"})
			b.dirs = countingDirs{f, &n}
			if err := b.Create(); err != nil {
				t.Fatal(err)
			}
			if n != len(b.hs) {
				t.Errorf("%d mkdirs for a guest in an existing partition, want %d (one leaf per hierarchy)", n, len(b.hs))
			}
			if mode == V1 {
				for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
					want, _ := readString(filepath.Join(root, "cpuset", file))
					if got, _ := readString(filepath.Join(root, "cpuset", "vmlite", "machine", "b", file)); got != want || got == "" {
						t.Errorf("b's %s = %q, want the host's %q", file, got, want)
					}
				}
			}
			// The partition holds a process: it is a guest's cgroup.
			procs := filepath.Join(b.hs[0].root, "vmlite", "machine", "cgroup.procs")
			if err := os.WriteFile(procs, []byte("4242\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c := newFake(t, root, f, plan.Cgroup{Partition: "/machine", Name: "c"})
			if err := c.Create(); !errors.Is(err, ErrPartition) {
				t.Errorf("Create in a partition holding processes = %v, want ErrPartition", err)
			}
			for _, h := range c.hs {
				if exists(c.leaf(h)) {
					t.Errorf("refused Create left %s behind", c.leaf(h))
				}
			}
		})
	}
}
