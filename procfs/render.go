package procfs

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The renderers below are pure: they take the host's own file (as the
// kernel wrote it) and the guest's numbers (as read from its cgroup) and
// return what the guest reads. Lines the guest's cgroup has no counterpart
// for keep the host's values, as LXCFS does.

// Mem is a guest's memory as its cgroup reports it, in bytes. A limit of 0
// means none.
type Mem struct {
	Limit, Usage         uint64
	SwapLimit, SwapUsage uint64
	// SwapLimited is set when the guest has a swap limit (SwapLimit may then
	// be 0: no swap at all).
	SwapLimited bool
	// From memory.stat, with the v1 "total_" (hierarchical) keys and the v2
	// keys mapped to one set of names.
	Cache, Shmem, Mapped, Dirty, Writeback, Anon       uint64
	ActiveAnon, InactiveAnon, ActiveFile, InactiveFile uint64
	Unevictable, SlabReclaimable                       uint64
	// Unaccounted: the guest's cgroup has no memory controller (a v2 tree
	// that does not enable it): it reads the host's memory files.
	Unaccounted bool
}

// hostMeminfo parses /proc/meminfo into kB values by key.
func hostMeminfo(s string) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		k, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			out[k] = v
		}
	}
	return out
}

// Meminfo renders /proc/meminfo for a guest: MemTotal is its memory limit
// (the host's when it has none or a larger one), the rest follows from its
// usage and memory.stat; SwapTotal is its swap limit (the host's swap when
// it has none).
func Meminfo(host string, m Mem) string {
	if m.Unaccounted {
		return host
	}
	kb := func(b uint64) uint64 { return b / 1024 }
	total := meminfoValue(host, "MemTotal")
	if m.Limit > 0 && kb(m.Limit) < total {
		total = kb(m.Limit)
	}
	used := min(kb(m.Usage), total)
	free := total - used
	avail := min(total, free+kb(m.Cache)+kb(m.SlabReclaimable))
	swapTotal := meminfoValue(host, "SwapTotal")
	if m.SwapLimited && kb(m.SwapLimit) < swapTotal {
		swapTotal = kb(m.SwapLimit)
	}
	swapFree := swapTotal - min(swapTotal, kb(m.SwapUsage))
	// What the guest's numbers replace (a switch, not a map: no garbage
	// per answer).
	set := func(k string) (uint64, bool) {
		switch k {
		case "MemTotal":
			return total, true
		case "MemFree":
			return free, true
		case "MemAvailable":
			return avail, true
		case "Buffers", "SwapCached":
			return 0, true
		case "Cached":
			return min(kb(m.Cache), total), true
		case "Active":
			return kb(m.ActiveAnon + m.ActiveFile), true
		case "Inactive":
			return kb(m.InactiveAnon + m.InactiveFile), true
		case "Active(anon)":
			return kb(m.ActiveAnon), true
		case "Inactive(anon)":
			return kb(m.InactiveAnon), true
		case "Active(file)":
			return kb(m.ActiveFile), true
		case "Inactive(file)":
			return kb(m.InactiveFile), true
		case "Unevictable":
			return kb(m.Unevictable), true
		case "SwapTotal":
			return swapTotal, true
		case "SwapFree":
			return swapFree, true
		case "Dirty":
			return kb(m.Dirty), true
		case "Writeback":
			return kb(m.Writeback), true
		case "AnonPages":
			return kb(m.Anon), true
		case "Mapped":
			return kb(m.Mapped), true
		case "Shmem":
			return kb(m.Shmem), true
		case "SReclaimable":
			return kb(m.SlabReclaimable), true
		}
		return 0, false
	}
	b := make([]byte, 0, len(host)+64)
	for line := range strings.Lines(host) {
		k, _, ok := strings.Cut(line, ":")
		v, replace := set(k)
		if !ok || !replace {
			b = append(b, line...)
			continue
		}
		b = appendMeminfoLine(b, k, v)
	}
	return string(b)
}

// meminfoValue is key's value (kB) in /proc/meminfo content s, 0 if none.
func meminfoValue(s, key string) uint64 {
	for line := range strings.Lines(s) {
		k, rest, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		for f := range strings.FieldsSeq(rest) {
			v, _ := strconv.ParseUint(f, 10, 64)
			return v
		}
	}
	return 0
}

