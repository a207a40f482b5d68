package procfs

import (
	"testing"
	"time"

	"vmlite/cgroup"
)

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0-3", "0,2-5,7", "", "1-0", "99999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cpus, err := ParseCPUList(s)
		if err != nil {
			return
		}
		for i := 1; i < len(cpus); i++ {
			if cpus[i] <= cpus[i-1] {
				t.Fatalf("%q: not ascending and unique: %v", s, cpus)
			}
		}
	})
}

func FuzzParseProcCgroup(f *testing.F) {
	f.Add("0::/vmlite/machine/a\n")
	f.Add("12:memory:/vmlite/x\n0::/\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range []cgroup.Mode{cgroup.V1, cgroup.V2} {
			if p, err := ParseProcCgroup(s, m); err == nil && (p == "" || p[0] != '/') {
				t.Fatalf("%q: path %q", s, p)
			}
		}
	})
}

// FuzzRender feeds arbitrary host files to the renderers: they never panic.
func FuzzRender(f *testing.F) {
	f.Add(fakeMeminfo, fakeCpuinfo(2), fakeStat, fakeDiskstats, uint64(1<<28), uint64(150000))
	f.Fuzz(func(t *testing.T, mem, cpu, stat, disk string, limit, quota uint64) {
		m := Mem{Limit: limit, Usage: limit / 2, SwapLimited: true, SwapLimit: limit, SwapUsage: limit * 2}
		c := CPUs{Allowed: []int{0, 1, 5}, Quota: quota, Period: 100000}
		_ = Meminfo(mem, m)
		_ = Cpuinfo(cpu, c)
		_ = Online(c)
		_ = Stat(stat, c, CPUUsage{User: 1e9, System: 1e9, PerCPU: make([]time.Duration, 3)})
		_ = Swaps(mem, m, limit)
		_ = Diskstats(disk, map[string]DiskIO{"253:0": {Reads: 1}})
	})
}

func FuzzParseUsageAll(f *testing.F) {
	f.Add("cpu user system\n0 72000000 187938317\n1 8000000 36000000\n")
	f.Add("cpu user system\n1 1 1\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := parseUsageAll(s)
		if !ok {
			return
		}
		var sum time.Duration
		for _, c := range u.PerCPU {
			if c < 0 {
				t.Fatalf("%q: negative CPU time %v", s, c)
			}
			sum += c
		}
		if sum != u.User+u.System || u.User < 0 || u.System < 0 {
			t.Fatalf("%q: per-CPU sum %v, user+system %v", s, sum, u.User+u.System)
		}
	})
}
