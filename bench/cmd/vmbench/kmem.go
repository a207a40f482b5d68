package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// kmemSnap is the host's memory, as the kernel accounts it, at one moment:
// where the density section looks for each guest's KiB.
type kmemSnap struct {
	// Meminfo is every "Key: N kB" line of /proc/meminfo, in KiB.
	Meminfo map[string]int64
	// Slab is the KiB held by each /proc/slabinfo cache's slabs.
	Slab map[string]int64
	// RunTmpfsKiB is the space used on the tmpfs holding the peer's
	// runtime directory; -1 when it has none.
	RunTmpfsKiB int64
	// PCPFreeKiB is the free pages the page allocator keeps on its
	// per-CPU lists (/proc/zoneinfo's pagesets): not in MemFree, so a
	// burst of frees (hundreds of exiting processes) shows as memory used
	// until the lists drain; -1 when unknown.
	PCPFreeKiB int64
}

// breakdownFields are the /proc/meminfo lines the breakdown reports, in
// its order. MemAvailable and MemFree are reported as their decrease.
var breakdownFields = []string{
	"MemAvailable", "MemFree", "AnonPages", "Shmem", "Cached", "Buffers",
	"Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables", "Percpu", "VmallocUsed",
}

// usedCategories partition MemTotal − MemFree (Shmem is part of Cached,
// SReclaimable and SUnreclaim of Slab; VmallocUsed overlaps KernelStack
// and Percpu): what is used but in none of them is "other" (pages the
// kernel takes straight from the page allocator: pipe and socket
// buffers, vmalloc'd tables, ...).
var usedCategories = []string{"AnonPages", "Cached", "Buffers", "Slab", "KernelStack", "PageTables", "Percpu", "SecPageTables"}

// OtherField is the breakdown's line for used memory in no category.
const OtherField = "other (used, in no meminfo category)"

// KiBDelta is one figure's change per guest, in KiB.
type KiBDelta struct {
	Name string  `json:"name"`
	KiB  float64 `json:"kib"`
}

// MemBreakdown is where a density step's host memory went, per booted
// guest: /proc/meminfo and /proc/slabinfo deltas between the sample
// before the launch and the one after the last boot.
type MemBreakdown struct {
	Meminfo []KiBDelta `json:"meminfoKiBPerGuest"`
	// SlabTop is the largest slab cache growers, largest first.
	SlabTop []KiBDelta `json:"slabTopKiBPerGuest"`
	// RunTmpfsKiB is the growth of the runtime directory's tmpfs
	// (vmlite's RUN; -1: the peer keeps none on a tmpfs of its own).
	RunTmpfsKiB float64 `json:"runTmpfsKiBPerGuest"`
	// LeftAfterStopKiB is MemTotal − MemAvailable after every guest was
	// destroyed, against before the launch: what a stop did not give back.
	LeftAfterStopKiB float64 `json:"leftAfterStopKiBPerGuest"`
	// PCPFreeKiB is the growth of the free pages on the per-CPU lists
	// (kmemSnap.PCPFreeKiB) per guest; HasPCP says it was read.
	PCPFreeKiB float64 `json:"pcpFreeKiBPerGuest"`
	HasPCP     bool    `json:"hasPcp,omitempty"`
	// PSS is the guests' process trees (supervisor shares divided among
	// their guests; vmlite's /proc server is a supervisor's child), split
	// by backing; SharedPSS the peer's processes outside those trees.
	PSS       Rollup  `json:"pssPerGuestKiB"`
	SharedPSS float64 `json:"sharedProcsPSSPerGuestKiB"`
	// GuestCgroupKiB is what the guests' own memory cgroups are charged
	// (their processes' pages and the kernel memory they allocated), and
	// GuestCgroupKmemKiB its kernel part; HarnessCgroupKiB is the growth
	// of the harness's own memory cgroup, where the start commands'
	// children (vmlite's supervisors, LXC's monitors) stay unless they
	// move. Unlike the host-wide deltas, other work on the machine does
	// not touch these.
	GuestCgroup   cgMem `json:"guestCgroupsPerGuest"`
	HarnessCgroup cgMem `json:"harnessCgroupGrowthPerGuest"`
}

// breakdown computes the per-guest deltas between before and after over
// n guests, keeping the top slab growers.
func breakdown(before, after kmemSnap, n, top int) MemBreakdown {
	var b MemBreakdown
	if n <= 0 {
		return b
	}
	per := func(d int64) float64 { return float64(d) / float64(n) }
	for _, f := range breakdownFields {
		d := after.Meminfo[f] - before.Meminfo[f]
		if f == "MemAvailable" || f == "MemFree" {
			d = -d
		}
		b.Meminfo = append(b.Meminfo, KiBDelta{Name: f, KiB: per(d)})
	}
	used := -(after.Meminfo["MemFree"] - before.Meminfo["MemFree"])
	for _, c := range usedCategories {
		used -= after.Meminfo[c] - before.Meminfo[c]
	}
	b.Meminfo = append(b.Meminfo, KiBDelta{Name: OtherField, KiB: per(used)})
	var slabs []KiBDelta
	for name, kib := range after.Slab {
		if d := kib - before.Slab[name]; d > 0 {
			slabs = append(slabs, KiBDelta{Name: name, KiB: per(d)})
		}
	}
	sort.Slice(slabs, func(i, j int) bool {
		if slabs[i].KiB != slabs[j].KiB {
			return slabs[i].KiB > slabs[j].KiB
		}
		return slabs[i].Name < slabs[j].Name
	})
	if len(slabs) > top {
		slabs = slabs[:top]
	}
	b.SlabTop = slabs
	if before.PCPFreeKiB >= 0 && after.PCPFreeKiB >= 0 {
		b.PCPFreeKiB, b.HasPCP = per(after.PCPFreeKiB-before.PCPFreeKiB), true
	}
	b.RunTmpfsKiB = -1
	if before.RunTmpfsKiB >= 0 && after.RunTmpfsKiB >= 0 {
		b.RunTmpfsKiB = per(after.RunTmpfsKiB - before.RunTmpfsKiB)
	}
	return b
}

