package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

const mib = 1 << 20

// TestLimitsMapping applies plan limits on faked hosts of both modes and
// reads back the files the kernel would see.
func TestLimitsMapping(t *testing.T) {
	all := []string{"cpu", "cpuset", "io", "memory", "pids"}
	dev := []plan.BlkioDevice{{Path: "/dev/fakedisk", Weight: 300, ReadBps: 1 * mib, WriteIops: 50}}
	tests := []struct {
		name     string
		mode     Mode
		enabled  []string // v2: the host root's subtree_control
		skip     []string // files the faked kernel lacks
		limits   plan.Limits
		want     map[string]string // file (v1: "<hierarchy dir>/<file>") -> content
		wantWarn []string          // Warning.Limit values
		wantErr  string
	}{
		{
			name: "v1 memory soft swap", mode: V1,
			limits: plan.Limits{MemoryBytes: 64 * mib, MemorySoftBytes: 32 * mib, SwapBytes: 128 * mib},
			want: map[string]string{
				"memory/memory.limit_in_bytes": "67108864", "memory/memory.soft_limit_in_bytes": "33554432",
				"memory/memory.memsw.limit_in_bytes": "134217728",
			},
		},
		{
			name: "v1 without swap accounting warns", mode: V1, skip: []string{"memory.memsw.limit_in_bytes"},
			limits:   plan.Limits{MemoryBytes: 64 * mib, SwapBytes: 64 * mib},
			want:     map[string]string{"memory/memory.limit_in_bytes": "67108864"},
			wantWarn: []string{"SwapBytes"},
		},
		{
			name: "v1 cpu", mode: V1,
			limits: plan.Limits{CPUShares: 2048, CPUPeriodUS: 50000, CPUQuotaUS: 25000, CPUSet: "1-2"},
			want: map[string]string{
				"cpu,cpuacct/cpu.shares": "2048", "cpu,cpuacct/cpu.cfs_period_us": "50000",
				"cpu,cpuacct/cpu.cfs_quota_us": "25000", "cpuset/cpuset.cpus": "1-2", "cpuset/cpuset.mems": "0",
			},
		},
		{
			name: "v1 defaults", mode: V1,
			want: map[string]string{
				"memory/memory.limit_in_bytes": "-1", "memory/memory.memsw.limit_in_bytes": "-1",
				"cpu,cpuacct/cpu.shares": "1024", "cpu,cpuacct/cpu.cfs_quota_us": "-1",
				"cpuset/cpuset.cpus": "0-3", "cpuset/cpuset.mems": "0", "pids/pids.max": "max",
			},
		},
		{
			name: "v1 pids and blkio (bfq files)", mode: V1,
			limits: plan.Limits{PidsMax: 20, BlkioWeight: 500, BlkioDevices: dev},
			want: map[string]string{
				"pids/pids.max": "20", "blkio/blkio.bfq.weight": "500", "blkio/blkio.bfq.weight_device": "8:0 300",
				"blkio/blkio.throttle.read_bps_device": "8:0 1048576", "blkio/blkio.throttle.write_iops_device": "8:0 50",
				"blkio/blkio.throttle.write_bps_device": "8:0 0",
			},
		},
		{
			name: "v1 blkio weight without a weight file warns", mode: V1,
			skip:     []string{"blkio.bfq.weight"},
			limits:   plan.Limits{BlkioWeight: 500},
			wantWarn: []string{"BlkioWeight"},
		},
		{
			name: "v2 memory soft swap", mode: V2, enabled: all,
			limits: plan.Limits{MemoryBytes: 64 * mib, MemorySoftBytes: 32 * mib, SwapBytes: 128 * mib},
			want:   map[string]string{"memory.max": "67108864", "memory.low": "33554432", "memory.swap.max": "67108864"},
		},
		{
			name: "v2 cpu", mode: V2, enabled: all,
			limits: plan.Limits{CPUShares: 2048, CPUQuotaUS: 50000, CPUSet: "0"},
			want:   map[string]string{"cpu.weight": "79", "cpu.max": "50000 100000", "cpuset.cpus": "0"},
		},
		{
			name: "v2 defaults", mode: V2, enabled: all,
			want: map[string]string{"memory.max": "max", "memory.swap.max": "max", "cpu.weight": "100", "cpu.max": "max 100000", "pids.max": "max"},
		},
		{
			name: "v2 pids and io", mode: V2, enabled: all,
			limits: plan.Limits{PidsMax: 20, BlkioWeight: 500, BlkioDevices: dev},
			want: map[string]string{
				"pids.max": "20", "io.weight": "8:0 300",
				"io.max": "8:0 rbps=1048576 wbps=max riops=max wiops=50",
			},
		},
		{
			name: "v2 without swap controller file warns", mode: V2, enabled: all, skip: []string{"memory.swap.max"},
			limits:   plan.Limits{MemoryBytes: 64 * mib, SwapBytes: 64 * mib},
			want:     map[string]string{"memory.max": "67108864"},
			wantWarn: []string{"SwapBytes"},
		},
		{
			name: "v2 controller not enabled by the host", mode: V2, enabled: []string{"memory", "cpu"},
			limits:  plan.Limits{PidsMax: 20},
			wantErr: `controller "pids" is not available`,
		},
		{
			name: "swap below memory is invalid", mode: V2, enabled: all,
			limits:  plan.Limits{MemoryBytes: 64 * mib, SwapBytes: 32 * mib},
			wantErr: "swap_hard_limit",
		},
		{
			name: "unknown block device", mode: V1,
			limits:  plan.Limits{BlkioDevices: []plan.BlkioDevice{{Path: "/dev/nosuch", ReadBps: 1}}},
			wantErr: "/dev/nosuch",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, f := fakeHost(t, tc.mode, tc.enabled, tc.skip...)
			before := snapshot(t, root)
			m := newFake(t, root, f, plan.Cgroup{Name: "g1", Limits: tc.limits})
			err := m.Create()
			var w Warnings
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Create: got %v, want error containing %q", err, tc.wantErr)
				}
			case len(tc.wantWarn) > 0:
				if !errors.As(err, &w) || !errors.Is(err, ErrUnsupported) {
					t.Fatalf("Create: got %v, want Warnings", err)
				}
				var got []string
				for _, x := range w {
					got = append(got, x.Limit)
				}
				if strings.Join(got, ",") != strings.Join(tc.wantWarn, ",") {
					t.Errorf("warnings %v, want %v", got, tc.wantWarn)
				}
			case err != nil:
				t.Fatalf("Create: %v", err)
			}
			for file, want := range tc.want {
				p := filepath.Join(root, TopDir, "machine", "g1", file)
				if tc.mode == V1 {
					h, f, _ := strings.Cut(file, "/")
					p = filepath.Join(root, h, TopDir, "machine", "g1", f)
				}
				got, err := readString(p)
				if err != nil {
					t.Errorf("%s: %v", file, err)
				} else if got != want {
					t.Errorf("%s = %q, want %q", file, got, want)
				}
			}
			if err := m.Destroy(); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			after := snapshot(t, root)
			for _, k := range sortedKeys(before) {
				if before[k] != after[k] {
					t.Errorf("host file %s changed: %q -> %q", k, before[k], after[k])
				}
			}
			if _, err := os.Stat(filepath.Join(root, TopDir)); err == nil {
				t.Errorf("%s left behind", filepath.Join(root, TopDir))
			}
		})
	}
}

