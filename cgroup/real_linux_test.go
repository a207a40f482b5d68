package cgroup

// Tests against the host's real cgroups. They need root, create everything
// below vmlite/<unique partition>/ and remove it again, also on failure.
// They run on either kind of host: Detect picks the mode.

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
	"vmlite/plan"
)

func randSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// realManager creates a cgroup for this test on the host and removes it at
// the end: processes killed, directories gone, the test's partition gone.
func realManager(t *testing.T, fsRoot string, mode Mode, l plan.Limits) *manager {
	t.Helper()
	testutil.RequireRoot(t)
	sfx := randSuffix(t)
	c := plan.Cgroup{Partition: "/test-" + sfx, Name: "g-" + sfx, Limits: l}
	mgr, err := New(fsRoot, mode, c)
	if err != nil {
		t.Fatal(err)
	}
	m := mgr.(*manager)
	err = m.Create()
	var w Warnings
	if errors.As(err, &w) {
		t.Logf("warnings: %v", w)
		err = nil
	}
	if err != nil {
		_ = m.Destroy()
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Kill(); err != nil {
			t.Errorf("cleanup Kill: %v", err)
		}
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup Destroy: %v", err)
		}
		for _, h := range m.hs {
			if part := filepath.Join(h.root, TopDir, "test-"+sfx); exists(part) {
				t.Errorf("%s left behind", part)
			}
		}
	})
	return m
}

func hostMode(t *testing.T) Mode {
	t.Helper()
	testutil.RequireRoot(t)
	mode, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	return mode
}

// started is a process the test put into a guest cgroup.
type started struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	done   chan error
}

