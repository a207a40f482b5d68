package cgroup

import (
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"time"
)

// Unlimited is what readUint returns for "max"; Stats never holds it (a
// limit that is not set is 0 there).
const Unlimited = math.MaxUint64

// v1Huge is the floor of what v1 reports for "no limit"
// (PAGE_COUNTER_MAX pages, 0x7ffffffffffff000 on 4 KiB pages).
const v1Huge = 1 << 62

// Stats are one guest's counters and limits. A limit of 0 means none is
// set; counters of a controller the host lacks stay 0.
type Stats struct {
	// MemoryUsage is the memory charged to the guest (page cache included).
	MemoryUsage uint64 `json:"memoryUsageBytes"`
	MemoryLimit uint64 `json:"memoryLimitBytes,omitempty"`
	// SwapUsage and SwapLimit count swap alone (not memory+swap, unlike
	// libvirt's swap_hard_limit). v1 derives them from memory.memsw.*.
	SwapUsage uint64 `json:"swapUsageBytes"`
	SwapLimit uint64 `json:"swapLimitBytes,omitempty"`
	// CPUTime is the CPU time used by every process of the guest, ever.
	CPUTime time.Duration `json:"cpuTimeNs"`
	// CPUThrottled is the time the guest spent held back by its CPU quota.
	CPUThrottled time.Duration `json:"cpuThrottledNs"`
	// Pids counts tasks (threads included), which is what pids.max limits.
	Pids    uint64 `json:"pids"`
	PidsMax uint64 `json:"pidsMax,omitempty"`
	// OOMKills counts processes the kernel killed because the guest hit its
	// memory limit.
	OOMKills     uint64 `json:"oomKills"`
	IOReadBytes  uint64 `json:"ioReadBytes"`
	IOWriteBytes uint64 `json:"ioWriteBytes"`
	IOReads      uint64 `json:"ioReads"`
	IOWrites     uint64 `json:"ioWrites"`
}

// Stats implements Manager.
func (m *manager) Stats() (Stats, error) {
	for _, h := range m.hs {
		if !exists(m.leaf(h)) {
			return Stats{}, fmt.Errorf("cgroup %s: %w", m.leaf(h), fs.ErrNotExist)
		}
	}
	if m.mode == V2 {
		return m.statsV2(), nil
	}
	return m.statsV1(), nil
}

// limitOf turns a read limit into Stats' convention (0 = none).
func limitOf(v uint64) uint64 {
	if v >= v1Huge {
		return 0
	}
	return v
}

// reader reads one guest directory's files, treating missing or unreadable
// files as zero: statistics are best effort.
type reader string

func (r reader) uint(file string) uint64 {
	v, _ := readUint(filepath.Join(string(r), file))
	return v
}

func (r reader) str(file string) string {
	s, _ := readString(filepath.Join(string(r), file))
	return s
}

func (m *manager) dirOf(ctrl string) (reader, bool) {
	h, ok := m.find(ctrl)
	if !ok {
		return "", false
	}
	return reader(m.leaf(h)), true
}

// OOMKills implements Manager.
func (m *manager) OOMKills() (uint64, error) {
	dir, file := m.leaf(m.hs[0]), "memory.events"
	if m.mode != V2 {
		h, ok := m.find("memory")
		if !ok {
			return 0, nil // no memory controller: nothing was OOM-killed by a limit
		}
		dir, file = m.leaf(h), "memory.oom_control"
	}
	s, err := readString(filepath.Join(dir, file))
	if err != nil {
		return 0, err
	}
	return parseFlatKeyed(s)["oom_kill"], nil
}

