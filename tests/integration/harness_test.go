//go:build integration

// Package integration boots real guests: real namespaces, cgroups, ptys,
// rootfs and init. Every test uses its own state root (--root) and unique
// guest names, so it can run beside a real installation, and removes what it
// made, also on failure.
package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/mountinfo"
	"vmlite/internal/procstat"
	"vmlite/internal/testutil"
	"vmlite/plan"
	"vmlite/state"
)

var binFlag = flag.String("vmlite.bin", "", "the vmlite binary under test (default: build one)")

// bin is the vmlite binary the tests run.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		bin = *binFlag
		if bin == "" {
			dir, err := os.MkdirTemp("", "vmlite-it-bin")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			bin = filepath.Join(dir, "vmlite")
			// Static, as `make build` makes it: exec's second stage runs
			// inside guests, which have no loader of ours.
			build := exec.Command("go", "build", "-o", bin, "vmlite/cmd/vmlite")
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			out, err := build.CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "build vmlite: %v\n%s", err, out)
				return 1
			}
		}
		// The host-wide idmap record of this run's guests, apart from a
		// real installation's (and other runs'): the tests' guests share
		// host ids with nobody else's checks.
		ids, err := os.MkdirTemp("", "vmlite-it-idmap")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(ids)
		os.Setenv("VMLITE_IDMAP_DIR", ids)
		return m.Run()
	}()
	os.Exit(code)
}

// harness is one test's vmlite installation.
type harness struct {
	t    *testing.T
	root string
	// names are the guests this test made, destroyed at cleanup.
	names []string
	// env is added to every vmlite command's environment.
	env []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	testutil.RequireRoot(t)
	h := &harness{t: t, root: t.TempDir()}
	// A mapped guest's root must traverse the state root to reach its
	// runtime directory (vmlite refuses a 0700 root with a clear error).
	for _, d := range []string{h.root, filepath.Dir(h.root)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(h.cleanup)
	return h
}

// uniqueName returns a guest name nobody else uses.
func (h *harness) uniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	n := fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(b))
	h.names = append(h.names, n)
	return n
}

// result is one vmlite invocation.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// run runs vmlite with the harness's root.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runIn("", args...)
}

