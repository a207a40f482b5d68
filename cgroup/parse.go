package cgroup

import (
	"fmt"
	"strconv"
	"strings"
)

// The cgroupfs file formats (kernel Documentation/admin-guide/cgroup-v2.rst,
// "Interface Files"; v1 files follow the same shapes).

// parsePids reads cgroup.procs: one pid per line.
func parsePids(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(s) {
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("bad pid %q", f)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseFlatKeyed reads "key value" lines (memory.stat, memory.events,
// cpu.stat, memory.oom_control, pids.events). Malformed lines are skipped;
// the kernel only ever adds keys.
func parseFlatKeyed(s string) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		out[f[0]] = v
	}
	return out
}

// parseNestedKeyed reads "MAJ:MIN key=value ..." lines (io.stat) and sums
// each key over the devices.
func parseNestedKeyed(s string) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			out[k] += n
		}
	}
	return out
}

// parseBlkioV1 reads v1 blkio.*io_service* files: "MAJ:MIN Op N" lines
// (Op: Read, Write, Sync, Async, Discard, Total) and a final "Total N".
// It returns the Read and Write sums over devices.
func parseBlkioV1(s string) (read, write uint64) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			continue
		}
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}
