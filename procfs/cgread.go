package procfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
)

// cgDirs is one guest's cgroup directories: its path below each
// hierarchy's root, and the roots (cgroup.Manager.Paths less that path),
// keyed by v1 controller or "unified" for the v2 tree. The roots are one
// map for every guest (the host's hierarchies): a guest costs its path.
type cgDirs struct {
	mode  cgroup.Mode
	roots map[string]string
	rel   string
	// depth is how many directories the guest's leaf is below each
	// hierarchy's root (vmlite/<partition...>/<name>).
	depth int
}

// dir returns the directory of v1 controller c, or the v2 tree.
func (d cgDirs) dir(c string) (string, bool) {
	if d.mode == cgroup.V2 {
		c = "unified"
	}
	r, ok := d.roots[c]
	if !ok {
		return "", false
	}
	return r + "/" + d.rel, true
}

// hierarchyRoots returns the roots of paths (cgroup.Manager.Paths of the
// guest whose path is rel), nil if one of them does not end in rel.
func hierarchyRoots(paths map[string]string, rel string) map[string]string {
	out := make(map[string]string, len(paths))
	for k, p := range paths {
		r, ok := strings.CutSuffix(p, "/"+rel)
		if !ok {
			return nil
		}
		out[k] = r
	}
	return out
}

// errGone means the guest's cgroup disappeared (the guest stopped while
// being read): the reader gets EIO, never anybody else's numbers.
var errGone = errors.New("guest cgroup is gone")

func readFile(dir, name string) (string, error) {
	return readSmall(filepath.Join(dir, name))
}

// readSmall reads a kernel file (cgroup, /proc) that is small and says
// it has no size: into a pooled buffer, without os.ReadFile's stat and
// its growing from 512 bytes (a read per doubling), so one read and the
// one that sees EOF.
func readSmall(path string) (string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf, n := *bp, 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
			*bp = buf
		}
		k, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "read", Path: path, Err: err}
		}
		if k == 0 {
			return string(buf[:n]), nil
		}
		n += k
	}
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// required reads a file every guest cgroup has: its absence means the
// cgroup is gone.
func required(dir, name string) (string, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errGone, err)
	}
	return s, nil
}

// present checks that a cgroup directory still exists.
func present(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w: %w", errGone, err)
	}
	return nil
}

// optional reads a file a kernel may lack (memsw without swapaccount),
// "" when absent.
func optional(dir, name string) string {
	s, _ := readFile(dir, name)
	return s
}

// parseLimit reads a limit: "max", "-1" and v1's huge "no limit" read as 0.
func parseLimit(s string) uint64 {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v >= 1<<62 {
		return 0
	}
	return v
}

func parseU(s string) uint64 {
	v, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return v
}

// eachKeyed calls f with each "key value" line of s (memory.stat,
// cpu.stat): one pass, no map (an answer's garbage is what the server's
// heap grows by between collections).
func eachKeyed(s string, f func(k string, v uint64)) {
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			f(k, n)
		}
	}
}

// limitOf is a limit read as a number: v1's huge "no limit" is 0, as
// parseLimit reads it.
func limitOf(v uint64) uint64 {
	if v >= 1<<62 {
		return 0
	}
	return v
}

