package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/procfs"
)

// The procfs section: vmlite's /proc server against LXCFS (Debian's
// lxcfs, run by the harness on a private mountpoint in the scratch
// directory against the same cgroups, stopped after) and the kernel's own
// file. A reader process (vmbench __readloop) joins the guest's cgroup and
// reads each server's file: both servers answer by the reader's cgroup
// (LXCFS for a process of the host's pid namespace, vmlite always), so it
// reads what the guest reads, without a fork per read inside the guest.
// For the latencies it reads each file through a bind of it, in a mount
// namespace of its own, as a guest does (LXC binds LXCFS's files over
// /proc as vmlite binds its own): a path through the servers' directories
// would cost each a lookup of its directories that no guest pays. Both
// servers are read before the measure (warm caches: the servers' own and
// the host's page cache of their binaries), and in rounds, one server
// after the other, so that a change of the machine's load falls on both.

// ProcFSResult is the procfs section's figures.
type ProcFSResult struct {
	Reads   int             `json:"reads"`
	Latency []ProcFSLatency `json:"latency"`
	Memory  []ProcFSMemory  `json:"memory"`
}

// ProcFSLatency is one file of one server: open, read to EOF, close.
type ProcFSLatency struct {
	File   string  `json:"file"`
	Server string  `json:"server"`
	MeanUs float64 `json:"meanUs"`
	P50Us  float64 `json:"p50Us"`
	P99Us  float64 `json:"p99Us"`
}

// ProcFSMemory is both servers' memory once every guest has been read.
type ProcFSMemory struct {
	Guests    int   `json:"guests"`
	VmliteRSS int64 `json:"vmliteRssKiB"`
	VmlitePSS int64 `json:"vmlitePssKiB"`
	LxcfsRSS  int64 `json:"lxcfsRssKiB"`
	LxcfsPSS  int64 `json:"lxcfsPssKiB"`
	// USS: the pages only that process maps (private clean + dirty);
	// Dirty: its private dirty pages alone (heap, stacks: what it made,
	// whoever else maps its binary).
	VmliteUSS   int64 `json:"vmliteUssKiB"`
	LxcfsUSS    int64 `json:"lxcfsUssKiB"`
	VmliteDirty int64 `json:"vmliteDirtyKiB"`
	LxcfsDirty  int64 `json:"lxcfsDirtyKiB"`
	AllCorrect  bool  `json:"allCorrect"`
}

// readJob is one step of the reader: join cgroups, read files.
type readJob struct {
	Join  []string `json:"join"`
	Files []string `json:"files"`
	Reads int      `json:"reads"`
	// BindDir, if set, is where the reader binds each of Files (in its own
	// mount namespace) to read it through the bind, as a guest does.
	BindDir string `json:"bindDir,omitempty"`
	// Warmup reads of each file come first and are not counted; then the
	// Reads are made in Rounds (at least 1), each file in turn.
	Warmup int `json:"warmup,omitempty"`
	Rounds int `json:"rounds,omitempty"`
	// WantKB is the MemTotal every meminfo answer must show (0: unchecked).
	WantKB uint64 `json:"wantKB"`
}

type readStat struct {
	File    string          `json:"file"`
	Samples []time.Duration `json:"samples"`
	Wrong   string          `json:"wrong,omitempty"`
}

const readLoopRole = "__readloop"

var memTotalRE = regexp.MustCompile(`(?m)^MemTotal:\s+(\d+) kB`)