// appendMeminfoLine appends "KEY:" padded to 16 columns, v in 8, " kB"
// (the kernel's "%-16s%8d kB" of meminfo).
func appendMeminfoLine(b []byte, k string, v uint64) []byte {
	start := len(b)
	b = append(b, k...)
	b = append(b, ':')
	for len(b)-start < 16 {
		b = append(b, ' ')
	}
	var num [20]byte
	n := strconv.AppendUint(num[:0], v, 10)
	for i := len(n); i < 8; i++ {
		b = append(b, ' ')
	}
	b = append(b, n...)
	return append(b, " kB\n"...)
}

// CPUs are the CPUs a guest may use.
type CPUs struct {
	// Allowed are the host CPU numbers of its cpuset, ascending.
	Allowed []int
	// Quota and Period are its CFS bandwidth limit (Quota 0: none).
	Quota, Period uint64
}

// Visible returns the host CPUs the guest is shown: its cpuset, cut to
// ceil(quota/period) CPUs when the quota allows fewer.
func (c CPUs) Visible() []int {
	n := len(c.Allowed)
	if c.Quota > 0 && c.Period > 0 {
		if q := int(math.Ceil(float64(c.Quota) / float64(c.Period))); q < n {
			n = max(q, 1)
		}
	}
	return c.Allowed[:n]
}

// Online renders /sys/devices/system/cpu/online: the guest's CPUs,
// renumbered from 0 as in its cpuinfo.
func Online(c CPUs) string {
	n := len(c.Visible())
	switch n {
	case 0:
		return "\n"
	case 1:
		return "0\n"
	}
	return fmt.Sprintf("0-%d\n", n-1)
}

