//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// installHostTool copies a dynamically linked host program (procps's free
// and uptime read /proc/meminfo and /proc/uptime; busybox's use sysinfo(2),
// which no /proc server can change) with the libraries ldd names into a
// guest's root.
func installHostTool(t *testing.T, rootfs, prog string) {
	t.Helper()
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v (install procps: scripts/install-deps.sh)", prog, err)
	}
	files := []string{prog}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(rootfs, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(dst) // busybox's applet link
		if err := copyFile(real, dst, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// procfsGuest makes a busybox guest with memory MiB, extra XML in <domain>
// and procps's free and uptime installed.
func (h *harness) procfsGuest(name string, idmap bool, memMiB int, extra string) (xmlPath, rootfs string) {
	h.t.Helper()
	xmlPath, rootfs = h.busybox(name, idmap)
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		h.t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "<memory"), strings.Index(doc, "</memory>")+len("</memory>")
	doc = doc[:start] + fmt.Sprintf(`<memory unit="MiB">%d</memory>`, memMiB) + extra + doc[end:]
	if err := os.WriteFile(xmlPath, []byte(doc), 0o644); err != nil {
		h.t.Fatal(err)
	}
	installHostTool(h.t, rootfs, "/usr/bin/free")
	installHostTool(h.t, rootfs, "/usr/bin/uptime")
	return xmlPath, rootfs
}

// execOut runs a shell command in the guest and returns its stdout.
func (h *harness) execOut(name, script string) string {
	h.t.Helper()
	return h.must("exec", name, "--", "sh", "-c", script).stdout
}

func hostUptime(t *testing.T) float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return v
}

var (
	memTotalRe = regexp.MustCompile(`(?m)^MemTotal:\s+(\d+) kB$`)
	freeMemRe  = regexp.MustCompile(`(?m)^Mem:\s+(\d+)\s`)
	topMemRe   = regexp.MustCompile(`(?m)^Mem: (\d+)K used, (\d+)K free`)
)

func atoiMatch(t *testing.T, re *regexp.Regexp, s string, group int) int {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %v in %q", re, s)
	}
	v, _ := strconv.Atoi(m[group])
	return v
}