// runIn runs vmlite with stdin.
func (h *harness) runIn(stdin string, args ...string) result {
	h.t.Helper()
	cmd := exec.Command(bin, append([]string{"--root", h.root}, args...)...)
	cmd.Env = append(os.Environ(), h.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			h.t.Fatalf("run vmlite %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// must runs vmlite and fails the test unless it exits 0.
func (h *harness) must(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("vmlite %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// busybox makes a busybox rootfs and its XML; returns the XML path and rootfs.
func (h *harness) busybox(name string, idmap bool) (xmlPath, rootfs string) {
	h.t.Helper()
	rootfs = filepath.Join(h.t.TempDir(), name)
	args := []string{"template", "busybox", rootfs, "--name", name}
	if !idmap {
		args = append(args, "--no-idmap")
	}
	r := h.must(args...)
	xmlPath = filepath.Join(h.t.TempDir(), name+".xml")
	if err := os.WriteFile(xmlPath, []byte(r.stdout), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return xmlPath, rootfs
}

// writeXML writes an XML document for a test.
func (h *harness) writeXML(name, doc string) string {
	h.t.Helper()
	p := filepath.Join(h.t.TempDir(), name+".xml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// consoleLog is the guest's console log so far.
func (h *harness) consoleLog(name string) string {
	b, _ := os.ReadFile(filepath.Join(h.root, "log", name+".console.log"))
	return string(b)
}

// waitConsole waits until the console log contains s.
func (h *harness) waitConsole(name, s string) {
	h.t.Helper()
	testutil.WaitFor(h.t, 60*time.Second, fmt.Sprintf("%q on the console of %s (log so far: %q)", s, name, tail(h.consoleLog(name))), func() bool {
		return strings.Contains(h.consoleLog(name), s)
	})
}

// countConsole counts occurrences of s in the console log.
func (h *harness) countConsole(name, s string) int { return strings.Count(h.consoleLog(name), s) }

func tail(s string) string {
	if len(s) > 600 {
		return s[len(s)-600:]
	}
	return s
}

// statusOf is `vmlite status --json`.
type statusOf struct {
	State         string `json:"state"`
	Reason        string `json:"reason"`
	Error         string `json:"error"`
	InitPID       int    `json:"initPid"`
	SupervisorPID int    `json:"supervisorPid"`
	ExitStatus    *int   `json:"exitStatus"`
	ExitSignal    string `json:"exitSignal"`
	Restarts      int    `json:"restarts"`
	Cgroup        string `json:"cgroup"`
}

func (h *harness) status(name string) statusOf {
	h.t.Helper()
	r := h.must("status", name, "--json")
	var s statusOf
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		h.t.Fatalf("decode status: %v\n%s", err, r.stdout)
	}
	return s
}

// waitState waits until the guest's state is want.
func (h *harness) waitState(name, want string) statusOf {
	h.t.Helper()
	var s statusOf
	testutil.WaitFor(h.t, 60*time.Second, fmt.Sprintf("state %s of %s", want, name), func() bool {
		s = h.status(name)
		return s.State == want
	})
	return s
}

// assertGone checks that nothing of the guest is left on the host.
func (h *harness) assertGone(name string) {
	h.t.Helper()
	if _, err := os.Stat(filepath.Join(h.root, "run", "guests", name)); err == nil {
		h.t.Errorf("runtime directory of %s still exists", name)
	}
	if procs := processesOf(name); len(procs) > 0 {
		h.t.Errorf("processes of %s still run: %v", name, procs)
	}
	if cgs := cgroupsOf(h.cgroupLeaf(name)); len(cgs) > 0 {
		h.t.Errorf("cgroups of %s still exist: %v", name, cgs)
	}
	h.assertNoImageServers(filepath.Join(h.root, "run", "guests", name))
}

// assertNoImageServers checks that no qemu-storage-daemon serves an image
// under dir (a guest's runtime directory, where its exports live), and
// that no FUSE filesystem or loop device of dir is left.
func (h *harness) assertNoImageServers(dir string) {
	h.t.Helper()
	if procs := storageDaemonsUnder(dir); len(procs) > 0 {
		h.t.Errorf("qemu-storage-daemon processes of %s still run: %v", dir, procs)
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		ms, _ := mountinfo.Parse(string(b))
		for _, m := range ms {
			if strings.HasPrefix(m.MountPoint, dir+"/") && strings.HasPrefix(m.FSType, "fuse") {
				h.t.Errorf("FUSE mount left on %s (%s)", m.MountPoint, m.FSType)
			}
		}
	}
	bfs, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, bf := range bfs {
		if b, _ := os.ReadFile(bf); strings.HasPrefix(string(b), dir+"/") {
			h.t.Errorf("loop device left on %s: %s", strings.TrimSpace(string(b)), bf)
		}
	}
}

// storageDaemonsUnder lists the qemu-storage-daemon processes whose
// command line names a path under root.
func storageDaemonsUnder(root string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) == "qemu-storage-daemon" && strings.Contains(string(b), root+"/") {
			out = append(out, e.Name())
		}
	}
	return out
}

// processesOf lists dedicated supervisor processes of name (argv names
// the guest; shared supervisors are found by supervisorsUnder).
func processesOf(name string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 3 && args[1] == "__supervise" && args[2] == name {
			out = append(out, e.Name())
		}
	}
	return out
}

// cgroupLeaf is the name of guest name's cgroup directories under this
// harness's state root.
func (h *harness) cgroupLeaf(name string) string {
	return plan.CgroupName(name, state.NewLayout(h.root).InstanceID())
}

// spareCgroups lists the spare cgroups (cgroup.SpareName) of supervisors
// of this harness's state root, in every hierarchy and partition.
func (h *harness) spareCgroups() []string {
	prefix := "spare." + state.NewLayout(h.root).InstanceID() + "."
	tops, _ := filepath.Glob("/sys/fs/cgroup/*/vmlite")
	if top := "/sys/fs/cgroup/vmlite"; dirExists(top) {
		tops = append(tops, top) // a v2 host
	}
	var out []string
	for _, top := range tops {
		_ = filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
				return filepath.SkipDir
			case !d.IsDir():
				return nil
			case strings.HasPrefix(d.Name(), prefix):
				out = append(out, p)
				return filepath.SkipDir
			case plan.IsGuestCgroupName(d.Name()) || strings.Count(p, "/") > 8:
				return filepath.SkipDir // a guest's own subtree holds no spare
			}
			return nil
		})
	}
	return out
}

// cgroupsOf lists cgroup directories called leaf (cgroupLeaf).
func cgroupsOf(leaf string) []string {
	var out []string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return filepath.SkipDir
		}
		if d.IsDir() && d.Name() == leaf {
			out = append(out, p)
			return filepath.SkipDir
		}
		if d.IsDir() && strings.Count(p, "/") > 8 {
			return filepath.SkipDir
		}
		return nil
	})
	return out
}

