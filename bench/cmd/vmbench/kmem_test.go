package main

import (
	"strings"
	"testing"
)

const sampleSlabinfo = `slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
ext4_groupinfo_1k     50     50    160   25    1 : tunables    0    0    0 : slabdata      2      2      0
TCPv6                 26     26   2496   13    8 : tunables    0    0    0 : slabdata      2      2      0
kmalloc-64          1000   1024     64   64    1 : tunables    0    0    0 : slabdata     16     16      0
`

func TestParseSlabinfo(t *testing.T) {
	got, err := parseSlabinfo(strings.NewReader(sampleSlabinfo), 4)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"ext4_groupinfo_1k": 8, "TCPv6": 64, "kmalloc-64": 64}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d KiB, want %d", k, got[k], v)
		}
	}
	for _, bad := range []string{
		"",
		"slabinfo - version: 1.1\n",
		"slabinfo - version: 2.1\nx 1 2 3\n",
		strings.Replace(sampleSlabinfo, "   16      0", "   1x      0", 1),
		strings.Replace(sampleSlabinfo, "   16      0", "   -1      0", 1),
	} {
		if _, err := parseSlabinfo(strings.NewReader(bad), 4); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestParseMeminfoAll(t *testing.T) {
	m, err := parseMeminfoAll(strings.NewReader("MemTotal: 100 kB\nMemFree:  60 kB\nHugePages_Total: 0\nShmem: 3 kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m["MemTotal"] != 100 || m["MemFree"] != 60 || m["Shmem"] != 3 || m["HugePages_Total"] != 0 {
		t.Errorf("got %v", m)
	}
	for _, bad := range []string{"", "MemTotal: 1 kB\n", "MemFree: x kB\n", "MemFree: -2 kB\n"} {
		if _, err := parseMeminfoAll(strings.NewReader(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestBreakdown(t *testing.T) {
	before := kmemSnap{
		Meminfo:     map[string]int64{"MemFree": 1000, "MemAvailable": 2000, "AnonPages": 10, "Cached": 100, "Shmem": 5, "Slab": 50, "SUnreclaim": 20},
		Slab:        map[string]int64{"a": 10, "b": 10, "c": 10},
		RunTmpfsKiB: 4,
		PCPFreeKiB:  100,
	}
	after := kmemSnap{
		// 100 KiB more used: anon 30, cached 20 (shmem 10 of it), slab 40 (unreclaimable 30), 10 in no category.
		Meminfo:     map[string]int64{"MemFree": 900, "MemAvailable": 1880, "AnonPages": 40, "Cached": 120, "Shmem": 15, "Slab": 90, "SUnreclaim": 50},
		Slab:        map[string]int64{"a": 30, "b": 50, "c": 10, "d": 10},
		RunTmpfsKiB: 14,
		PCPFreeKiB:  300,
	}
	b := breakdown(before, after, 10, 2)
	if !b.HasPCP || b.PCPFreeKiB != 20 {
		t.Errorf("per-CPU free pages: got %v (read: %v), want 20", b.PCPFreeKiB, b.HasPCP)
	}
	if d := (DensityResult{PerGuestKiB: 50, Breakdown: &b}); true {
		if net, ok := netHostKiB(d); !ok || net != 30 {
			t.Errorf("net host KiB: got %v, %v; want 30", net, ok)
		}
	}
	got := map[string]float64{}
	for _, d := range b.Meminfo {
		got[d.Name] = d.KiB
	}
	want := map[string]float64{"MemAvailable": 12, "MemFree": 10, "AnonPages": 3, "Cached": 2, "Shmem": 1, "Slab": 4, "SUnreclaim": 3, OtherField: 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v KiB/guest, want %v", k, got[k], v)
		}
	}
	if len(b.SlabTop) != 2 || b.SlabTop[0] != (KiBDelta{"b", 4}) || b.SlabTop[1] != (KiBDelta{"a", 2}) {
		t.Errorf("slab top: got %v, want b 4, a 2", b.SlabTop)
	}
	if b.RunTmpfsKiB != 1 {
		t.Errorf("run tmpfs: got %v, want 1", b.RunTmpfsKiB)
	}
	before.RunTmpfsKiB, before.PCPFreeKiB = -1, -1
	if b := breakdown(before, after, 10, 2); b.RunTmpfsKiB != -1 || b.HasPCP {
		t.Errorf("run tmpfs without a tmpfs: got %v, want -1; per-CPU lists unread: got read %v", b.RunTmpfsKiB, b.HasPCP)
	} else if _, ok := netHostKiB(DensityResult{Breakdown: &b}); ok {
		t.Error("net host KiB without the per-CPU lists: ok")
	}
	if b := breakdown(before, after, 0, 2); b.Meminfo != nil {
		t.Errorf("no guests: got %v", b)
	}
}

func FuzzParseSlabinfo(f *testing.F) {
	f.Add(sampleSlabinfo)
	f.Add("slabinfo - version: 2.1\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseSlabinfo(strings.NewReader(s), 4)
		if err == nil && m == nil {
			t.Fatal("nil map without an error")
		}
	})
}

func FuzzParseMeminfoAll(f *testing.F) {
	f.Add("MemTotal: 100 kB\nMemFree: 60 kB\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMeminfoAll(strings.NewReader(s))
		if err == nil && m == nil {
			t.Fatal("nil map without an error")
		}
	})
}

func TestMemCgroupLine(t *testing.T) {
	tests := []struct {
		in     string
		v1, v2 string
		ok     bool
	}{
		{"9:name=systemd:/\n4:memory:/a/b\n0::/\n", "/a/b", "/", true},
		{"3:cpu,memory:/x\n", "/x", "", true},
		{"0::/g\n", "", "/g", true},
		{"1:cpu:/\n", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		v1, v2, ok := memCgroupLine(tt.in)
		if v1 != tt.v1 || v2 != tt.v2 || ok != tt.ok {
			t.Errorf("%q: got %q %q %v, want %q %q %v", tt.in, v1, v2, ok, tt.v1, tt.v2, tt.ok)
		}
	}
	if n := statField("anon 10\nkernel 4096\n", "kernel"); n != 4096 {
		t.Errorf("statField: got %d", n)
	}
}

const sampleZoneinfo = `Node 0, zone      DMA
  pagesets
    cpu: 0
              count:    0
              high:     0
Node 0, zone   Normal
  pages free     5000
  pagesets
    cpu: 0
              count:    7085
              high:     8669
    cpu: 1
              count:    15
              high:     8669
`

func TestParseZoneinfoPCP(t *testing.T) {
	kib, err := parseZoneinfoPCP(strings.NewReader(sampleZoneinfo), 4)
	if err != nil || kib != (7085+15)*4 {
		t.Fatalf("got %d, %v; want %d", kib, err, (7085+15)*4)
	}
	for _, bad := range []string{"", "Node 0, zone DMA\n  pages free 3\n", "    count: -1\n", "    count: x\n"} {
		if _, err := parseZoneinfoPCP(strings.NewReader(bad), 4); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseZoneinfoPCP(f *testing.F) {
	f.Add(sampleZoneinfo)
	f.Add("count: 1\ncount: 2\n")
	f.Fuzz(func(t *testing.T, s string) {
		kib, err := parseZoneinfoPCP(strings.NewReader(s), 4)
		if err == nil && (kib < 0 || kib%4 != 0) {
			t.Fatalf("%q: %d KiB", s, kib)
		}
	})
}