// readMem reads the guest's memory: on v1 four files of the memory
// hierarchy (the limit is memory.stat's hierarchical one, so a smaller
// limit of a parent counts), on v2 memory.current, memory.stat, the swap
// files and memory.max of the leaf and its parents.
func readMem(d cgDirs) (Mem, error) {
	dir, ok := d.dir("memory")
	if !ok {
		return Mem{}, fmt.Errorf("no memory cgroup")
	}
	var m Mem
	if d.mode == cgroup.V2 {
		if err := present(dir); err != nil {
			return Mem{}, err
		}
		// v2 has the memory files only where the parent enables the
		// controller (a host that does not delegate it to vmlite's tree).
		cur := optional(dir, "memory.current")
		if cur == "" {
			return Mem{Unaccounted: true}, nil
		}
		stat, err := required(dir, "memory.stat")
		if err != nil {
			return Mem{}, err
		}
		m.Usage = parseU(cur)
		eachKeyed(stat, func(k string, v uint64) {
			switch k {
			case "file":
				m.Cache = v
			case "shmem":
				m.Shmem = v
			case "file_mapped":
				m.Mapped = v
			case "anon":
				m.Anon = v
			case "file_dirty":
				m.Dirty = v
			case "file_writeback":
				m.Writeback = v
			case "active_anon":
				m.ActiveAnon = v
			case "inactive_anon":
				m.InactiveAnon = v
			case "active_file":
				m.ActiveFile = v
			case "inactive_file":
				m.InactiveFile = v
			case "unevictable":
				m.Unevictable = v
			case "slab_reclaimable":
				m.SlabReclaimable = v
			}
		})
		m.Limit = minLimitV2(dir, d.depth, "memory.max")
		if s := optional(dir, "memory.swap.max"); s != "" {
			m.SwapUsage = parseU(optional(dir, "memory.swap.current"))
			if l := minLimitV2(dir, d.depth, "memory.swap.max"); l > 0 || strings.TrimSpace(s) == "0" {
				m.SwapLimit, m.SwapLimited = l, true
			}
		}
		return m, nil
	}
	use, err := required(dir, "memory.usage_in_bytes")
	if err != nil {
		return Mem{}, err
	}
	stat, err := required(dir, "memory.stat")
	if err != nil {
		return Mem{}, err
	}
	m.Usage = parseU(use)
	var memsw uint64
	eachKeyed(stat, func(k string, v uint64) {
		switch k {
		case "total_cache":
			m.Cache = v
		case "total_shmem":
			m.Shmem = v
		case "total_mapped_file":
			m.Mapped = v
		case "total_rss":
			m.Anon = v
		case "total_dirty":
			m.Dirty = v
		case "total_writeback":
			m.Writeback = v
		case "total_active_anon":
			m.ActiveAnon = v
		case "total_inactive_anon":
			m.InactiveAnon = v
		case "total_active_file":
			m.ActiveFile = v
		case "total_inactive_file":
			m.InactiveFile = v
		case "total_unevictable":
			m.Unevictable = v
		case "hierarchical_memory_limit":
			m.Limit = limitOf(v)
		case "hierarchical_memsw_limit":
			memsw = limitOf(v)
		}
	})
	// memsw is memory+swap (libvirt's swap_hard_limit); swap alone is the
	// difference, as cgroup.Stats reports it.
	if sw := memsw; sw > 0 && m.Limit > 0 && sw >= m.Limit {
		m.SwapLimit, m.SwapLimited = sw-m.Limit, true
		if u := parseU(optional(dir, "memory.memsw.usage_in_bytes")); u > m.Usage {
			m.SwapUsage = u - m.Usage
		}
	}
	return m, nil
}

// minLimitV2 is the smallest limit in file of dir and its depth parents
// (v2 has no hierarchical summary). 0: none.
func minLimitV2(dir string, depth int, file string) uint64 {
	var best uint64
	for i := 0; i <= depth; i++ {
		s, err := readFile(dir, file)
		if err == nil {
			if l := strings.TrimSpace(s); l == "0" {
				return 0
			} else if v := parseLimit(l); v > 0 && (best == 0 || v < best) {
				best = v
			}
		}
		dir = filepath.Dir(dir)
	}
	return best
}

