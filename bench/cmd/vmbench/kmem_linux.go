package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// readKmem samples /proc/meminfo, /proc/slabinfo and, when runTmpfs is
// not "", the space used on the tmpfs mounted there.
func readKmem(runTmpfs string) (kmemSnap, error) {
	s := kmemSnap{RunTmpfsKiB: -1, PCPFreeKiB: -1}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return s, err
	}
	s.Meminfo, err = parseMeminfoAll(f)
	f.Close()
	if err != nil {
		return s, err
	}
	b, err := os.ReadFile("/proc/slabinfo")
	if err != nil {
		return s, err
	}
	if s.Slab, err = parseSlabinfo(bytes.NewReader(b), int64(os.Getpagesize()/1024)); err != nil {
		return s, err
	}
	if z, err := os.Open("/proc/zoneinfo"); err == nil {
		if kib, err := parseZoneinfoPCP(z, int64(os.Getpagesize()/1024)); err == nil {
			s.PCPFreeKiB = kib
		}
		z.Close()
	}
	if runTmpfs != "" {
		var st unix.Statfs_t
		if err := unix.Statfs(runTmpfs, &st); err != nil {
			return s, fmt.Errorf("statfs %s: %w", runTmpfs, err)
		}
		s.RunTmpfsKiB = int64(st.Blocks-st.Bfree) * st.Bsize / 1024
	}
	return s, nil
}

// pssOfCmdlines sums the PSS of every process whose command line holds
// substr and that is not in skip (the guests' trees, counted already).
func pssOfCmdlines(substr string, skip map[int]bool) Rollup {
	var sum Rollup
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || skip[pid] {
			continue
		}
		cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cl, []byte(substr)) {
			continue
		}
		if r, err := readRollup(pid); err == nil {
			sum = sum.Add(r)
		}
	}
	return sum
}

// memCgroupOf is the directory of pid's memory cgroup: the v1 memory
// hierarchy's, or the unified one's on a host without it.
func memCgroupOf(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	v1, v2, ok := memCgroupLine(string(b))
	if !ok {
		return "", fmt.Errorf("pid %d: no memory cgroup in /proc/PID/cgroup", pid)
	}
	if v1 != "" {
		if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil {
			return "/sys/fs/cgroup/memory" + v1, nil
		}
	}
	return "/sys/fs/cgroup" + v2, nil
}

// memCgroupUsage is what the memory cgroup dir is charged, in KiB: v1's
// usage_in_bytes, kmem.usage_in_bytes and memory.stat's total_rss,
// total_cache and total_shmem; v2's memory.current and memory.stat's
// kernel, anon, file and shmem.
func memCgroupUsage(dir string) (cgMem, error) {
	var m cgMem
	readInt := func(name string) (int64, error) {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	}
	st, err := os.ReadFile(dir + "/memory.stat")
	if err != nil {
		return m, err
	}
	stat := string(st)
	if u, err := readInt("memory.usage_in_bytes"); err == nil {
		k, err := readInt("memory.kmem.usage_in_bytes")
		m = cgMem{Usage: u, Kmem: k, Anon: statField(stat, "total_rss"), File: statField(stat, "total_cache"), Shmem: statField(stat, "total_shmem")}
		return m.kib(), err
	}
	u, err := readInt("memory.current")
	if err != nil {
		return m, err
	}
	m = cgMem{Usage: u, Kmem: statField(stat, "kernel"), Anon: statField(stat, "anon"), File: statField(stat, "file"), Shmem: statField(stat, "shmem")}
	return m.kib(), nil
}