// parseMeminfoAll reads every "Key: N [kB]" line of /proc/meminfo (the
// HugePages_ counts have no unit and are kept as they are).
func parseMeminfoAll(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("meminfo: bad value in %q", sc.Text())
		}
		out[strings.TrimSuffix(f[0], ":")] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("meminfo: %w", err)
	}
	if _, ok := out["MemFree"]; !ok {
		return nil, fmt.Errorf("meminfo: no MemFree line")
	}
	return out, nil
}

// parseZoneinfoPCP sums the "count:" lines of /proc/zoneinfo's pagesets
// (pages on each CPU's free lists, every zone) in KiB.
func parseZoneinfoPCP(r io.Reader, pageKiB int64) (int64, error) {
	var pages int64
	found := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != "count:" {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return 0, fmt.Errorf("zoneinfo: bad count in %q", sc.Text())
		}
		pages += n
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("zoneinfo: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("zoneinfo: no pagesets")
	}
	return pages * pageKiB, nil
}

// parseSlabinfo reads /proc/slabinfo (version 2.1) into the KiB each
// cache's slabs hold: num_slabs × pagesperslab pages of pageKiB.
//
//	name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ... : slabdata <active_slabs> <num_slabs> <sharedavail>
func parseSlabinfo(r io.Reader, pageKiB int64) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if line == 1 {
			if !strings.HasPrefix(s, "slabinfo - version: 2.") {
				return nil, fmt.Errorf("slabinfo: unknown header %q", s)
			}
			continue
		}
		if strings.HasPrefix(s, "#") || strings.TrimSpace(s) == "" {
			continue
		}
		f := strings.Fields(s)
		if len(f) < 16 || f[6] != ":" || f[11] != ":" || f[12] != "slabdata" {
			return nil, fmt.Errorf("slabinfo: line %d: unexpected layout %q", line, s)
		}
		pages, err1 := strconv.ParseInt(f[5], 10, 64)
		slabs, err2 := strconv.ParseInt(f[14], 10, 64)
		if err1 != nil || err2 != nil || pages < 0 || slabs < 0 {
			return nil, fmt.Errorf("slabinfo: line %d: bad numbers in %q", line, s)
		}
		out[f[0]] += slabs * pages * pageKiB
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("slabinfo: %w", err)
	}
	if line == 0 {
		return nil, fmt.Errorf("slabinfo: empty")
	}
	return out, nil
}

// cgMem is a memory cgroup's charge: all of it, its kernel part, and its
// anonymous, page cache and (of the page cache) shmem pages.
type cgMem struct {
	Usage int64 `json:"usageKiB"`
	Kmem  int64 `json:"kmemKiB"`
	Anon  int64 `json:"anonKiB"`
	File  int64 `json:"fileKiB"`
	Shmem int64 `json:"shmemKiB"`
}

func (m cgMem) add(o cgMem) cgMem {
	return cgMem{m.Usage + o.Usage, m.Kmem + o.Kmem, m.Anon + o.Anon, m.File + o.File, m.Shmem + o.Shmem}
}

func (m cgMem) sub(o cgMem) cgMem {
	return cgMem{m.Usage - o.Usage, m.Kmem - o.Kmem, m.Anon - o.Anon, m.File - o.File, m.Shmem - o.Shmem}
}

// kib converts a charge in bytes to KiB.
func (m cgMem) kib() cgMem {
	return cgMem{m.Usage / 1024, m.Kmem / 1024, m.Anon / 1024, m.File / 1024, m.Shmem / 1024}
}

// perGuest divides a charge among n guests.
func (m cgMem) perGuest(n int) cgMem {
	if n <= 0 {
		return cgMem{}
	}
	d := int64(n)
	return cgMem{m.Usage / d, m.Kmem / d, m.Anon / d, m.File / d, m.Shmem / d}
}

// memCgroupLine finds the memory cgroup in /proc/PID/cgroup: the v1 line
// naming the memory controller and the unified ("0::") line.
func memCgroupLine(s string) (v1, v2 string, ok bool) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			v2, ok = f[2], true
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "memory" {
				v1, ok = f[2], true
			}
		}
	}
	return v1, v2, ok
}

// statField is the value of key in a "key value" file (memory.stat); 0
// when it is missing or malformed.
func statField(s, key string) int64 {
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