// startIn starts cmd held at a "read" on stdin, moves it into m's cgroup (v2:
// born there through CLONE_INTO_CGROUP; v1: Apply before release), then
// releases it, so that nothing it does runs outside the cgroup.
func startIn(t *testing.T, m *manager, cmd *exec.Cmd) *started {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Not StdoutPipe: Wait, which the goroutine below calls as soon as the
	// process is released, closes that pipe's read end when the process
	// exits, which can be before the test has read what it wrote ("read
	// |0: file already closed"). This read end is the test's to close.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd.Stdout = w
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if m.mode == V2 {
		fd, err := m.CgroupFD()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(out), done: make(chan error, 1)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	if m.mode != V2 {
		if err := m.Apply(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	return s
}

func (s *started) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(d):
		t.Fatalf("%v still running after %v", s.cmd.Args, d)
		return nil
	}
}

// guestFile is file in the guest's directory of the hierarchy with ctrl
// (v2: the one tree).
func guestFile(m *manager, ctrl, file string) string {
	if m.mode == V2 {
		return filepath.Join(m.leaf(m.hs[0]), file)
	}
	return filepath.Join(m.Paths()[ctrl], file)
}

func sleeper() *exec.Cmd { return exec.Command("sh", "-c", "read x; exec sleep 1000") }

func TestRealLifecycle(t *testing.T) {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{MemoryBytes: 64 * mib, PidsMax: 100})
	t.Logf("host mode %v; paths %v", mode, m.Paths())
	memFile, wantMem := guestFile(m, "memory", "memory.limit_in_bytes"), "67108864"
	if mode == V2 {
		memFile = guestFile(m, "memory", "memory.max")
	}
	if got, _ := readString(memFile); got != wantMem {
		t.Errorf("%s = %q, want %s", memFile, got, wantMem)
	}

	s := startIn(t, m, sleeper())
	pid := s.cmd.Process.Pid
	testutil.WaitFor(t, 10*time.Second, "sleep to exec", func() bool {
		b, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), "comm"))
		return strings.TrimSpace(string(b)) == "sleep"
	})
	procs, err := m.Procs()
	if err != nil || len(procs) != 1 || procs[0] != pid {
		t.Errorf("Procs = %v, %v; want [%d]", procs, err, pid)
	}
	cg, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), "cgroup"))
	for _, line := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		if !strings.HasSuffix(line, "/"+m.rel) {
			t.Errorf("/proc/%d/cgroup line %q: not in %s", pid, line, m.rel)
		}
	}

	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats:\n%s", st)
	if st.MemoryLimit != 64*mib || st.Pids != 1 || st.PidsMax != 100 || st.MemoryUsage == 0 {
		t.Errorf("Stats = %+v: want limit 64 MiB, 1 of 100 pids, some memory used", st)
	}

	// Live change, as setmem does.
	if err := m.Set(plan.Limits{MemoryBytes: 128 * mib, PidsMax: 100}); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Stats(); st.MemoryLimit != 128*mib {
		t.Errorf("after Set: memory limit %d, want 128 MiB", st.MemoryLimit)
	}

	if err := m.Delegate(100000, 100000); err != nil {
		t.Fatal(err)
	}
	for _, dir := range m.Paths() {
		if uid, _ := owner(t, dir); uid != 100000 {
			t.Errorf("%s owned by %d after Delegate", dir, uid)
		}
	}

	if err := m.Destroy(); !errors.Is(err, ErrBusy) {
		t.Errorf("Destroy with a live process = %v, want ErrBusy", err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t, 10*time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("sleep ended with %v, want killed", err)
	}
	if procs, _ := m.Procs(); len(procs) != 0 {
		t.Errorf("Procs after Kill = %v", procs)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range m.Paths() {
		if exists(dir) {
			t.Errorf("%s left after Destroy", dir)
		}
	}
}

// TestRealOOM: a guest that allocates 200 MiB under a 64 MiB limit is
// killed inside its cgroup; a neighbour guest and the host go on.
func TestRealOOM(t *testing.T) {
	mode := hostMode(t)
	// No swap either, so that a host with swap also OOMs.
	victim := realManager(t, DefaultRoot, mode, plan.Limits{MemoryBytes: 64 * mib, SwapBytes: 64 * mib})
	neighbour := realManager(t, DefaultRoot, mode, plan.Limits{MemoryBytes: 64 * mib})
	n := startIn(t, neighbour, sleeper())

	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=alloc")
	v := startIn(t, victim, cmd)
	err := v.wait(t, 60*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("allocating helper ended with %v, want SIGKILL by the OOM killer", err)
	}
	st, err := victim.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("victim stats after OOM:\n%s", st)
	if st.OOMKills < 1 {
		t.Errorf("OOMKills = %d, want >= 1", st.OOMKills)
	}
	if err := syscall.Kill(n.cmd.Process.Pid, 0); err != nil {
		t.Errorf("neighbour guest's process died: %v", err)
	}
	if st, _ := neighbour.Stats(); st.OOMKills != 0 {
		t.Errorf("neighbour OOMKills = %d, want 0", st.OOMKills)
	}
}

// TestRealPidsLimit: a shell that starts 50 sleeps in a guest limited to 20
// tasks hits the limit; the guest never holds more than 20.
func TestRealPidsLimit(t *testing.T) {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{PidsMax: 20})
	sh := exec.Command("sh", "-c", `read x; i=0; while [ $i -lt 50 ]; do sleep 1000 & i=$((i+1)); done; wait`)
	sh.Stderr = io.Discard // "Cannot fork" is the point
	startIn(t, m, sh)
	events := guestFile(m, "pids", "pids.events")
	testutil.WaitFor(t, 20*time.Second, "a fork to fail at pids.max", func() bool {
		s, _ := readString(events)
		return parseFlatKeyed(s)["max"] >= 1
	})
	procs, err := m.Procs()
	if err != nil {
		t.Fatal(err)
	}
	st, _ := m.Stats()
	t.Logf("%d processes, stats: pids %d of %d", len(procs), st.Pids, st.PidsMax)
	if len(procs) > 20 || st.Pids > 20 || st.PidsMax != 20 {
		t.Errorf("%d processes (pids.current %d, max %d): want at most 20", len(procs), st.Pids, st.PidsMax)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
}

// TestRealCPUQuota: a busy loop under a 50% quota gets about half a core.
// The quota is a hard ceiling, so no 3 s window may exceed 0.75 of a core.
// The floor (0.2) only shows the loop ran; on a machine busy with other
// work a window can fall below it, so up to three windows are tried.
func TestRealCPUQuota(t *testing.T) {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{CPUPeriodUS: 100000, CPUQuotaUS: 50000})
	startIn(t, m, exec.Command("sh", "-c", "read x; while :; do :; done"))
	// Every window must stay under the cap. The quota is proven enforced
	// once the kernel throttles the loop; on a loaded host (load 15 on 2
	// cores was seen) the loop may never get half a core to exhaust its
	// quota, so up to ten windows are tried before the test gives up
	// loudly instead of asserting a CPU share the host cannot give.
	best := 0.0
	for window := 0; window < 10; window++ {
		before, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		testutil.WaitFor(t, 10*time.Second, "3s of wall time", func() bool { return time.Since(t0) >= 3*time.Second })
		after, err := m.Stats()
		wall := time.Since(t0)
		if err != nil {
			t.Fatal(err)
		}
		ratio := float64(after.CPUTime-before.CPUTime) / float64(wall)
		best = max(best, ratio)
		t.Logf("window %d: busy loop used %.3f of a core over %v (throttled %v in all)", window, ratio, wall.Round(time.Millisecond), after.CPUThrottled)
		if ratio > 0.75 {
			t.Fatalf("CPU ratio %.3f under a 50%% quota, want at most 0.75", ratio)
		}
		if after.CPUThrottled > before.CPUThrottled {
			return
		}
	}
	t.Skipf("SKIP: the kernel never throttled the loop: it got at most %.3f of a core in ten windows (host too loaded to exhaust a 50%% quota)", best)
}