// TestProcFSGuestView: mapped and unmapped guests see their own memory
// limit (free, /proc/meminfo, top), their CPUs (cpuinfo, cpu/online,
// nproc from the cpuset; a quota alone narrows cpuinfo), their own uptime,
// read-only files, a live setmem at once; an opted-out guest sees the
// host's. vmlite status says which.
func TestProcFSGuestView(t *testing.T) {
	h := newHarness(t)
	for _, idmap := range []bool{false, true} {
		t.Run(fmt.Sprintf("idmap=%v", idmap), func(t *testing.T) {
			name := h.uniqueName("it-procfs")
			xmlPath, _ := h.procfsGuest(name, idmap, 96, `<vcpu cpuset="0">1</vcpu>`)
			before := hostUptime(t)
			h.must("start", xmlPath)
			defer h.must("destroy", name)
			h.waitConsole(name, "vmlite-guest: BOOTED")

			out := h.execOut(name, "cat /proc/meminfo")
			if got := atoiMatch(t, memTotalRe, out, 1); got != 96*1024 {
				t.Errorf("MemTotal %d kB, want %d", got, 96*1024)
			}
			if got := atoiMatch(t, freeMemRe, h.execOut(name, "/usr/bin/free -k"), 1); got != 96*1024 {
				t.Errorf("free -k: total %d, want %d", got, 96*1024)
			}
			top := h.execOut(name, "top -bn1 | head -3")
			used, free := atoiMatch(t, topMemRe, top, 1), atoiMatch(t, topMemRe, top, 2)
			if used+free != 96*1024 {
				t.Errorf("top: %dK used + %dK free, want %dK:\n%s", used, free, 96*1024, top)
			}
			if !strings.Contains(top, "Load average: ") {
				t.Errorf("top has no load average:\n%s", top)
			}
			for script, want := range map[string]string{
				"grep -c processor /proc/cpuinfo":     "1",
				"nproc":                               "1",
				"cat /sys/devices/system/cpu/online":  "0",
				"grep -c '^cpu[0-9]' /proc/stat":      "1",
				"echo x > /proc/meminfo && echo rw":   "",
				"cat /proc/loadavg | cut -d' ' -f1-3": "",
			} {
				got := strings.TrimSpace(h.run("exec", name, "--", "sh", "-c", script).stdout)
				if want != "" && got != want || want == "" && got == "rw" {
					t.Errorf("%s: %q, want %q", script, got, want)
				}
			}
			up, _ := strconv.ParseFloat(strings.Fields(h.execOut(name, "cat /proc/uptime"))[0], 64)
			after := hostUptime(t)
			if up > after-before+0.01 {
				t.Errorf("guest uptime %.2f s, but it started at most %.2f s ago", up, after-before)
			}
			if u := h.execOut(name, "/usr/bin/uptime"); !strings.Contains(u, "up 0 min") && !strings.Contains(u, "up 1 min") {
				t.Errorf("uptime: %q, want a guest just started", u)
			}
			if st := h.must("status", name).stdout; !strings.Contains(st, "96.0 MiB") || !strings.Contains(st, "/proc files:") {
				t.Errorf("status does not say what the guest sees:\n%s", st)
			}

			h.must("setmem", name, "48M")
			if got := atoiMatch(t, memTotalRe, h.execOut(name, "cat /proc/meminfo"), 1); got != 48*1024 {
				t.Errorf("after setmem 48M: MemTotal %d kB", got)
			}
			if got := atoiMatch(t, freeMemRe, h.execOut(name, "/usr/bin/free -k"), 1); got != 48*1024 {
				t.Errorf("after setmem 48M: free -k total %d", got)
			}
		})
	}
	t.Run("quota", func(t *testing.T) {
		// Two host CPUs at most here: a quota of one CPU shows one.
		name := h.uniqueName("it-procfs-q")
		xmlPath, _ := h.procfsGuest(name, true, 64, `<vcpu>1</vcpu>`)
		h.must("start", xmlPath)
		defer h.must("destroy", name)
		if got := strings.TrimSpace(h.execOut(name, "grep -c processor /proc/cpuinfo; cat /sys/devices/system/cpu/online")); got != "1\n0" {
			t.Errorf("cpuinfo processors and online with a 1-CPU quota: %q", got)
		}
	})
	t.Run("no server", func(t *testing.T) {
		// A server that cannot mount (here: its mountpoint is a file; on
		// a host without FUSE: no /dev/fuse) does not keep guests from
		// starting: they read the host's files, and status says so.
		h := newHarness(t)
		if err := os.MkdirAll(filepath.Join(h.root, "run", "procfs"), 0o711); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.root, "run", "procfs", "mnt"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		name := h.uniqueName("it-procfs-nosrv")
		xmlPath, _ := h.procfsGuest(name, true, 64, "")
		h.must("start", xmlPath)
		defer h.must("destroy", name)
		host, _ := os.ReadFile("/proc/meminfo")
		if got, want := atoiMatch(t, memTotalRe, h.execOut(name, "cat /proc/meminfo"), 1), atoiMatch(t, memTotalRe, string(host), 1); got != want {
			t.Errorf("guest without a server: MemTotal %d kB, want the host's %d", got, want)
		}
		if st := h.must("status", name).stdout; !strings.Contains(st, "could not start") {
			t.Errorf("status of a guest without a server:\n%s", st)
		}
		if sv, _ := os.ReadFile(filepath.Join(h.root, "log", name+".supervisor.log")); !strings.Contains(string(sv), "start the /proc server") {
			t.Errorf("the supervisor log does not say why:\n%s", sv)
		}
	})
	t.Run("off", func(t *testing.T) {
		name := h.uniqueName("it-procfs-off")
		xmlPath, _ := h.procfsGuest(name, true, 64, `<metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:procfs state="off"/></vmlite:config></metadata>`)
		h.must("start", xmlPath)
		defer h.must("destroy", name)
		host, _ := os.ReadFile("/proc/meminfo")
		want := atoiMatch(t, memTotalRe, string(host), 1)
		if got := atoiMatch(t, memTotalRe, h.execOut(name, "cat /proc/meminfo"), 1); got != want {
			t.Errorf("opted-out guest: MemTotal %d kB, want the host's %d", got, want)
		}
		if st := h.must("status", name).stdout; !strings.Contains(st, "/proc files: the host's") {
			t.Errorf("status of an opted-out guest:\n%s", st)
		}
	})
}