// ParseCPUList reads a cpuset list ("0-3,5,7-8").
func ParseCPUList(s string) ([]int, error) {
	var out []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("cpu list %q: bad number %q", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		if b-a > 1<<16 || b >= 1<<20 {
			return nil, fmt.Errorf("cpu list %q: range %q too large", s, part)
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}

// readCPUs reads the guest's cpuset (the host's online CPUs when it has
// none) and CFS quota.
func readCPUs(d cgDirs, hostOnline []int) (CPUs, error) {
	c := CPUs{Allowed: hostOnline}
	if dir, ok := d.dir("cpuset"); ok {
		s := optional(dir, "cpuset.effective_cpus")
		if d.mode == cgroup.V2 {
			s = optional(dir, "cpuset.cpus.effective")
		}
		if s == "" {
			s = optional(dir, "cpuset.cpus")
		}
		if cpus, err := ParseCPUList(s); err == nil && len(cpus) > 0 {
			c.Allowed = cpus
		}
	}
	dir, ok := d.dir("cpu")
	if !ok {
		return c, nil
	}
	if d.mode == cgroup.V2 {
		if err := present(dir); err != nil {
			return CPUs{}, err
		}
		// No cpu.max where the cpu controller is not enabled: no quota.
		q, p, _ := strings.Cut(strings.TrimSpace(optional(dir, "cpu.max")), " ")
		if q == "" {
			return c, nil
		}
		if q != "max" {
			c.Quota, c.Period = parseU(q), parseU(p)
		}
		return c, nil
	}
	q, err := required(dir, "cpu.cfs_quota_us")
	if err != nil {
		return CPUs{}, err
	}
	if v, err := strconv.ParseInt(strings.TrimSpace(q), 10, 64); err == nil && v > 0 {
		c.Quota, c.Period = uint64(v), parseU(optional(dir, "cpu.cfs_period_us"))
	}
	return c, nil
}

// readUsage reads the guest's CPU time: v1 cpuacct.stat (USER_HZ ticks) and
// cpuacct.usage_percpu, v2 cpu.stat (a core file: there with or without
// the cpu controller).
func readUsage(d cgDirs) (CPUUsage, error) {
	tick := time.Second / userHZ
	if d.mode == cgroup.V2 {
		dir, _ := d.dir("cpu")
		s, err := required(dir, "cpu.stat")
		if err != nil {
			return CPUUsage{}, err
		}
		var u CPUUsage
		eachKeyed(s, func(k string, v uint64) {
			switch k {
			case "user_usec":
				u.User = time.Duration(v) * time.Microsecond
			case "system_usec":
				u.System = time.Duration(v) * time.Microsecond
			}
		})
		return u, nil
	}
	dir, ok := d.dir("cpuacct")
	if !ok {
		return CPUUsage{}, nil
	}
	// One file with both splits where the kernel has it (4.16 on), as
	// LXCFS reads it: a file fewer per answer than cpuacct.stat and
	// cpuacct.usage_percpu.
	if u, ok := parseUsageAll(optional(dir, "cpuacct.usage_all")); ok {
		return u, nil
	}
	s, err := required(dir, "cpuacct.stat")
	if err != nil {
		return CPUUsage{}, err
	}
	var u CPUUsage
	eachKeyed(s, func(k string, v uint64) {
		switch k {
		case "user":
			u.User = time.Duration(v) * tick
		case "system":
			u.System = time.Duration(v) * tick
		}
	})
	for _, f := range strings.Fields(optional(dir, "cpuacct.usage_percpu")) {
		u.PerCPU = append(u.PerCPU, time.Duration(parseU(f)))
	}
	return u, nil
}

// parseUsageAll reads v1 cpuacct.usage_all: a "cpu user system" header,
// then "N USER SYSTEM" per CPU, in ns. false: not that shape.
func parseUsageAll(s string) (CPUUsage, bool) {
	head, rest, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if rest == "" || !fieldsAre(head, "cpu", "user", "system") {
		return CPUUsage{}, false
	}
	var u CPUUsage
	for l := range strings.Lines(rest) {
		var f [3]string
		if !fields3(l, &f) {
			return CPUUsage{}, false
		}
		cpu, err := strconv.Atoi(f[0])
		us, err1 := strconv.ParseUint(f[1], 10, 64)
		sy, err2 := strconv.ParseUint(f[2], 10, 64)
		if err != nil || err1 != nil || err2 != nil || cpu != len(u.PerCPU) || us >= 1<<61 || sy >= 1<<61 {
			return CPUUsage{}, false
		}
		u.User += time.Duration(us)
		u.System += time.Duration(sy)
		u.PerCPU = append(u.PerCPU, time.Duration(us+sy))
	}
	return u, true
}

// readIO reads the guest's I/O per device ("MAJ:MIN"): v2 io.stat, v1 the
// blkio throttle counters (which count every I/O, whatever the scheduler).
func readIO(d cgDirs) (map[string]DiskIO, error) {
	out := map[string]DiskIO{}
	if d.mode == cgroup.V2 {
		dir, _ := d.dir("io")
		if err := present(dir); err != nil {
			return nil, err
		}
		for _, line := range strings.Split(optional(dir, "io.stat"), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			var io DiskIO
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "rbytes":
					io.ReadBytes = parseU(v)
				case "wbytes":
					io.WriteBytes = parseU(v)
				case "rios":
					io.Reads = parseU(v)
				case "wios":
					io.Writes = parseU(v)
				}
			}
			out[f[0]] = io
		}
		return out, nil
	}
	dir, ok := d.dir("blkio")
	if !ok {
		return out, nil
	}
	if err := present(dir); err != nil {
		return nil, err
	}
	bytes := firstFile(dir, "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes")
	ops := firstFile(dir, "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced")
	blkio(bytes, out, func(io *DiskIO, op string, n uint64) {
		switch op {
		case "Read":
			io.ReadBytes = n
		case "Write":
			io.WriteBytes = n
		}
	})
	blkio(ops, out, func(io *DiskIO, op string, n uint64) {
		switch op {
		case "Read":
			io.Reads = n
		case "Write":
			io.Writes = n
		}
	})
	return out, nil
}

