package cgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"vmlite/plan"
)

// Tuning implements Manager. The files are the ones Set writes (see
// applyV1 and applyV2), read back through the inverse mappings: v1's "no
// limit" (-1, read as PAGE_COUNTER_MAX) and v2's "max" are 0; v2's
// memory.swap.max is swap alone, so SwapBytes is it plus memory.max; v2's
// cpu.weight is turned back into shares, the recorded shares when they
// map to the weight read (the conversion is not one-to-one).
func (m *manager) Tuning(l plan.Limits) (plan.Limits, error) {
	if m.mode == V2 {
		return m.tuningV2(l)
	}
	return m.tuningV1(l)
}

// tuneReader reads one guest directory's limit files; a missing file
// (a controller the host lacks) reads as absent, anything else unreadable
// is an error naming the file.
type tuneReader struct {
	dir string
	err error
}

func (r *tuneReader) read(file string) (string, bool) {
	if r.err != nil || r.dir == "" {
		return "", false
	}
	s, err := readString(filepath.Join(r.dir, file))
	if err != nil {
		if !isNotExist(err) {
			r.err = err
		}
		return "", false
	}
	return strings.TrimSpace(s), true
}

// limit reads a byte or count limit: a number, or "max"/"-1"/v1's huge
// value for none (0).
func (r *tuneReader) limit(file string, dst *uint64) bool {
	s, ok := r.read(file)
	if !ok {
		return false
	}
	v, err := parseLimit(s)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", filepath.Join(r.dir, file), err)
		return false
	}
	*dst = v
	return true
}

func parseLimit(s string) (uint64, error) {
	if s == "max" || s == "-1" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return limitOf(v), nil
}

func (m *manager) dir(ctrl string) string {
	if h, ok := m.find(ctrl); ok {
		return m.leaf(h)
	}
	return ""
}

func (m *manager) tuningV1(l plan.Limits) (plan.Limits, error) {
	mem := &tuneReader{dir: m.dir("memory")}
	mem.limit("memory.limit_in_bytes", &l.MemoryBytes)
	mem.limit("memory.soft_limit_in_bytes", &l.MemorySoftBytes)
	if !mem.limit("memory.memsw.limit_in_bytes", &l.SwapBytes) && mem.dir != "" && mem.err == nil {
		l.SwapBytes = 0 // no swap accounting: no memory+swap limit applies
	}
	cpu := &tuneReader{dir: m.dir("cpu")}
	if s, ok := cpu.read("cpu.shares"); ok {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("%s/cpu.shares: %w", cpu.dir, err)
		}
		l.CPUShares = v
	}
	if s, ok := cpu.read("cpu.cfs_period_us"); ok {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("%s/cpu.cfs_period_us: %w", cpu.dir, err)
		}
		l.CPUPeriodUS = v
	}
	if s, ok := cpu.read("cpu.cfs_quota_us"); ok {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("%s/cpu.cfs_quota_us: %w", cpu.dir, err)
		}
		l.CPUQuotaUS = max(v, -1)
	}
	return l, errors.Join(mem.err, cpu.err)
}

func (m *manager) tuningV2(l plan.Limits) (plan.Limits, error) {
	r := &tuneReader{dir: m.leaf(m.hs[0])}
	r.limit("memory.max", &l.MemoryBytes)
	r.limit("memory.low", &l.MemorySoftBytes)
	var swap uint64
	if r.limit("memory.swap.max", &swap) {
		// swap_hard_limit is memory+swap, and means nothing without a
		// memory limit.
		l.SwapBytes = 0
		if s, _ := r.read("memory.swap.max"); s != "max" && l.MemoryBytes > 0 {
			l.SwapBytes = l.MemoryBytes + swap
		}
	}
	if s, ok := r.read("cpu.weight"); ok {
		w, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("%s/cpu.weight: %w", r.dir, err)
		}
		if SharesToWeight(l.CPUShares) != w {
			l.CPUShares = WeightToShares(w)
		}
	}
	if s, ok := r.read("cpu.max"); ok {
		q, p, err := parseCPUMax(s)
		if err != nil {
			return l, fmt.Errorf("%s/cpu.max: %w", r.dir, err)
		}
		l.CPUQuotaUS, l.CPUPeriodUS = q, p
	}
	return l, r.err
}

// parseCPUMax reads v2's cpu.max, "QUOTA PERIOD" or "max PERIOD" (quota
// -1: none).
func parseCPUMax(s string) (quota int64, period uint64, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("%q is not QUOTA PERIOD", s)
	}
	if period, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("period in %q: %w", s, err)
	}
	if f[0] == "max" {
		return -1, period, nil
	}
	if quota, err = strconv.ParseInt(f[0], 10, 64); err != nil || quota <= 0 {
		return 0, 0, fmt.Errorf("quota in %q: not a positive number or max", s)
	}
	return quota, period, nil
}

// WeightToShares is SharesToWeight's inverse, to the nearest share that
// maps back to weight (v2 cpu.weight 1..10000 to v1 cpu.shares).
func WeightToShares(weight uint64) uint64 {
	weight = min(max(weight, 1), 10000)
	// The smallest shares whose weight is weight: ceil((w-1)*262142/9999)+2.
	return ((weight-1)*262142+9998)/9999 + 2
}
