package procfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmlite/cgroup"
)

// A faked host: /proc and /sys files as Linux 6.1 writes them (4 CPUs, 8 GiB,
// 1 GiB swap), and a faked cgroup tree, v1 (this host's layout, cpu and
// cpuacct co-mounted) or v2, with one guest "g" in vmlite/machine/g.

const fakeMeminfo = `MemTotal:        8000000 kB
MemFree:         4000000 kB
MemAvailable:    6000000 kB
Buffers:          100000 kB
Cached:          1000000 kB
SwapCached:            0 kB
Active:          2000000 kB
Inactive:        1000000 kB
Active(anon):    1500000 kB
Inactive(anon):   100000 kB
Active(file):     500000 kB
Inactive(file):   900000 kB
Unevictable:           0 kB
SwapTotal:       1048576 kB
SwapFree:        1048576 kB
Dirty:                 8 kB
Writeback:             0 kB
AnonPages:       1600000 kB
Mapped:           200000 kB
Shmem:             10000 kB
SReclaimable:      50000 kB
CommitLimit:     5048576 kB
`

func fakeCpuinfo(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("processor\t: " + itoa(i) + "\nvendor_id\t: AuthenticAMD\ncore id\t\t: " + itoa(i) + "\nflags\t\t: fpu sse\n\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

const fakeStat = `cpu  400 0 200 4000 10 0 5 0 0 0
cpu0 100 0 50 1000 0 0 0 0 0 0
cpu1 100 0 50 1000 0 0 0 0 0 0
cpu2 100 0 50 1000 0 0 0 0 0 0
cpu3 100 0 50 1000 10 0 5 0 0 0
intr 12345 0 0
ctxt 999
btime 1700000000
processes 4242
procs_running 2
procs_blocked 0
`

const fakeSwaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vdb                                partition\t1048576\t\t0\t\t-2\n"

const fakeDiskstats = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 253       0 vda 5000 10 80000 300 4000 20 64000 500 0 700 800 0 0 0 0 0 0
 253      16 vdb 10 0 80 1 0 0 0 0 0 1 1 0 0 0 0 0 0
`

const guestPid = 4711

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeHost builds the host files, the cgroup tree of mode with guest g's
// files (guest overrides the defaults, by "controller/file" on v1 and
// "file" on v2), and the registry; it returns the view.
func fakeHost(t *testing.T, mode cgroup.Mode, guest map[string]string) (*View, string) {
	t.Helper()
	dir := t.TempDir()
	hostRoot, cgRoot := filepath.Join(dir, "host"), filepath.Join(dir, "cg")
	const rel = "vmlite/machine/g"
	cgLine := "0::/" + rel + "/init.scope\n"
	if mode == cgroup.V1 {
		cgLine = "9:memory:/" + rel + "/init.scope\n5:cpu,cpuacct:/" + rel + "\n1:name=systemd:/" + rel + "\n0::/" + rel + "\n"
	}
	writeFiles(t, hostRoot, map[string]string{
		"proc/meminfo": fakeMeminfo, "proc/cpuinfo": fakeCpuinfo(4), "proc/stat": fakeStat,
		"proc/uptime": "12345.67 40000.00\n", "proc/loadavg": "0.50 0.40 0.30 2/300 4242\n",
		"proc/swaps": fakeSwaps, "proc/diskstats": fakeDiskstats, "sys/devices/system/cpu/online": "0-3\n",
		"proc/" + itoa(1) + "/cgroup": "0::/\n9:memory:/\n",
		"proc/4711/cgroup":            cgLine,
		"proc/4712/stat":              "4712 (sh) S 1 1 1 0",
		"proc/4713/stat":              "4713 (yes) R 1 1 1 0",
		"proc/4714/stat":              "4714 (a) b) D 1 1 1 0",
	})
	files := map[string]string{}
	if mode == cgroup.V2 {
		writeFiles(t, cgRoot, map[string]string{"cgroup.controllers": "cpu memory io pids cpuset", "vmlite/memory.max": "max", "vmlite/machine/memory.max": "max"})
		for k, v := range map[string]string{
			"memory.current": "104857600", "memory.max": "268435456", "memory.swap.max": "max", "memory.swap.current": "0",
			"memory.stat": "anon 52428800\nfile 41943040\nshmem 1048576\nfile_mapped 2097152\nactive_anon 40960000\ninactive_anon 11468800\nactive_file 20971520\ninactive_file 20971520\nunevictable 0\nslab_reclaimable 1048576\nfile_dirty 4096\nfile_writeback 0\n",
			"cpu.max":     "max 100000", "cpu.stat": "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n",
			"cpuset.cpus.effective": "0-3", "cgroup.threads": "4712\n4713\n", "init.scope/cgroup.threads": "4714\n",
			"io.stat": "253:0 rbytes=1048576 wbytes=524288 rios=100 wios=50 dbytes=0 dios=0\n",
		} {
			files[k] = v
		}
	} else {
		for _, h := range []string{"memory", "cpu,cpuacct", "cpuset", "pids", "blkio"} {
			writeFiles(t, cgRoot, map[string]string{h + "/cgroup.procs": ""})
		}
		for k, v := range map[string]string{
			"memory/memory.usage_in_bytes": "104857600", "memory/memory.memsw.usage_in_bytes": "104857600",
			"memory/memory.stat":           "cache 0\ntotal_cache 41943040\ntotal_rss 52428800\ntotal_shmem 1048576\ntotal_mapped_file 2097152\ntotal_active_anon 40960000\ntotal_inactive_anon 11468800\ntotal_active_file 20971520\ntotal_inactive_file 20971520\ntotal_unevictable 0\ntotal_dirty 4096\ntotal_writeback 0\nhierarchical_memory_limit 268435456\nhierarchical_memsw_limit 9223372036854771712\n",
			"cpu,cpuacct/cpu.cfs_quota_us": "-1", "cpu,cpuacct/cpu.cfs_period_us": "100000",
			"cpu,cpuacct/cpuacct.stat": "user 200\nsystem 100\n", "cpu,cpuacct/cpuacct.usage_percpu": "1000000000 2000000000 0 0\n",
			"cpuset/cpuset.effective_cpus": "0-3", "pids/tasks": "4712\n4713\n", "pids/init.scope/tasks": "4714\n",
			"blkio/blkio.throttle.io_service_bytes_recursive": "253:0 Read 1048576\n253:0 Write 524288\n253:0 Total 1572864\nTotal 1572864\n",
			"blkio/blkio.throttle.io_serviced_recursive":      "253:0 Read 100\n253:0 Write 50\n253:0 Total 150\nTotal 150\n",
		} {
			files[k] = v
		}
	}
	for k, v := range guest {
		files[k] = v
	}
	for k, v := range files {
		if v == "-" {
			continue // the test removes the file
		}
		p := rel + "/" + k
		if mode == cgroup.V1 {
			h, f, _ := strings.Cut(k, "/")
			p = h + "/" + rel + "/" + f
		}
		writeFiles(t, cgRoot, map[string]string{p: v})
	}
	l := NewLayout(filepath.Join(dir, "run"))
	if err := l.Register(Entry{Name: "g", Partition: "/machine", CgroupDir: "g", Start: 1000 * time.Second}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Duration { return 1100 * time.Second }
	return NewView(l, mode, cgRoot, hostRoot, now), cgRoot
}

func TestRender(t *testing.T) {
	type tc struct {
		name  string
		mode  cgroup.Mode
		guest map[string]string
		file  string
		want  []string // lines (or, with a trailing "…", line prefixes) that must be there
		not   []string
	}
	cases := []tc{}
	for _, mode := range []cgroup.Mode{cgroup.V1, cgroup.V2} {
		cpuQuota := map[string]string{"cpu,cpuacct/cpu.cfs_quota_us": "150000"}
		cpuset := map[string]string{"cpuset/cpuset.effective_cpus": "1,3"}
		swapLimit := map[string]string{"memory/memory.stat": "total_cache 0\nhierarchical_memory_limit 268435456\nhierarchical_memsw_limit 402653184\n",
			"memory/memory.memsw.usage_in_bytes": "115343360"}
		noLimit := map[string]string{"memory/memory.stat": "total_cache 0\nhierarchical_memory_limit 9223372036854771712\n"}
		if mode == cgroup.V2 {
			cpuQuota = map[string]string{"cpu.max": "150000 100000"}
			cpuset = map[string]string{"cpuset.cpus.effective": "1,3"}
			swapLimit = map[string]string{"memory.swap.max": "134217728", "memory.swap.current": "10485760", "memory.stat": "file 0\n"}
			noLimit = map[string]string{"memory.max": "max", "memory.stat": "file 0\n"}
		}
		m := mode.String() + " "
		// v1 has no slab_reclaimable in memory.stat.
		avail := "MemAvailable:     200704 kB"
		if mode == cgroup.V2 {
			avail = "MemAvailable:     201728 kB"
		}
		cases = append(cases,
			tc{name: m + "meminfo limit", mode: mode, file: "proc/meminfo", want: []string{
				"MemTotal:         262144 kB", "MemFree:          159744 kB", avail, "Cached:            40960 kB",
				"Active:            60480 kB", "Inactive:          31680 kB", "Shmem:              1024 kB", "Buffers:               0 kB",
				"SwapTotal:       1048576 kB", "CommitLimit:     5048576 kB"}},
			tc{name: m + "meminfo no limit: host's total", mode: mode, guest: noLimit, file: "proc/meminfo", want: []string{
				"MemTotal:        8000000 kB", "MemFree:         7897600 kB"}},
			tc{name: m + "meminfo swap limit", mode: mode, guest: swapLimit, file: "proc/meminfo", want: []string{
				"SwapTotal:        131072 kB", "SwapFree:         120832 kB"}},
			tc{name: m + "swaps swap limit", mode: mode, guest: swapLimit, file: "proc/swaps", want: []string{
				"none                                    virtual\t\t131072\t\t10240\t\t0"}, not: []string{"/dev/vdb"}},
			tc{name: m + "swaps no limit: host's", mode: mode, file: "proc/swaps", want: []string{"/dev/vdb…"}},
			tc{name: m + "cpuinfo all", mode: mode, file: "proc/cpuinfo", want: []string{"processor\t: 3"}},
			tc{name: m + "cpuinfo quota", mode: mode, guest: cpuQuota, file: "proc/cpuinfo", want: []string{"processor\t: 0", "processor\t: 1"}, not: []string{"processor\t: 2"}},
			tc{name: m + "cpuinfo cpuset renumbered", mode: mode, guest: cpuset, file: "proc/cpuinfo", want: []string{"processor\t: 0", "core id\t\t: 1", "processor\t: 1", "core id\t\t: 3"}, not: []string{"processor\t: 2", "core id\t\t: 0"}},
			tc{name: m + "online quota", mode: mode, guest: cpuQuota, file: "sys/devices/system/cpu/online", want: []string{"0-1"}},
			tc{name: m + "online cpuset", mode: mode, guest: cpuset, file: "sys/devices/system/cpu/online", want: []string{"0-1"}},
			tc{name: m + "stat", mode: mode, guest: cpuset, file: "proc/stat", want: []string{"cpu0 …", "cpu1 …", "btime 1700000000", "ctxt 999"}, not: []string{"cpu2 …"}},
			tc{name: m + "uptime", mode: mode, file: "proc/uptime", want: []string{"100.00 397.00"}},
			tc{name: m + "loadavg", mode: mode, file: "proc/loadavg", want: []string{"…2/3 0"}},
			tc{name: m + "diskstats", mode: mode, file: "proc/diskstats", want: []string{" 253       0 vda 100 0 2048 0 50 0 1024 0 0 0 0 0 0 0 0 0 0"}, not: []string{"vdb", "loop0"}},
		)
	}
	// v1's per-CPU split: the guest ran 1 s on cpu0 and 2 s on cpu1, 3 s (300
	// ticks) in all; the "cpu" line sums the lines.
	cases = append(cases, tc{name: "v1 stat per-cpu split", mode: cgroup.V1, file: "proc/stat",
		want: []string{"cpu  199 0 99 4317 0 0 0 0 0 0", "cpu0 66 0 33 1051 0 0 0 0 0 0", "cpu1 133 0 66 951 0 0 0 0 0 0", "cpu2 0 0 0 1150 0 0 0 0 0 0"}})
	cases = append(cases, tc{name: "v2 stat even split", mode: cgroup.V2, file: "proc/stat",
		want: []string{"cpu0 50 0 25 1075 0 0 0 0 0 0", "cpu3 50 0 25 1090 0 0 0 0 0 0"}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, _ := fakeHost(t, c.mode, c.guest)
			b, err := v.Render(c.file, guestPid)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			for _, w := range c.want {
				if !hasLine(got, w) {
					t.Errorf("no line %q in\n%s", w, got)
				}
			}
			for _, w := range c.not {
				if hasLine(got, w) || (!strings.HasSuffix(w, "…") && strings.Contains(got, w)) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
		})
	}
}

// hasLine: w is a whole line, "x…" a line prefix, "…x" a line suffix.
func hasLine(s, w string) bool {
	for _, l := range strings.Split(s, "\n") {
		switch {
		case strings.HasSuffix(w, "…") && strings.HasPrefix(l, strings.TrimSuffix(w, "…")),
			strings.HasPrefix(w, "…") && strings.HasSuffix(l, strings.TrimPrefix(w, "…")),
			l == w:
			return true
		}
	}
	return false
}

func TestRenderHostReader(t *testing.T) {
	for _, mode := range []cgroup.Mode{cgroup.V1, cgroup.V2} {
		v, _ := fakeHost(t, mode, nil)
		for _, f := range Files {
			b, err := v.Render(f, 1)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := v.host(f)
			if string(b) != want {
				t.Errorf("%v %s for a host reader: got %q, want the host's %q", mode, f, b, want)
			}
		}
	}
}

// A reader in a vmlite cgroup that is no served guest's (opted out, or
// registered under another root) gets the host's values, never a guest's.
func TestRenderUnregistered(t *testing.T) {
	v, _ := fakeHost(t, cgroup.V2, nil)
	if err := v.layout.Unregister("g"); err != nil {
		t.Fatal(err)
	}
	b, err := v.Render("proc/meminfo", guestPid)
	if err != nil || string(b) != fakeMeminfo {
		t.Fatalf("got %q, %v; want the host's", b, err)
	}
}

// A guest whose cgroup is removed (it stopped) gets an error.
func TestRenderGone(t *testing.T) {
	for _, mode := range []cgroup.Mode{cgroup.V1, cgroup.V2} {
		v, cgRoot := fakeHost(t, mode, nil)
		if _, err := v.Render("proc/meminfo", guestPid); err != nil {
			t.Fatal(err)
		}
		dirs, _ := filepath.Glob(filepath.Join(cgRoot, "*", "vmlite"))
		dirs = append(dirs, filepath.Join(cgRoot, "vmlite"))
		for _, d := range dirs {
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range Files {
			if _, err := v.Render(f, guestPid); !errors.Is(err, errGone) {
				t.Errorf("%v %s of a removed cgroup: err %v, want errGone", mode, f, err)
			}
		}
	}
}

// setmem shows at once: the next read sees the new limit.
func TestRenderLive(t *testing.T) {
	v, cgRoot := fakeHost(t, cgroup.V2, nil)
	b, _ := v.Render("proc/meminfo", guestPid)
	if !hasLine(string(b), "MemTotal:         262144 kB") {
		t.Fatalf("before: %s", b)
	}
	writeFiles(t, cgRoot, map[string]string{"vmlite/machine/g/memory.max": "134217728"})
	b, _ = v.Render("proc/meminfo", guestPid)
	if !hasLine(string(b), "MemTotal:         131072 kB") {
		t.Fatalf("after setmem: %s", b)
	}
	// A parent's smaller limit counts (v2 has no hierarchical summary).
	writeFiles(t, cgRoot, map[string]string{"vmlite/machine/memory.max": "67108864"})
	b, _ = v.Render("proc/meminfo", guestPid)
	if !hasLine(string(b), "MemTotal:          65536 kB") {
		t.Fatalf("parent limit: %s", b)
	}
}

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"", nil, false}, {"0", []int{0}, false}, {"0-3", []int{0, 1, 2, 3}, false}, {"0-1,3,5-6\n", []int{0, 1, 3, 5, 6}, false},
		{"3,1,1", []int{1, 3}, false}, {"a", nil, true}, {"3-1", nil, true}, {"-1", nil, true}, {"0-99999999", nil, true},
	} {
		got, err := ParseCPUList(c.in)
		if (err != nil) != c.err || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v (err %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	for _, c := range []struct {
		in   string
		mode cgroup.Mode
		want string
		err  bool
	}{
		{"0::/vmlite/machine/a\n", cgroup.V2, "/vmlite/machine/a", false},
		{"12:memory:/vmlite/x\n0::/user.slice\n", cgroup.V1, "/vmlite/x", false},
		{"3:cpu,memory:/y\n", cgroup.V1, "/y", false},
		{"0::/a\n", cgroup.V1, "", true},
		{"garbage", cgroup.V2, "", true},
		{"1:name=systemd:relative\n", cgroup.V1, "", true},
	} {
		got, err := ParseProcCgroup(c.in, c.mode)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ParseProcCgroup(%q, %v) = %q, %v", c.in, c.mode, got, err)
		}
	}
}

func TestParseUsageAll(t *testing.T) {
	for _, tc := range []struct {
		in        string
		ok        bool
		user, sys time.Duration
		perCPU0   time.Duration
	}{
		{"cpu user system\n0 72000000 187938317\n1 8000000 36000000\n", true, 80 * time.Millisecond, 223938317, 259938317},
		{"cpu user system\n1 1 1\n", false, 0, 0, 0}, // CPUs must count from 0
		{"cpu user\n0 1\n", false, 0, 0, 0},          // another kernel's shape: the two files instead
		{"cpu user system\n0 x 1\n", false, 0, 0, 0},
		{"", false, 0, 0, 0},
	} {
		u, ok := parseUsageAll(tc.in)
		if ok != tc.ok || (ok && (u.User != tc.user || u.System != tc.sys || u.PerCPU[0] != tc.perCPU0)) {
			t.Errorf("parseUsageAll(%q) = %+v, %v", tc.in, u, ok)
		}
	}
}