// readLoop is the reader process: jobs on stdin, stats on stdout.
func readLoop() int {
	var jobs []readJob
	if err := json.NewDecoder(os.Stdin).Decode(&jobs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var out []readStat
	buf := make([]byte, 1<<20)
	for _, j := range jobs {
		for _, p := range j.Join {
			if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		paths, err := bindFiles(j, len(out))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		stats := make([]readStat, len(j.Files))
		for i, f := range j.Files {
			stats[i].File = f
			for k := 0; k < j.Warmup && stats[i].Wrong == ""; k++ {
				readOnce(paths[i], buf, j.WantKB, &stats[i])
			}
			stats[i].Samples = nil
		}
		rounds := max(j.Rounds, 1)
		for r := 0; r < rounds; r++ {
			n := j.Reads/rounds + btoi(r < j.Reads%rounds)
			for i := range j.Files {
				for k := 0; k < n && stats[i].Wrong == ""; k++ {
					readOnce(paths[i], buf, j.WantKB, &stats[i])
				}
			}
		}
		out = append(out, stats...)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readOnce opens, reads to EOF and closes path, timing it into st and
// checking a meminfo answer's MemTotal against wantKB (0: unchecked).
func readOnce(path string, buf []byte, wantKB uint64, st *readStat) {
	t0 := time.Now()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	n := 0
	for err == nil {
		var k int
		k, err = unix.Read(fd, buf[n:])
		if k <= 0 {
			break
		}
		n += k
	}
	unix.Close(fd)
	st.Samples = append(st.Samples, time.Since(t0))
	if err != nil {
		st.Wrong = err.Error()
		return
	}
	if m := memTotalRE.FindSubmatch(buf[:n]); wantKB > 0 && m != nil && string(m[1]) != strconv.FormatUint(wantKB, 10) {
		st.Wrong = fmt.Sprintf("MemTotal %s kB, want %d", m[1], wantKB)
	}
}

// bindFiles binds each of j.Files to a file of j.BindDir, named from seq
// on (the files of the jobs before are binds already; the reader runs
// in a mount namespace of its own: the binds go with it) and returns the
// paths to read.
func bindFiles(j readJob, seq int) ([]string, error) {
	if j.BindDir == "" {
		return j.Files, nil
	}
	paths := make([]string, len(j.Files))
	for i, f := range j.Files {
		paths[i] = filepath.Join(j.BindDir, fmt.Sprintf("%d-%s", seq+i, filepath.Base(f)))
		if err := os.WriteFile(paths[i], nil, 0o644); err != nil {
			return nil, err
		}
		if err := unix.Mount(f, paths[i], "", unix.MS_BIND, ""); err != nil {
			return nil, fmt.Errorf("bind %s on %s: %w", f, paths[i], err)
		}
	}
	return paths, nil
}

func runReader(jobs []readJob) ([]readStat, error) {
	in, _ := json.Marshal(jobs)
	cmd := exec.Command("/proc/self/exe", readLoopRole)
	// A mount namespace of its own, private (Go makes / MS_PRIVATE|MS_REC
	// first): its binds (BindDir) go with it.
	cmd.SysProcAttr = &unix.SysProcAttr{Unshareflags: unix.CLONE_NEWNS}
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reader: %v: %s", err, stderr.String())
	}
	var st []readStat
	return st, json.Unmarshal(out, &st)
}

func quantile(xs []time.Duration, q float64) float64 {
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return float64(s[int(q*float64(len(s)-1))].Nanoseconds()) / 1e3
}

func mean(xs []time.Duration) float64 {
	var sum time.Duration
	for _, x := range xs {
		sum += x
	}
	if len(xs) == 0 {
		return 0
	}
	return float64(sum.Nanoseconds()) / 1e3 / float64(len(xs))
}

// procfsAll runs the section.
func (b *bench) procfsAll() {
	r, err := b.procfsRun()
	if err != nil {
		b.note("procfs section: %v", err)
	}
	b.res.ProcFS = r
}

func (b *bench) procfsRun() (*ProcFSResult, error) {
	p := b.vm
	// A binary just built has dirty page cache until written back, which
	// smaps counts as the server's private dirty memory: write it first.
	if f, err := os.Open(p.bin); err == nil {
		_ = f.Sync()
		f.Close()
	}
	rootfs := filepath.Join(b.work, "procfs-base")
	if _, err := run("cp", "-a", filepath.Join(b.work, "base"), rootfs); err != nil {
		return nil, err
	}
	g, err := b.guestFor(p, "vmb-pf0", rootfs)
	if err != nil {
		return nil, err
	}
	if _, err := runCmd(p.startCmd(g)); err != nil {
		return nil, err
	}
	l := procfs.NewLayout(filepath.Join(p.root, "run"))
	defer func() {
		p.cleanupGuest(g)
		// The server ends with its last guest: before the scratch goes.
		end := time.Now().Add(20 * time.Second)
		for serverPid(l.Dir) != 0 && time.Now().Before(end) {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if _, err := waitFile(g.marker(), 60*time.Second); err != nil {
		return nil, err
	}
	server := serverPid(l.Dir)
	if server == 0 {
		return nil, errors.New("no vmlite /proc server runs")
	}
	lx := filepath.Join(b.work, "lxcfs")
	stopLxcfs, lxPid, err := startLxcfs(lx)
	if err != nil {
		return nil, err
	}
	defer stopLxcfs()
	join, err := filepath.Glob("/sys/fs/cgroup/*/vmlite/machine/vmb-pf0.*/cgroup.procs")
	if err != nil || len(join) == 0 {
		join, _ = filepath.Glob("/sys/fs/cgroup/vmlite/machine/vmb-pf0.*/cgroup.procs")
	}
	if len(join) == 0 {
		return nil, errors.New("the guest's cgroup is not found")
	}
	res := &ProcFSResult{Reads: b.o.procfsReads}
	binds := filepath.Join(b.work, "procfs-binds")
	if err := os.MkdirAll(binds, 0o755); err != nil {
		return res, err
	}
	servers := []string{"kernel", "vmlite", "lxcfs"}
	dirs := map[string]string{"vmlite": l.GuestFiles("vmb-pf0"), "lxcfs": lx, "kernel": "/"}
	for _, name := range []string{"meminfo", "stat"} {
		var fs []string
		for _, srv := range servers {
			fs = append(fs, filepath.Join(dirs[srv], "proc", name))
		}
		// The kernel's MemTotal is the host's: only the servers' are checked,
		// each answer of both (readOnce checks what has a MemTotal).
		want := uint64(0)
		if name == "meminfo" {
			want = 256 * 1024
		}
		job := readJob{Join: join, Files: fs[1:], Reads: b.o.procfsReads, BindDir: binds, Warmup: 50, Rounds: 10, WantKB: want}
		kjob := readJob{Files: fs[:1], Reads: b.o.procfsReads, BindDir: binds, Warmup: 50, Rounds: 1}
		st, err := runReader([]readJob{kjob, job})
		if err != nil {
			return res, err
		}
		for i, s := range st {
			srv := servers[i]
			if s.Wrong != "" {
				b.note("procfs: %s %s: %s", srv, s.File, s.Wrong)
			}
			res.Latency = append(res.Latency, ProcFSLatency{File: "/proc/" + name, Server: srv,
				MeanUs: mean(s.Samples), P50Us: quantile(s.Samples, 0.5), P99Us: quantile(s.Samples, 0.99)})
		}
	}
	m, err := procfsMemory(l, server, lxPid, lx, 1, nil)
	if err != nil {
		return res, err
	}
	res.Memory = append(res.Memory, m)
	for _, n := range parseInts(b.o.procfsGuests) {
		m, err := procfsMemoryN(l, server, lxPid, lx, n)
		if err != nil {
			return res, err
		}
		res.Memory = append(res.Memory, m)
	}
	return res, nil
}

func procfsMemory(l procfs.Layout, server, lxPid int, lx string, n int, jobs []readJob) (ProcFSMemory, error) {
	m := ProcFSMemory{Guests: n, AllCorrect: true}
	if jobs != nil {
		st, err := runReader(jobs)
		if err != nil {
			return m, err
		}
		for _, s := range st {
			if s.Wrong != "" {
				m.AllCorrect = false
			}
		}
	}
	vr, err := readRollup(server)
	if err != nil {
		return m, err
	}
	lr, err := readRollup(lxPid)
	if err != nil {
		return m, err
	}
	m.VmliteRSS, m.VmlitePSS, m.LxcfsRSS, m.LxcfsPSS = vr.RSS, vr.PSS, lr.RSS, lr.PSS
	m.VmliteUSS, m.LxcfsUSS = vr.USS(), lr.USS()
	m.VmliteDirty, m.LxcfsDirty = vr.PrivateDirty, lr.PrivateDirty
	return m, nil
}

// procfsMemoryN serves n more guests: memory cgroups of their own (vmlite
// writes below its vmlite/ directory only: vmlite/bench-procfs/gI, each
// with its own limit) registered with the server as its supervisors would,
// each read once by a reader in it from both servers.
func procfsMemoryN(l procfs.Layout, server, lxPid int, lx string, n int) (ProcFSMemory, error) {
	memRoot := "/sys/fs/cgroup/memory"
	limitFile := "memory.limit_in_bytes"
	if _, err := os.Stat(memRoot); err != nil {
		memRoot, limitFile = "/sys/fs/cgroup", "memory.max"
	}
	parent := filepath.Join(memRoot, "vmlite", "bench-procfs")
	var jobs []readJob
	defer func() {
		for i := 0; i < n; i++ {
			_ = l.Unregister(fmt.Sprintf("bp%d", i))
			_ = os.Remove(filepath.Join(parent, fmt.Sprintf("g%d", i)))
		}
		_ = os.Remove(parent)
	}()
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return ProcFSMemory{}, err
	}
	for i := 0; i < n; i++ {
		dir := filepath.Join(parent, fmt.Sprintf("g%d", i))
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return ProcFSMemory{}, err
		}
		limit := uint64(64+i) << 20
		if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatUint(limit, 10)), 0); err != nil {
			return ProcFSMemory{}, err
		}
		name := fmt.Sprintf("bp%d", i)
		if err := l.Register(procfs.Entry{Name: name, Partition: "/bench-procfs", CgroupDir: fmt.Sprintf("g%d", i), Start: procfs.Boottime()}); err != nil {
			return ProcFSMemory{}, err
		}
		jobs = append(jobs, readJob{Join: []string{filepath.Join(dir, "cgroup.procs")}, Reads: 1, WantKB: limit >> 10,
			Files: []string{filepath.Join(l.GuestFiles(name), "proc/meminfo"), filepath.Join(lx, "proc/meminfo")}})
	}
	// The reader leaves the last cgroup before it is removed.
	jobs = append(jobs, readJob{Join: []string{filepath.Join(memRoot, "cgroup.procs")}})
	return procfsMemory(l, server, lxPid, lx, n+1, jobs)
}

func parseInts(s string) []int {
	var out []int
	for _, f := range splitList(s) {
		if n, err := strconv.Atoi(f); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// serverPid finds the vmlite /proc server of the layout directory dir.
func serverPid(dir string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 3 && args[1] == procfs.Role && args[2] == dir {
			n, _ := strconv.Atoi(e.Name())
			return n
		}
	}
	return 0
}

// startLxcfs runs lxcfs in the foreground on mnt until stop.
func startLxcfs(mnt string) (stop func(), pid int, err error) {
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return nil, 0, err
	}
	cmd := exec.Command("lxcfs", "-f", "-p", mnt+".pid", mnt)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("lxcfs (Debian package lxcfs): %w", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(unix.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = unix.Unmount(mnt, unix.MNT_DETACH)
	}
	end := time.Now().Add(20 * time.Second)
	for time.Now().Before(end) {
		var st unix.Statfs_t
		if unix.Statfs(filepath.Join(mnt, "proc"), &st) == nil && st.Type == 0x65735546 {
			return stop, cmd.Process.Pid, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return nil, 0, fmt.Errorf("lxcfs did not mount %s: %s", mnt, out.String())
}
