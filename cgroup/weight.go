package cgroup

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// BlkioWeight implements Manager: the block I/O weight the kernel applies
// to the guest now, from the file Set writes it to (v1 blkio.weight or
// blkio.bfq.weight, v2 io.weight or io.bfq.weight), which someone else may
// have written since. 0: the host has no weight file (no CFQ, BFQ or
// io.cost for the guest), so no weight applies.
func (m *manager) BlkioWeight() (uint64, error) {
	dir, files := m.leaf(m.hs[0]), []string{"io.weight", "io.bfq.weight"}
	if m.mode != V2 {
		h, ok := m.find("blkio")
		if !ok {
			return 0, nil
		}
		dir, files = m.leaf(h), []string{"blkio.weight", "blkio.bfq.weight"}
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if !exists(p) {
			continue
		}
		s, err := readString(p)
		if err != nil {
			return 0, err
		}
		w, err := parseWeight(s)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
		return w, nil
	}
	return 0, nil
}

// parseWeight reads a weight file: a number (v1), or v2's flat keyed
// "default N" line followed by per-device "MAJ:MIN N" lines.
func parseWeight(s string) (uint64, error) {
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 1:
			return strconv.ParseUint(f[0], 10, 64)
		case len(f) == 2 && f[0] == "default":
			return strconv.ParseUint(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no weight in %q", s)
}