// TestProcFSManyGuests: guests with different limits reading at once each
// see their own, through read(2) (grep) and sendfile (busybox cat), which
// goes through the page cache: no answer is another guest's.
func TestProcFSManyGuests(t *testing.T) {
	n := 20
	if s := os.Getenv("VMLITE_PROCFS_GUESTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	h := newHarness(t)
	xmlPath, _ := h.procfsGuest("tmpl", false, 64, "")
	tmpl, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = h.uniqueName(fmt.Sprintf("it-procfs-%d", i))
		doc := strings.Replace(string(tmpl), "<name>tmpl</name>", "<name>"+names[i]+"</name>", 1)
		doc = strings.Replace(doc, `<memory unit="MiB">64</memory>`, fmt.Sprintf(`<memory unit="MiB">%d</memory>`, 64+i), 1)
		// Transient guests from one rootfs: each its own name and limit.
		h.must("start", h.writeXML(names[i], doc))
	}
	defer func() {
		for _, nm := range names {
			h.run("destroy", nm)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i, nm := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("%d", (64+i)*1024)
			r := h.run("exec", nm, "--", "sh", "-c",
				`i=0; while [ $i -lt 25 ]; do grep MemTotal /proc/meminfo; cat /proc/meminfo | head -1; i=$((i+1)); done`)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if r.code != 0 || len(lines) != 50 {
				errs <- fmt.Sprintf("%s: %d lines, %v", nm, len(lines), r)
				return
			}
			for _, l := range lines {
				if f := strings.Fields(l); len(f) != 3 || f[1] != want {
					errs <- fmt.Sprintf("%s (limit %s kB) read %q", nm, want, l)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// procfsServers lists the /proc servers of the state root root.
func procfsServers(root string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || procZombie(e.Name()) {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 3 && args[1] == "__procfs" && args[2] == filepath.Join(root, "run", "procfs") {
			pid, _ := strconv.Atoi(e.Name())
			out = append(out, pid)
		}
	}
	return out
}

// procfsMounts lists the /proc server's mounts under root in this mount
// namespace.
func procfsMounts(root string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.Contains(l, " - fuse.vmlite ") && strings.HasPrefix(f[4], root+"/") {
			out = append(out, f[4])
		}
	}
	return out
}

// TestProcFSServerRestart: kill -9 of the server while guests read in a
// loop: no read hangs or shows wrong numbers (they fail while no server
// runs), a supervisor starts a new server, which binds its files into the
// running guests again, and they are served again.
func TestProcFSServerRestart(t *testing.T) {
	h := newHarness(t)
	var names, roots []string
	for i, idmap := range []bool{false, true} {
		name := h.uniqueName(fmt.Sprintf("it-procfs-kill%d", i))
		xmlPath, rootfs := h.procfsGuest(name, idmap, 80+i, "")
		h.must("start", xmlPath)
		defer h.run("destroy", name)
		names, roots = append(names, name), append(roots, rootfs)
	}
	servers := procfsServers(h.root)
	if len(servers) != 1 {
		t.Fatalf("one /proc server expected for two guests, found %v", servers)
	}
	old := servers[0]
	type loop struct {
		r    result
		done chan struct{}
	}
	loops := make([]*loop, len(names))
	for i, nm := range names {
		l := &loop{done: make(chan struct{})}
		loops[i] = l
		go func() {
			defer close(l.done)
			l.r = h.run("exec", nm, "--", "sh", "-c",
				`i=0; while [ $i -lt 400 ]; do grep MemTotal /proc/meminfo 2>/dev/null || echo FAILED; i=$((i+1)); echo $i > /progress; done`)
		}()
	}
	// The kill lands while both guests read.
	for _, r := range roots {
		testutil.WaitFor(t, 60*time.Second, "guests reading", func() bool {
			b, _ := os.ReadFile(filepath.Join(r, "progress"))
			n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return n >= 20
		})
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i, l := range loops {
		select {
		case <-l.done:
		case <-time.After(120 * time.Second):
			t.Fatalf("reads in %s hang after the server was killed", names[i])
		}
		want := fmt.Sprintf("%d", (80+i)*1024)
		t.Logf("%s: %d of 400 reads failed while no server ran", names[i], strings.Count(l.r.stdout, "FAILED"))
		for _, line := range strings.Split(strings.TrimSpace(l.r.stdout), "\n") {
			if f := strings.Fields(line); line != "FAILED" && (len(f) != 3 || f[1] != want) {
				t.Errorf("%s (limit %s kB) read %q", names[i], want, line)
			}
		}
	}
	testutil.WaitFor(t, 30*time.Second, "a new /proc server", func() bool {
		s := procfsServers(h.root)
		return len(s) == 1 && s[0] != old
	})
	for i, nm := range names {
		testutil.WaitFor(t, 30*time.Second, nm+" served again", func() bool {
			r := h.run("exec", nm, "--", "grep", "MemTotal", "/proc/meminfo")
			return r.code == 0 && strings.Fields(r.stdout)[1] == fmt.Sprintf("%d", (80+i)*1024)
		})
	}
	// A host process reading the mount gets the host's numbers.
	mine, _ := os.ReadFile(filepath.Join(h.root, "run", "procfs", "mnt", "proc", "meminfo"))
	host, _ := os.ReadFile("/proc/meminfo")
	if atoiMatch(t, memTotalRe, string(mine), 1) != atoiMatch(t, memTotalRe, string(host), 1) {
		t.Errorf("a host reader of the server got %q", mine)
	}
}

// TestProcFSServerStopped: a SIGSTOPped server (or a hung one) would hang
// every read in every guest for good, and a stopped server still holds its
// lock, so it is not restarted as a dead one is. The supervisors' guard
// sees it stopped, aborts its FUSE connection (the waiting read fails at
// once) and kills it; a new server binds its files into the guest again.
func TestProcFSServerStopped(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-procfs-stop")
	xmlPath, _ := h.procfsGuest(name, false, 72, "")
	h.must("start", xmlPath)
	defer h.run("destroy", name)
	h.mustWaitMemTotal(name, "73728")
	servers := procfsServers(h.root)
	if len(servers) != 1 {
		t.Fatalf("one /proc server expected, found %v", servers)
	}
	old := servers[0]
	// Never left stopped, whatever happens below (it is this test's).
	defer func() { _ = syscall.Kill(old, syscall.SIGCONT) }()
	if err := syscall.Kill(old, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	t0 := time.Now()
	go func() {
		done <- h.run("exec", name, "--", "sh", "-c", `cat /proc/meminfo > /tmp/m; echo "rc=$?"; grep MemTotal /tmp/m`)
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("a read of /proc/meminfo in the guest hangs on a stopped server")
	}
	t.Logf("the read returned after %s: %q %q", time.Since(t0).Round(time.Millisecond), r.stdout, r.stderr)
	// Either the guest's numbers (the read came before the stop took
	// effect, or after the new server) or an error: never the host's.
	if f := strings.Fields(r.stdout); !strings.Contains(r.stdout, "rc=1") && (len(f) < 4 || f[0] != "rc=0" || f[2] != "73728") {
		t.Errorf("the read in the guest gave %q, want an error or MemTotal 73728 kB", r.stdout)
	}
	testutil.WaitFor(t, 60*time.Second, "the stopped server killed and a new one started", func() bool {
		s := procfsServers(h.root)
		return len(s) == 1 && s[0] != old
	})
	h.mustWaitMemTotal(name, "73728")
}

// TestProcFSServerHung: a server that is not stopped but answers nothing
// (here: every thread in a ptrace stop, state t, which the guard does not
// take for a SIGSTOP) is found by its unanswered statfs probe instead:
// the waiting read fails after about 10 s and a new server serves.
func TestProcFSServerHung(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-procfs-hung")
	xmlPath, _ := h.procfsGuest(name, false, 68, "")
	h.must("start", xmlPath)
	defer h.run("destroy", name)
	h.mustWaitMemTotal(name, "69632")
	servers := procfsServers(h.root)
	if len(servers) != 1 {
		t.Fatalf("one /proc server expected, found %v", servers)
	}
	old := servers[0]
	// The tracer is one thread: ptrace requests come from the thread that
	// attached. Every thread of the server is stopped. Once the guard has
	// killed it, it stays a zombie traced by this process until the test
	// binary exits (its files, /dev/fuse among them, are closed already);
	// the detach below is for a server that was not killed.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", old))
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		if err := unix.PtraceSeize(tid); err != nil {
			t.Fatalf("ptrace seize %d: %v", tid, err)
		}
		tids = append(tids, tid)
	}
	defer func() {
		for _, tid := range tids {
			_ = unix.PtraceDetach(tid) // ESRCH once killed
		}
	}()
	for _, tid := range tids {
		if err := unix.PtraceInterrupt(tid); err != nil {
			t.Fatalf("ptrace interrupt %d: %v", tid, err)
		}
	}
	done := make(chan result, 1)
	t0 := time.Now()
	go func() {
		done <- h.run("exec", name, "--", "sh", "-c", `cat /proc/meminfo > /tmp/m; echo "rc=$?"; grep MemTotal /tmp/m`)
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("a read of /proc/meminfo in the guest hangs on a hung server")
	}
	t.Logf("the read returned after %s: %q %q", time.Since(t0).Round(time.Millisecond), r.stdout, r.stderr)
	if f := strings.Fields(r.stdout); !strings.Contains(r.stdout, "rc=1") && (len(f) < 4 || f[0] != "rc=0" || f[2] != "69632") {
		t.Errorf("the read in the guest gave %q, want an error or MemTotal 69632 kB", r.stdout)
	}
	testutil.WaitFor(t, 60*time.Second, "the hung server killed and a new one started", func() bool {
		s := procfsServers(h.root)
		return len(s) == 1 && s[0] != old
	})
	h.mustWaitMemTotal(name, "69632")
}

// mustWaitMemTotal waits until the guest's /proc/meminfo says MemTotal kb.
func (h *harness) mustWaitMemTotal(name, kb string) {
	h.t.Helper()
	testutil.WaitFor(h.t, 30*time.Second, name+" served: MemTotal "+kb+" kB", func() bool {
		r := h.run("exec", name, "--", "grep", "MemTotal", "/proc/meminfo")
		f := strings.Fields(r.stdout)
		return r.code == 0 && len(f) == 3 && f[1] == kb
	})
}

// TestProcFSGuestMadeNamespace: a mount namespace a guest's process made
// itself (unshare -m, a systemd service's PrivateTmp=) holds copies of the
// binds; after a server restart the new server binds its files in there
// too (found from the processes in the guest's cgroup), not only in init's.
func TestProcFSGuestMadeNamespace(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-procfs-ns")
	xmlPath, rootfs := h.procfsGuest(name, true, 76, "")
	h.must("start", xmlPath)
	defer h.run("destroy", name)
	h.mustWaitMemTotal(name, "77824")
	out := filepath.Join(rootfs, "ns-out")
	done := make(chan result, 1)
	go func() {
		// Bounded: it ends on /stop, or after about ten minutes.
		done <- h.run("exec", name, "--", "unshare", "-m", "--propagation", "private", "sh", "-c",
			`i=0; while [ ! -e /stop ] && [ $i -lt 6000 ]; do (echo $i; grep MemTotal /proc/meminfo || echo FAILED) > /ns-out.tmp 2>&1; mv /ns-out.tmp /ns-out; i=$((i+1)); sleep 0.1; done`)
	}()
	defer func() {
		_ = os.WriteFile(filepath.Join(rootfs, "stop"), nil, 0o644)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Error("the reader in the guest-made namespace did not stop")
		}
	}()
	// read returns the reader's count and what it read.
	read := func() (int, []string) {
		b, _ := os.ReadFile(out)
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return -1, nil
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			return -1, nil
		}
		return n, f[1:]
	}
	servedAfter := func(after int) func() bool {
		return func() bool {
			n, f := read()
			return n > after && len(f) == 3 && f[1] == "77824"
		}
	}
	testutil.WaitFor(t, 30*time.Second, "the guest-made namespace served", servedAfter(-1))
	servers := procfsServers(h.root)
	if len(servers) != 1 {
		t.Fatalf("one /proc server expected, found %v", servers)
	}
	if err := syscall.Kill(servers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "a new /proc server", func() bool {
		s := procfsServers(h.root)
		return len(s) == 1 && s[0] != servers[0]
	})
	// The read after the new server's binds: the dead server's bind would
	// fail for good.
	h.mustWaitMemTotal(name, "77824")
	n, _ := read()
	testutil.WaitFor(t, 30*time.Second, "the guest-made namespace served again by the new server", servedAfter(n))
	h.mustWaitMemTotal(name, "77824")
}