// TestRealMountGuest runs MountGuest in a throwaway mount and cgroup
// namespace and checks what a guest init would see.
func TestRealMountGuest(t *testing.T) {
	// Without and with the supervisor's skeleton (SkeletonFS), and with the
	// hierarchies premounted as a pre-forked stage does (PremountV1): the
	// guest sees the same entries and mounts either way.
	var entries map[string]string
	for _, skeleton := range []string{"", "skeleton", "skeleton,premount"} {
		t.Run("skeleton="+skeleton, func(t *testing.T) {
			rep := mountGuestOnce(t, skeleton)
			if entries == nil {
				entries = rep.Entries
			} else if fmt.Sprint(rep.Entries) != fmt.Sprint(entries) {
				t.Errorf("entries with the skeleton %v, without %v", rep.Entries, entries)
			}
		})
	}
}

func mountGuestOnce(t *testing.T, skeleton string) guestReport {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{MemoryBytes: 64 * mib})
	target := filepath.Join(t.TempDir(), "cgroup")
	// The helper reads its arguments as os.Args[1:], so no test flags.
	cmd := exec.Command("/proc/self/exe", mode.String(), target, skeleton)
	cmd.Env = append(os.Environ(), helperEnv+"=mountguest")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	s := startIn(t, m, cmd)
	var rep guestReport
	if err := json.NewDecoder(s.stdout).Decode(&rep); err != nil {
		t.Fatalf("helper report: %v", err)
	}
	_ = s.wait(t, 10*time.Second)
	t.Logf("guest view: %+v", rep)
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	for _, line := range strings.Split(strings.TrimSpace(rep.Cgroup), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("guest's /proc/self/cgroup line %q: want its cgroup as /", line)
		}
	}
	if rep.Limit != "67108864" {
		t.Errorf("guest reads memory limit %q through its mount, want its own 67108864", rep.Limit)
	}
	if mode == V1 && !strings.Contains(rep.LimitWrite, "read-only") {
		t.Errorf("guest raising its own memory limit: %q, want a read-only file system", rep.LimitWrite)
	}
	if !rep.SeesSelf {
		t.Error("guest's root cgroup.procs does not list the guest")
	}
	want := map[string]string{} // mount (relative) -> fstype ro|rw
	wantWritable := map[string]bool{}
	if mode == V2 {
		want["."] = "cgroup2 rw"
		wantWritable["."] = true
	} else {
		want["."] = "tmpfs ro"
		ms, _ := os.ReadFile("/proc/self/mountinfo")
		mounts, _ := ParseMountInfo(string(ms))
		for _, hm := range CgroupMounts(mounts, DefaultRoot) {
			name := filepath.Base(hm.MountPoint)
			switch {
			case hm.FSType == "cgroup2":
				want[name] = "cgroup2 rw"
			case strings.Contains(hm.SuperOptions, "name="):
				want[name] = "cgroup rw"
			default:
				want[name] = "cgroup ro"
			}
		}
		wantWritable["."], wantWritable["memory"], wantWritable["systemd"] = false, false, true
		if _, ok := want["unified"]; ok {
			wantWritable["unified"] = true
		}
	}
	for mp, w := range want {
		if rep.Mounts[mp] != w {
			t.Errorf("guest mount %s = %q, want %q", mp, rep.Mounts[mp], w)
		}
	}
	for d, w := range wantWritable {
		if got := rep.Writable[d] == ""; got != w {
			t.Errorf("mkdir in guest's %s: writable=%v (%q), want %v", d, got, rep.Writable[d], w)
		}
	}
	return rep
}