func (m *manager) statsV1() Stats {
	var s Stats
	if r, ok := m.dirOf("memory"); ok {
		s.MemoryUsage = r.uint("memory.usage_in_bytes")
		memLimit := r.uint("memory.limit_in_bytes")
		s.MemoryLimit = limitOf(memLimit)
		if sw := r.uint("memory.memsw.usage_in_bytes"); sw > s.MemoryUsage {
			s.SwapUsage = sw - s.MemoryUsage
		}
		if swl := limitOf(r.uint("memory.memsw.limit_in_bytes")); swl > 0 && s.MemoryLimit > 0 && swl >= memLimit {
			s.SwapLimit = swl - memLimit
		}
		s.OOMKills = parseFlatKeyed(r.str("memory.oom_control"))["oom_kill"]
	}
	if r, ok := m.dirOf("cpuacct"); ok {
		s.CPUTime = time.Duration(r.uint("cpuacct.usage"))
	}
	if r, ok := m.dirOf("cpu"); ok {
		s.CPUThrottled = time.Duration(parseFlatKeyed(r.str("cpu.stat"))["throttled_time"])
	}
	if r, ok := m.dirOf("pids"); ok {
		s.Pids = r.uint("pids.current")
		s.PidsMax = limitOf(r.uint("pids.max"))
	}
	if r, ok := m.dirOf("blkio"); ok {
		s.IOReadBytes, s.IOWriteBytes = parseBlkioV1(firstOf(r, "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"))
		s.IOReads, s.IOWrites = parseBlkioV1(firstOf(r, "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"))
	}
	return s
}

func firstOf(r reader, files ...string) string {
	for _, f := range files {
		if s := r.str(f); s != "" {
			return s
		}
	}
	return ""
}

func (m *manager) statsV2() Stats {
	r := reader(m.leaf(m.hs[0]))
	var s Stats
	s.MemoryUsage = r.uint("memory.current")
	s.MemoryLimit = limitOf(r.uint("memory.max"))
	s.SwapUsage = r.uint("memory.swap.current")
	s.SwapLimit = limitOf(r.uint("memory.swap.max"))
	s.OOMKills = parseFlatKeyed(r.str("memory.events"))["oom_kill"]
	cpu := parseFlatKeyed(r.str("cpu.stat"))
	s.CPUTime = time.Duration(cpu["usage_usec"]) * time.Microsecond
	s.CPUThrottled = time.Duration(cpu["throttled_usec"]) * time.Microsecond
	s.Pids = r.uint("pids.current")
	s.PidsMax = limitOf(r.uint("pids.max"))
	io := parseNestedKeyed(r.str("io.stat"))
	s.IOReadBytes, s.IOWriteBytes, s.IOReads, s.IOWrites = io["rbytes"], io["wbytes"], io["rios"], io["wios"]
	return s
}

// Field is one line of Stats for `vmlite status`.
type Field struct {
	Name  string
	Value string
}

// Fields renders s as labelled lines, in the order status prints them.
func (s Stats) Fields() []Field {
	return []Field{
		{"Memory", usageOf(s.MemoryUsage, s.MemoryLimit)},
		{"Swap", usageOf(s.SwapUsage, s.SwapLimit)},
		{"CPU time", cpuOf(s)},
		{"Tasks", countOf(s.Pids, s.PidsMax)},
		{"OOM kills", fmt.Sprint(s.OOMKills)},
		{"Block I/O", fmt.Sprintf("read %s (%d ops), written %s (%d ops)",
			FormatBytes(s.IOReadBytes), s.IOReads, FormatBytes(s.IOWriteBytes), s.IOWrites)},
	}
}

// String renders s as "Name: value" lines.
func (s Stats) String() string {
	var b strings.Builder
	for _, f := range s.Fields() {
		fmt.Fprintf(&b, "%-10s %s\n", f.Name+":", f.Value)
	}
	return b.String()
}

func usageOf(used, limit uint64) string {
	if limit == 0 {
		return FormatBytes(used) + " (no limit)"
	}
	return fmt.Sprintf("%s of %s (%.0f%%)", FormatBytes(used), FormatBytes(limit), 100*float64(used)/float64(limit))
}

func countOf(n, limit uint64) string {
	if limit == 0 {
		return fmt.Sprintf("%d (no limit)", n)
	}
	return fmt.Sprintf("%d of %d", n, limit)
}

func cpuOf(s Stats) string {
	out := s.CPUTime.Round(time.Millisecond).String()
	if s.CPUThrottled > 0 {
		out += fmt.Sprintf(" (throttled %s)", s.CPUThrottled.Round(time.Millisecond))
	}
	return out
}

// FormatBytes renders n in binary units: "512 B", "1.5 KiB", "64.0 MiB".
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for x := n / unit; x >= unit && exp < 5; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