// Cpuinfo renders /proc/cpuinfo: the host's blocks of the guest's visible
// CPUs, renumbered from 0. Architectures whose cpuinfo is not one block per
// "processor" line (s390's) are shown as the host's.
func Cpuinfo(host string, c CPUs) string {
	blocks := strings.Split(strings.TrimRight(host, "\n"), "\n\n")
	byCPU := map[int]string{}
	for _, blk := range blocks {
		if n, ok := processorOf(blk); ok {
			byCPU[n] = blk
		}
	}
	var b strings.Builder
	out := 0
	for _, cpu := range c.Visible() {
		blk, ok := byCPU[cpu]
		if !ok {
			continue
		}
		for _, line := range strings.Split(blk, "\n") {
			if k, _, _ := strings.Cut(line, ":"); strings.TrimSpace(k) == "processor" {
				line = fmt.Sprintf("%s: %d", k, out)
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
		out++
	}
	if out == 0 {
		return host
	}
	return b.String()
}

func processorOf(block string) (int, bool) {
	for _, line := range strings.Split(block, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "processor" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// CPUUsage is a guest's CPU time.
type CPUUsage struct {
	User, System time.Duration
	// PerCPU is the time used on each host CPU (v1 cpuacct.usage_percpu),
	// nil where the kernel does not say (v2).
	PerCPU []time.Duration
}

// userHZ is the unit of /proc/stat (USER_HZ, 100 on every Linux ABI).
const userHZ = 100

func ticks(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d / (time.Second / userHZ))
}

// Stat renders /proc/stat: one line per visible CPU with the guest's own
// user and system time (its CPU time spread over those CPUs by where it ran,
// evenly when the kernel does not say) and the rest of each CPU's time as
// idle; the "cpu" line sums them. Other lines are the host's.
func Stat(host string, c CPUs, u CPUUsage) string {
	var hostTotal []uint64 // by CPU number
	for line := range strings.Lines(host) {
		n, sum, ok := cpuLine(line)
		if !ok || n < 0 {
			continue
		}
		for len(hostTotal) <= n {
			hostTotal = append(hostTotal, 0)
		}
		hostTotal[n] = sum
	}
	vis := c.Visible()
	weights := make([]float64, len(vis))
	var wsum float64
	for i, cpu := range vis {
		if cpu < len(u.PerCPU) {
			weights[i] = float64(u.PerCPU[cpu])
			wsum += weights[i]
		}
	}
	if wsum == 0 {
		for i := range weights {
			weights[i] = 1
		}
		wsum = float64(len(vis))
	}
	type line struct{ user, system, idle uint64 }
	lines := make([]line, len(vis))
	var tot line
	for i, cpu := range vis {
		share := weights[i] / wsum
		l := line{user: uint64(float64(ticks(u.User)) * share), system: uint64(float64(ticks(u.System)) * share)}
		if busy := l.user + l.system; cpu < len(hostTotal) && hostTotal[cpu] > busy {
			l.idle = hostTotal[cpu] - busy
		}
		lines[i] = l
		tot.user, tot.system, tot.idle = tot.user+l.user, tot.system+l.system, tot.idle+l.idle
	}
	b := make([]byte, 0, len(host)+64)
	b = appendStatLine(b, -1, tot.user, tot.system, tot.idle)
	for i, l := range lines {
		b = appendStatLine(b, i, l.user, l.system, l.idle)
	}
	for line := range strings.Lines(host) {
		if _, _, ok := cpuLine(line); !ok {
			b = append(b, line...)
		}
	}
	return string(b)
}

// cpuLine reads a line of /proc/stat whose first field starts with "cpu":
// its CPU number (-1 for the "cpu" total, or a name that is no number)
// and the sum of its fields; false for any other line.
func cpuLine(line string) (cpu int, sum uint64, ok bool) {
	first := true
	cpu = -1
	for f := range strings.FieldsSeq(line) {
		if first {
			if !strings.HasPrefix(f, "cpu") {
				return 0, 0, false
			}
			if n, err := strconv.Atoi(f[3:]); err == nil {
				cpu = n
			}
			first = false
			continue
		}
		v, _ := strconv.ParseUint(f, 10, 64)
		sum += v
	}
	return cpu, sum, !first
}

// appendStatLine appends a "cpuN user 0 system idle 0 0 0 0 0 0" line
// ("cpu " and a second space for the total, cpu -1).
func appendStatLine(b []byte, cpu int, user, system, idle uint64) []byte {
	b = append(b, "cpu"...)
	if cpu < 0 {
		b = append(b, ' ')
	} else {
		b = strconv.AppendInt(b, int64(cpu), 10)
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, user, 10)
	b = append(b, " 0 "...)
	b = strconv.AppendUint(b, system, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, idle, 10)
	return append(b, " 0 0 0 0 0 0\n"...)
}

// Uptime renders /proc/uptime: the time since the guest started and the
// idle time of its CPUs since then (what they could have run, less what the
// guest used).
func Uptime(up time.Duration, ncpu int, used time.Duration) string {
	idle := max(time.Duration(ncpu)*up-used, 0)
	return fmt.Sprintf("%.2f %.2f\n", up.Seconds(), idle.Seconds())
}

// Load is a guest's load averages and task counts.
type Load struct {
	Avg1, Avg5, Avg15 float64
	Running, Tasks    int
	LastPid           int
}

// Loadavg renders /proc/loadavg.
func Loadavg(l Load) string {
	return fmt.Sprintf("%.2f %.2f %.2f %d/%d %d\n", l.Avg1, l.Avg5, l.Avg15, l.Running, l.Tasks, l.LastPid)
}

// decay moves load averages towards running over dt, as the kernel's
// calc_load does every 5 s (exp(-5s/1min) and so on), for a dt of any
// length: the server samples a guest only when it is read.
func (l *Load) decay(running int, dt time.Duration) {
	r := float64(running)
	step := func(avg float64, period time.Duration) float64 {
		e := math.Exp(-dt.Seconds() / period.Seconds())
		return avg*e + r*(1-e)
	}
	l.Avg1, l.Avg5, l.Avg15 = step(l.Avg1, time.Minute), step(l.Avg5, 5*time.Minute), step(l.Avg15, 15*time.Minute)
}

// Swaps renders /proc/swaps: with a swap limit, one virtual device of that
// size and the guest's use of it; without, the host's devices.
func Swaps(host string, m Mem, hostSwapKB uint64) string {
	if !m.SwapLimited {
		return host
	}
	const header = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	size := min(m.SwapLimit/1024, hostSwapKB)
	if size == 0 {
		return header
	}
	used := min(m.SwapUsage/1024, size)
	return header + fmt.Sprintf("%-40s%s\t\t%d\t\t%d\t\t%d\n", "none", "virtual", size, used, 0)
}

// DiskIO is a guest's I/O on one device.
type DiskIO struct {
	ReadBytes, WriteBytes, Reads, Writes uint64
}

// Diskstats renders /proc/diskstats: the host's devices the guest did I/O
// on, with its own counts (merges, times and queue fields are 0: cgroups do
// not count them per guest on every kernel).
func Diskstats(host string, io map[string]DiskIO) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(host))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		d, ok := io[f[0]+":"+f[1]]
		if !ok || d == (DiskIO{}) {
			continue
		}
		fmt.Fprintf(&b, "%4s %7s %s %d 0 %d 0 %d 0 %d 0 0 0 0 0 0 0 0 0 0\n",
			f[0], f[1], f[2], d.Reads, d.ReadBytes/512, d.Writes, d.WriteBytes/512)
	}
	return b.String()
}