func firstFile(dir string, names ...string) string {
	for _, n := range names {
		if s := optional(dir, n); s != "" {
			return s
		}
	}
	return ""
}

// blkio reads "MAJ:MIN Op N" lines.
func blkio(s string, out map[string]DiskIO, set func(*DiskIO, string, uint64)) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.Contains(f[0], ":") {
			continue
		}
		io := out[f[0]]
		set(&io, f[1], parseU(f[2]))
		out[f[0]] = io
	}
}

// readTasks counts the guest's threads and the runnable ones among them
// (state R or D, what the kernel's load average counts), walking its
// subtree: a systemd guest keeps its processes in child cgroups. procRoot
// is "/proc" (tests pass a faked one).
func readTasks(d cgDirs, procRoot string) (running, total int, err error) {
	dir, ok := d.dir("pids")
	if !ok {
		if dir, ok = d.dir("cpu"); !ok {
			return 0, 0, nil
		}
	}
	file := "tasks"
	if d.mode == cgroup.V2 {
		file = "cgroup.threads"
	}
	if err := present(dir); err != nil {
		return 0, 0, err
	}
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil // a child cgroup removed meanwhile
		}
		for _, t := range strings.Fields(optional(p, file)) {
			total++
			stat := optional(filepath.Join(procRoot, t), "stat")
			if i := strings.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
				if s := stat[i+2]; s == 'R' || s == 'D' {
					running++
				}
			}
		}
		return nil
	})
	return running, total, err
}

// fieldsAre reports whether the whitespace-separated fields of s are want.
func fieldsAre(s string, want ...string) bool {
	i := 0
	for f := range strings.FieldsSeq(s) {
		if i == len(want) || f != want[i] {
			return false
		}
		i++
	}
	return i == len(want)
}

// fields3 splits s into exactly three whitespace-separated fields.
func fields3(s string, f *[3]string) bool {
	i := 0
	for x := range strings.FieldsSeq(s) {
		if i == 3 {
			return false
		}
		f[i] = x
		i++
	}
	return i == 3
}