// TestSetReplaces checks that Set resets what the new limits leave out.
func TestSetReplaces(t *testing.T) {
	for _, mode := range []Mode{V1, V2} {
		t.Run(mode.String(), func(t *testing.T) {
			root, f := fakeHost(t, mode, []string{"cpu", "cpuset", "io", "memory", "pids"})
			m := newFake(t, root, f, plan.Cgroup{Partition: "/a/b", Name: "g", Limits: plan.Limits{MemoryBytes: 64 * mib, CPUQuotaUS: 50000}})
			if err := m.Create(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Destroy() })
			if err := m.Set(plan.Limits{MemoryBytes: 128 * mib}); err != nil {
				t.Fatal(err)
			}
			mem, quota := "memory.max", "cpu.max"
			memDir, cpuDir := m.leaf(m.hs[0]), m.leaf(m.hs[0])
			wantMem, wantQuota := "134217728", "max 100000"
			if mode == V1 {
				mem, quota, wantQuota = "memory.limit_in_bytes", "cpu.cfs_quota_us", "-1"
				memDir, cpuDir = m.Paths()["memory"], m.Paths()["cpu"]
			}
			if got, _ := readString(filepath.Join(memDir, mem)); got != wantMem {
				t.Errorf("%s = %q, want %q", mem, got, wantMem)
			}
			if got, _ := readString(filepath.Join(cpuDir, quota)); got != wantQuota {
				t.Errorf("%s = %q, want %q", quota, got, wantQuota)
			}
			if err := m.Set(plan.Limits{MemoryBytes: 1, SwapBytes: 0, CPUShares: 1}); !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("Set(shares=1) = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSharesToWeight(t *testing.T) {
	for _, tc := range []struct{ shares, weight uint64 }{
		{0, 100}, {2, 1}, {1024, 39}, {2048, 79}, {262144, 10000},
	} {
		if got := SharesToWeight(tc.shares); got != tc.weight {
			t.Errorf("SharesToWeight(%d) = %d, want %d", tc.shares, got, tc.weight)
		}
	}
}
