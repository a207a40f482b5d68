package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"vmlite/plan"
)

// TestTuningFake: a guest's memory and CPU limits are read back from the
// files Set writes, whoever wrote them last (vmlite or an administrator),
// on v1 and v2 faked trees; "no limit" in each form reads 0, and a file
// the host lacks keeps the recorded value.
func TestTuningFake(t *testing.T) {
	recorded := plan.Limits{MemoryBytes: 256 << 20, MemorySoftBytes: 128 << 20, SwapBytes: 512 << 20,
		CPUShares: 512, CPUPeriodUS: 50000, CPUQuotaUS: 25000}
	for _, tc := range []struct {
		name  string
		mode  Mode
		skip  []string
		files map[string]string // hierarchy-relative (v1: "memory/...") file -> content
		want  plan.Limits
	}{
		{name: "v1 as set", mode: V1, want: recorded},
		{name: "v1 changed behind vmlite", mode: V1, files: map[string]string{
			"memory/memory.limit_in_bytes": "104857600", "memory/memory.soft_limit_in_bytes": "9223372036854771712",
			"memory/memory.memsw.limit_in_bytes": "209715200",
			"cpu,cpuacct/cpu.shares":             "2048", "cpu,cpuacct/cpu.cfs_period_us": "200000", "cpu,cpuacct/cpu.cfs_quota_us": "-1"},
			want: plan.Limits{MemoryBytes: 100 << 20, SwapBytes: 200 << 20, CPUShares: 2048, CPUPeriodUS: 200000, CPUQuotaUS: -1}},
		{name: "v1 without swap accounting", mode: V1, skip: []string{"memory.memsw.limit_in_bytes"},
			want: plan.Limits{MemoryBytes: 256 << 20, MemorySoftBytes: 128 << 20, CPUShares: 512, CPUPeriodUS: 50000, CPUQuotaUS: 25000}},
		{name: "v2 as set", mode: V2, want: recorded},
		{name: "v2 changed behind vmlite", mode: V2, files: map[string]string{
			"memory.max": "104857600", "memory.low": "0", "memory.swap.max": "max", "cpu.weight": "200", "cpu.max": "max 100000"},
			want: plan.Limits{MemoryBytes: 100 << 20, CPUShares: WeightToShares(200), CPUPeriodUS: 100000, CPUQuotaUS: -1}},
		{name: "v2 swap without a memory limit", mode: V2, files: map[string]string{"memory.max": "max", "memory.swap.max": "1048576"},
			want: plan.Limits{MemorySoftBytes: 128 << 20, CPUShares: 512, CPUPeriodUS: 50000, CPUQuotaUS: 25000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, f := fakeHost(t, tc.mode, []string{"cpu", "io", "memory", "pids"}, tc.skip...)
			m := newFake(t, root, f, plan.Cgroup{Name: "g", Limits: recorded})
			if err := m.Create(); err != nil && !isWarnings(err) {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Destroy() })
			for file, body := range tc.files {
				p := filepath.Join(m.leaf(m.hs[0]), file)
				if tc.mode == V1 {
					p = filepath.Join(root, filepath.Dir(file), m.rel, filepath.Base(file))
				}
				if err := os.WriteFile(p, []byte(body+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := m.Tuning(recorded)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Tuning =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

func isWarnings(err error) bool { var w Warnings; return errors.As(err, &w) }

// TestTuningBadFile: a limit file that does not parse is an error naming
// it, not a made-up value.
func TestTuningBadFile(t *testing.T) {
	root, f := fakeHost(t, V2, []string{"cpu", "memory"})
	m := newFake(t, root, f, plan.Cgroup{Name: "g"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	for file, body := range map[string]string{"cpu.max": "lots 100000", "memory.max": "much"} {
		p := filepath.Join(m.leaf(m.hs[0]), file)
		old, _ := os.ReadFile(p)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Tuning(plan.Limits{}); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("%s = %q: Tuning error %v, want one naming the file", file, body, err)
		}
		_ = os.WriteFile(p, old, 0o644)
	}
}

// TestWeightToShares: the inverse gives the smallest shares that map to
// each weight, so shares -> weight -> shares -> weight is stable.
func TestWeightToShares(t *testing.T) {
	for w := uint64(1); w <= 10000; w++ {
		s := WeightToShares(w)
		if SharesToWeight(s) != w || (s > 2 && SharesToWeight(s-1) == w) {
			t.Fatalf("WeightToShares(%d) = %d, maps to %d", w, s, SharesToWeight(s))
		}
	}
	for _, c := range []struct{ shares, weight uint64 }{{2, 1}, {262144, 10000}, {1024, 39}} {
		if SharesToWeight(c.shares) != c.weight {
			t.Errorf("SharesToWeight(%d) = %d, want %d", c.shares, SharesToWeight(c.shares), c.weight)
		}
	}
}

// FuzzTuningFiles: the readers of a guest's limit files (cpu.max, a
// byte limit, a weight) never panic, and what they accept is in range:
// a quota of -1 or above 0, a weight back to shares that maps to it.
func FuzzTuningFiles(f *testing.F) {
	for _, s := range []string{"max 100000", "50000 100000", "0 100000", "-5 10", "max", "", "9223372036854771712", "-1", "1 2 3", "max 18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if q, p, err := parseCPUMax(s); err == nil {
			if q != -1 && q <= 0 {
				t.Errorf("parseCPUMax(%q) = quota %d, period %d", s, q, p)
			}
		}
		if v, err := parseLimit(s); err == nil && v >= v1Huge {
			t.Errorf("parseLimit(%q) = %d: no limit should read 0", s, v)
		}
		if w, err := strconv.ParseUint(s, 10, 64); err == nil && w >= 1 && w <= 10000 {
			if got := SharesToWeight(WeightToShares(w)); got != w {
				t.Errorf("weight %d -> shares %d -> weight %d", w, WeightToShares(w), got)
			}
		}
	})
}