// supervisorsUnder lists the shared supervisor processes serving the
// state root root (their socket lives in root/run).
func supervisorsUnder(root string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || procZombie(e.Name()) {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 4 && args[1] == "__supervise" && args[2] == "--pool-socket" && strings.HasPrefix(args[3], filepath.Join(root, "run")+"/") {
			out = append(out, e.Name())
		}
	}
	return out
}

// procZombie reports whether process pid (a /proc entry name) has exited
// (procstat.Exited: a killed supervisor's leader is a zombie while its
// other threads still hold its locks).
func procZombie(pid string) bool {
	n, err := strconv.Atoi(pid)
	return err != nil || procstat.Exited(n)
}

// processGone reports whether pid has exited (or is a zombie).
func processGone(pid int) bool { return procZombie(fmt.Sprint(pid)) }

func (h *harness) cleanup() {
	if h.t.Failed() {
		h.logGuests()
	}
	for _, n := range h.names {
		if len(processesOf(n)) > 0 || dirExists(filepath.Join(h.root, "run", "guests", n)) {
			h.run("destroy", n)
		}
		h.assertGone(n)
	}
	// A shared supervisor ends with its last guest.
	deadline := time.Now().Add(30 * time.Second)
	for len(supervisorsUnder(h.root)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := supervisorsUnder(h.root); len(left) > 0 {
		h.t.Errorf("shared supervisors still run after every guest is gone: %v", left)
	}
	// Their pre-forked init stages go with them.
	for len(stagesUnder(h.root)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := stagesUnder(h.root); len(left) > 0 {
		h.t.Errorf("init stages still run after every supervisor is gone: %v", left)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// And their spare cgroups (supervisor/stages_linux.go).
	for len(h.spareCgroups()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := h.spareCgroups(); len(left) > 0 {
		h.t.Errorf("spare cgroups left after every supervisor is gone: %v", left)
		for i := len(left) - 1; i >= 0; i-- {
			_ = os.Remove(left[i])
		}
	}
	// So does the /proc server, and it unmounts its filesystem.
	for (len(procfsServers(h.root)) > 0 || len(procfsMounts(h.root)) > 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := procfsServers(h.root); len(left) > 0 {
		h.t.Errorf("/proc servers still run after every guest is gone: %v", left)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	if left := procfsMounts(h.root); len(left) > 0 {
		h.t.Errorf("/proc server mounts left after every guest is gone: %v", left)
		for _, m := range left {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
}

// logGuests logs the end of each guest's console and supervisor logs, and
// of the /proc server's: a failure seen once (a flake) is then explained
// by its own run.
func (h *harness) logGuests() {
	l := state.NewLayout(h.root)
	logs := []string{l.ProcFSLog(), filepath.Join(l.Log, "supervisors.log")}
	for _, n := range h.names {
		logs = append(logs, l.ConsoleLog(n), l.SupervisorLog(n))
	}
	for _, f := range logs {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			h.t.Logf("%s (end):\n%s", f, b[max(0, len(b)-3000):])
		}
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