// TestRealV2OnHybrid drives the v2 code path for real on a hybrid host's
// cgroup2 mount: directories, CLONE_INTO_CGROUP, cgroup.kill, removal. That
// tree has no memory controller here, so a memory limit must fail clearly.
func TestRealV2OnHybrid(t *testing.T) {
	if hostMode(t) != V1 {
		t.Skip("host is cgroup v2: TestRealLifecycle covers it")
	}
	uni := filepath.Join(DefaultRoot, "unified")
	if !exists(filepath.Join(uni, "cgroup.controllers")) {
		t.Skip("SKIPPED LOUDLY: v1 host without a cgroup2 mount at " + uni)
	}
	m := realManager(t, uni, V2, plan.Limits{})
	s := startIn(t, m, sleeper())
	cg, _ := os.ReadFile(filepath.Join("/proc", itoa(s.cmd.Process.Pid), "cgroup"))
	if !strings.Contains(string(cg), "0::/"+m.rel+"\n") {
		t.Errorf("child born in %q, want 0::/%s", cg, m.rel)
	}
	err := m.Set(plan.Limits{MemoryBytes: 64 * mib})
	if err == nil || !strings.Contains(err.Error(), `controller "memory" is not available`) {
		t.Errorf("Set(memory) on a tree without memory = %v, want a clear missing-controller error", err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t, 10*time.Second); err == nil {
		t.Error("sleep survived cgroup.kill")
	}
}

func TestRealDetect(t *testing.T) {
	mode := hostMode(t)
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	ms, _ := ParseMountInfo(string(mi))
	cms := CgroupMounts(ms, DefaultRoot)
	want := V1
	if len(cms) == 1 && cms[0].MountPoint == DefaultRoot && cms[0].FSType == "cgroup2" {
		want = V2
	}
	if mode != want {
		t.Errorf("Detect = %v, mountinfo says %v", mode, want)
	}
	if _, err := DetectAt(t.TempDir(), "/proc/self/mountinfo"); err == nil {
		t.Error("DetectAt(plain dir) succeeded")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRealConcurrentGuests creates and destroys guests in one shared
// partition from several goroutines at once, as several supervisors do: a
// Destroy that removes the partition while another guest is being created
// must not make that Create fail, and nothing may be left at the end.
func TestRealConcurrentGuests(t *testing.T) {
	mode := hostMode(t)
	part := "/test-" + randSuffix(t)
	t.Cleanup(func() {
		hs, _ := discover(DefaultRoot, mode)
		for _, h := range hs {
			if p := filepath.Join(h.root, TopDir, strings.TrimPrefix(part, "/")); exists(p) {
				t.Errorf("%s left behind", p)
			}
		}
	})
	const workers, rounds = 4, 15
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for r := 0; r < rounds; r++ {
				mgr, err := New(DefaultRoot, mode, plan.Cgroup{Partition: part, Name: "g" + strconv.Itoa(w), Limits: plan.Limits{PidsMax: 10}})
				if err == nil {
					if err = mgr.Create(); err == nil {
						err = mgr.Destroy()
					} else {
						_ = mgr.Destroy()
					}
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestRealMountGuestV2OnHybrid runs MountGuest's v2 path for real on this
// hybrid host's cgroup2 mount: the guest, born in its cgroup there through
// CLONE_INTO_CGROUP, sees that cgroup as the root of a writable cgroup2.
func TestRealMountGuestV2OnHybrid(t *testing.T) {
	if hostMode(t) != V1 {
		t.Skip("host is cgroup v2: TestRealMountGuest covers it")
	}
	uni := filepath.Join(DefaultRoot, "unified")
	if !exists(filepath.Join(uni, "cgroup.controllers")) {
		t.Skip("SKIPPED LOUDLY: v1 host without a cgroup2 mount at " + uni)
	}
	m := realManager(t, uni, V2, plan.Limits{})
	target := filepath.Join(t.TempDir(), "cgroup")
	cmd := exec.Command("/proc/self/exe", V2.String(), target)
	cmd.Env = append(os.Environ(), helperEnv+"=mountguest")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	s := startIn(t, m, cmd)
	var rep guestReport
	if err := json.NewDecoder(s.stdout).Decode(&rep); err != nil {
		t.Fatalf("helper report: %v", err)
	}
	_ = s.wait(t, 10*time.Second)
	t.Logf("guest view: %+v", rep)
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	if !strings.Contains(rep.Cgroup, "0::/\n") || rep.Mounts["."] != "cgroup2 rw" || !rep.SeesSelf || rep.Writable["."] != "" {
		t.Errorf("guest view %+v: want its cgroup as / on a writable cgroup2 listing itself", rep)
	}
}

// TestRealKillForker: Kill empties a guest whose shell keeps forking (held
// at 64 tasks by pids.max so it cannot hurt the host), the case that needs
// the freezer (v1) or cgroup.kill (v2).
func TestRealKillForker(t *testing.T) {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{PidsMax: 64})
	s := startIn(t, m, exec.Command("sh", "-c", "read x; while :; do sleep 1000 & done 2>/dev/null"))
	testutil.WaitFor(t, 20*time.Second, "the forker to fill its cgroup", func() bool {
		st, _ := m.Stats()
		return st.Pids >= 30
	})
	start := time.Now()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Kill took %v", time.Since(start).Round(time.Millisecond))
	if procs, _ := m.Procs(); len(procs) != 0 {
		t.Errorf("Procs after Kill = %v", procs)
	}
	_ = s.wait(t, 10*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// TestRealMountGuestUserNS is TestRealMountGuest for a guest with a user
// namespace (vmlite's default: guest root is host uid 100000), after
// Delegate: the guest's root owns its cgroup and may use it, and the
// controllers stay protected by file ownership instead of read-only mounts.
func TestRealMountGuestUserNS(t *testing.T) {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{MemoryBytes: 64 * mib})
	const hostRoot = 100000
	if err := m.Delegate(hostRoot, hostRoot); err != nil {
		t.Fatal(err)
	}
	// The mapped root must reach the helper binary and the target; the test
	// binary's own directory is root's alone.
	dir, err := os.MkdirTemp("", "vmlite-cgroup-userns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "helper")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "cgroup")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(target, hostRoot, hostRoot); err != nil {
		t.Fatal(err)
	}
	idmap := []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostRoot, Size: 65536}}
	cmd := exec.Command(exe, mode.String(), target)
	cmd.Env = append(os.Environ(), helperEnv+"=mountguest")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: idmap, GidMappings: idmap, GidMappingsEnableSetgroups: true,
		Credential: &syscall.Credential{Uid: 0, Gid: 0},
	}
	s := startIn(t, m, cmd)
	var rep guestReport
	if err := json.NewDecoder(s.stdout).Decode(&rep); err != nil {
		t.Fatalf("helper report: %v", err)
	}
	_ = s.wait(t, 10*time.Second)
	t.Logf("guest view: %+v", rep)
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	if !rep.UserNS {
		t.Error("helper did not run in a user namespace")
	}
	for _, line := range strings.Split(strings.TrimSpace(rep.Cgroup), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("guest's /proc/self/cgroup line %q: want its cgroup as /", line)
		}
	}
	if rep.Limit != "67108864" || !rep.SeesSelf {
		t.Errorf("guest reads limit %q, sees itself %v: want its own cgroup", rep.Limit, rep.SeesSelf)
	}
	if !strings.Contains(rep.LimitWrite, "permission denied") {
		t.Errorf("guest root raising its own memory limit: %q, want permission denied", rep.LimitWrite)
	}
	want := map[string]string{".": "cgroup2 rw"}
	writable := []string{"."}
	if mode == V1 {
		want = map[string]string{".": "tmpfs rw", "memory": "cgroup rw", "systemd": "cgroup rw"}
		writable = []string{".", "memory", "systemd"}
	}
	for mp, w := range want {
		if rep.Mounts[mp] != w {
			t.Errorf("guest mount %s = %q, want %q", mp, rep.Mounts[mp], w)
		}
	}
	for _, d := range writable {
		if e, ok := rep.Writable[d]; !ok || e != "" {
			t.Errorf("guest root cannot mkdir in its delegated %s: %q", d, e)
		}
	}
}

// TestRealNestedKillDestroy: the cgroups a guest makes below its own (a
// systemd guest's slices) are seen by Procs, refused by Destroy while a
// process lives in one, and removed children first after Kill. It also
// checks the link-count rule that lets a childless cgroup skip its
// listing (walkCgroups) on the real cgroupfs.
func TestRealNestedKillDestroy(t *testing.T) {
	mode := hostMode(t)
	m := realManager(t, DefaultRoot, mode, plan.Limits{})
	for _, h := range m.hs {
		leaf := m.leaf(h)
		if ok, err := noSubdirs(leaf); err != nil || !ok {
			t.Fatalf("noSubdirs(%s) = %v, %v before any child; want true (link count 2)", leaf, ok, err)
		}
		parent := leaf
		for _, d := range []string{"a", "a/b"} {
			dir := filepath.Join(leaf, d)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			// A v1 cpuset child starts with no CPUs and memory nodes,
			// and takes no process until given its parent's.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := readString(filepath.Join(parent, f)); err == nil && !exists(filepath.Join(dir, "cgroup.controllers")) {
					if err := writeFile(filepath.Join(dir, f), v); err != nil {
						t.Fatal(err)
					}
				}
			}
			parent = dir
		}
		if ok, err := noSubdirs(leaf); err != nil || ok {
			t.Fatalf("noSubdirs(%s) = %v, %v with a child; want false", leaf, ok, err)
		}
	}
	s := startIn(t, m, sleeper())
	pid := s.cmd.Process.Pid
	for _, h := range m.hs {
		if err := writeFile(filepath.Join(m.leaf(h), "a", "b", "cgroup.procs"), itoa(pid)); err != nil {
			t.Fatal(err)
		}
	}
	if procs, err := m.Procs(); err != nil || len(procs) != 1 || procs[0] != pid {
		t.Errorf("Procs = %v, %v; want [%d] (in a/b)", procs, err, pid)
	}
	if err := m.Destroy(); !errors.Is(err, ErrBusy) {
		t.Errorf("Destroy with a live process in a/b = %v, want ErrBusy", err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t, 10*time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("sleep ended with %v, want killed", err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, h := range m.hs {
		if leaf := m.leaf(h); exists(leaf) {
			t.Errorf("%s left after Destroy", leaf)
		}
	}
}
