package devices

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// probeEnv turns the test binary into the probe that runs inside a
// restricted cgroup (TestMain).
const probeEnv = "VMLITE_DEVCG_PROBE"

// TestMain runs the probe when asked: for each argument "r:PATH",
// "w:PATH" (open for reading, writing) or "m:b|c:MAJOR:MINOR:PATH" (mknod),
// it prints one line, "ok" or the errno's name.
func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) == "" {
		os.Exit(m.Run())
	}
	for _, arg := range os.Args[1:] {
		fmt.Println(outcome(probe(arg)))
	}
	os.Exit(0)
}

func probe(arg string) error {
	op, rest, _ := strings.Cut(arg, ":")
	switch op {
	case "r", "w":
		flag := unix.O_RDONLY
		if op == "w" {
			flag = unix.O_WRONLY
		}
		fd, err := unix.Open(rest, flag|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	case "m":
		f := strings.SplitN(rest, ":", 4)
		if len(f) != 4 {
			return unix.EINVAL
		}
		major, _ := strconv.Atoi(f[1])
		minor, _ := strconv.Atoi(f[2])
		mode := uint32(unix.S_IFCHR)
		if f[0] == "b" {
			mode = unix.S_IFBLK
		}
		return unix.Mknod(f[3], mode|0o600, int(unix.Mkdev(uint32(major), uint32(minor))))
	}
	return unix.EINVAL
}

func outcome(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// cgroup2Root is a cgroup2 mount to test in: the host's own tree on a v2
// host, the hybrid unified mount on a v1 one. Device programs work on any
// cgroup2 directory, with or without controllers.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return dir
		}
	}
	t.Skip("SKIPPED LOUDLY: no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	return ""
}

// testCgroup makes a cgroup2 directory of the test's own (under parent,
// or at the top of the cgroup2 tree), removed at the end.
func testCgroup(t *testing.T, parent string) string {
	t.Helper()
	if parent == "" {
		parent = cgroup2Root(t)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	dir := filepath.Join(parent, "vmlite-devbpf-test-"+hex.EncodeToString(b))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The probes have been reaped; the kernel may take a moment to
		// drop them from the cgroup.
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				t.Errorf("remove test cgroup: %v", err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	return dir
}

// probeIn runs the probe for args born in cgroup dir (CLONE_INTO_CGROUP)
// and returns its outcome for each.
func probeIn(t *testing.T, dir string, args []string) []string {
	t.Helper()
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), probeEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(args) {
		t.Fatalf("probe printed %q for %q", lines, args)
	}
	return lines
}

// nodes are the device nodes the kernel tests open, made in a temp dir
// (outside any restriction) so that no host /dev name matters.
type nodes struct {
	dir                  string
	kmsg, loopCtl, disk  string
	diskMajor, diskMinor uint32
}

// makeNodes makes the nodes. The block device is the first loop device
// (7:0), not the root disk: a host may refuse root its own disk whatever
// the cgroup says (this one's sandbox does), which would make "denied"
// prove nothing. The test checks that the test itself may open it.
func makeNodes(t *testing.T) nodes {
	t.Helper()
	n := nodes{dir: t.TempDir(), diskMajor: 7, diskMinor: 0}
	mk := func(name string, typ uint32, major, minor uint32) string {
		p := filepath.Join(n.dir, name)
		if err := unix.Mknod(p, typ|0o600, int(unix.Mkdev(major, minor))); err != nil {
			t.Fatal(err)
		}
		return p
	}
	n.kmsg = mk("kmsg", unix.S_IFCHR, 1, 11)
	n.loopCtl = mk("loop-control", unix.S_IFCHR, 10, 237)
	n.disk = mk("loop0", unix.S_IFBLK, n.diskMajor, n.diskMinor)
	for _, p := range []string{n.kmsg, n.loopCtl, n.disk} {
		if err := probe("r:" + p); errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			t.Fatalf("the test itself may not open %s: %v", p, err)
		}
	}
	return n
}

// TestApplyV2 attaches the program for each rule list to a cgroup of the
// test's own and checks, from a root process born in it, which opens and
// mknods the kernel lets through. "allowed" means anything but EPERM (a
// node without a driver behind it gives ENXIO after passing the list);
// the standard nodes must open outright.
func TestApplyV2(t *testing.T) {
	testutil.RequireRoot(t)
	n := makeNodes(t)
	diskRule, err := ForNode(n.disk)
	if err != nil {
		t.Fatal(err)
	}
	std := append([]Rule{}, Standard...)
	hostdev := append(append([]Rule{}, Standard...), diskRule)
	mknod := func(typ string, major, minor uint32) string {
		return fmt.Sprintf("m:%s:%d:%d:%s", typ, major, minor, filepath.Join(n.dir, fmt.Sprintf("new-%s-%d-%d-%d", typ, major, minor, time.Now().UnixNano())))
	}
	blockNoDriver := filepath.Join(n.dir, "block-240-0")
	if err := unix.Mknod(blockNoDriver, unix.S_IFBLK|0o600, int(unix.Mkdev(240, 0))); err != nil {
		t.Fatal(err)
	}
	const ok, allowed, denied = "ok", "allowed", "EPERM"
	type check struct{ arg, want string }
	for _, tc := range []struct {
		name   string
		rules  []Rule
		checks []check
	}{
		{"standard", std, []check{
			{"r:/dev/null", ok}, {"w:/dev/null", ok}, {"r:/dev/zero", ok}, {"r:/dev/urandom", ok},
			{"w:/dev/ptmx", ok},
			{"r:" + n.kmsg, denied}, {"r:" + n.loopCtl, denied}, {"r:" + n.disk, denied},
			{mknod("c", 1, 3), ok}, {mknod("c", 1, 11), denied},
			{mknod("b", n.diskMajor, n.diskMinor), denied}, {mknod("b", 1, 3), denied},
		}},
		{"hostdev", hostdev, []check{
			{"r:" + n.disk, allowed}, {mknod("b", n.diskMajor, n.diskMinor), ok},
			{mknod("c", n.diskMajor, n.diskMinor), denied}, {"r:" + n.kmsg, denied}, {"r:/dev/null", ok},
		}},
		{"read only", []Rule{{'c', 1, 3, "r"}}, []check{
			{"r:/dev/null", ok}, {"w:/dev/null", denied}, {mknod("c", 1, 3), denied}, {"r:/dev/zero", denied},
		}},
		{"write and mknod", []Rule{{'c', 1, 5, "wm"}}, []check{
			{"w:/dev/zero", ok}, {"r:/dev/zero", denied}, {mknod("c", 1, 5), ok}, {"w:/dev/null", denied},
		}},
		{"minor wildcard", []Rule{{'c', 1, Wildcard, "rw"}}, []check{
			{"r:/dev/zero", ok}, {"r:" + n.kmsg, ok}, {"r:" + n.loopCtl, denied}, {"r:" + n.disk, denied},
			{mknod("c", 1, 200), denied},
		}},
		{"major wildcard", []Rule{{'c', Wildcard, 237, "r"}}, []check{
			{"r:" + n.loopCtl, ok}, {"r:/dev/null", denied}, {"r:" + n.kmsg, denied},
		}},
		{"block wildcard", []Rule{{'b', Wildcard, Wildcard, "r"}}, []check{
			{"r:" + n.disk, allowed}, {"r:" + blockNoDriver, allowed}, {"w:" + n.disk, denied},
			{"r:/dev/null", denied}, {"r:" + n.loopCtl, denied},
		}},
		{"char wildcard", []Rule{{'c', Wildcard, Wildcard, "rwm"}}, []check{
			{"r:/dev/null", ok}, {"r:" + n.loopCtl, ok}, {mknod("c", 240, 1), ok},
			{"r:" + n.disk, denied}, {"r:" + blockNoDriver, denied}, {mknod("b", 240, 2), denied},
		}},
		{"all", []Rule{DenyAll}, []check{ // "a" as an allow rule: everything
			{"r:/dev/null", ok}, {"r:" + n.disk, allowed}, {"w:" + n.kmsg, ok}, {mknod("b", 240, 1), ok},
		}},
		{"nothing", nil, []check{
			{"r:/dev/null", denied}, {"w:/dev/null", denied}, {mknod("c", 1, 3), denied}, {"r:" + n.disk, denied},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testCgroup(t, "")
			if err := ApplyV2(dir, tc.rules); err != nil {
				t.Fatal(err)
			}
			var args []string
			for _, c := range tc.checks {
				args = append(args, c.arg)
			}
			for i, got := range probeIn(t, dir, args) {
				want := tc.checks[i].want
				if got != want && (want != allowed || got == denied) {
					t.Errorf("%s: %s, want %s", args[i], got, want)
				}
			}
		})
	}
}

// TestApplyV2Nested: a program attached below the guest's cgroup (as the
// guest's own systemd may) narrows the list and cannot widen it.
func TestApplyV2Nested(t *testing.T) {
	testutil.RequireRoot(t)
	n := makeNodes(t)
	guest := testCgroup(t, "")
	if err := ApplyV2(guest, Standard); err != nil {
		t.Fatal(err)
	}
	wide := testCgroup(t, guest)
	if err := ApplyV2(wide, []Rule{DenyAll}); err != nil { // allow everything
		t.Fatal(err)
	}
	if got := probeIn(t, wide, []string{"r:/dev/null", "r:" + n.disk, "r:" + n.kmsg}); strings.Join(got, " ") != "ok EPERM EPERM" {
		t.Errorf("child allowing all: null, disk, kmsg: %q, want ok EPERM EPERM", got)
	}
	narrow := testCgroup(t, guest)
	if err := ApplyV2(narrow, []Rule{{'c', 1, 3, "r"}}); err != nil {
		t.Fatal(err)
	}
	if got := probeIn(t, narrow, []string{"r:/dev/null", "r:/dev/zero"}); strings.Join(got, " ") != "ok EPERM" {
		t.Errorf("child allowing null only: null, zero: %q, want ok EPERM", got)
	}
}

// TestApplyV2Again: applying a new list to a cgroup (reused after a crash)
// replaces the old program rather than stacking with it.
func TestApplyV2Again(t *testing.T) {
	testutil.RequireRoot(t)
	dir := testCgroup(t, "")
	if err := ApplyV2(dir, []Rule{{'c', 1, 3, "r"}}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyV2(dir, []Rule{{'c', 1, 5, "r"}}); err != nil {
		t.Fatal(err)
	}
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	res, err := link.QueryPrograms(link.QueryOptions{Target: int(cg.Fd()), Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Programs) != 1 {
		t.Errorf("%d programs attached, want 1", len(res.Programs))
	}
	if got := probeIn(t, dir, []string{"r:/dev/null", "r:/dev/zero"}); strings.Join(got, " ") != "EPERM ok" {
		t.Errorf("null, zero: %q, want EPERM ok", got)
	}
}

// TestLoadRefused: a program the verifier refuses (no exit) fails to load
// with the verifier's own words in the error.
func TestLoadRefused(t *testing.T) {
	testutil.RequireRoot(t)
	fd, err := loadDeviceProgram(marshal([]insn{alu64Imm(unix.BPF_MOV, r0, 1)}))
	if err == nil {
		unix.Close(fd)
		t.Fatal("a program without exit was loaded")
	}
	if !strings.Contains(err.Error(), "verifier:") {
		t.Errorf("error has no verifier log: %v", err)
	}
}

// TestApplyV2ManyOld: more earlier programs than attachedPrograms' first
// guess of room (the kernel's ENOSPC and count) are all listed and
// detached.
func TestApplyV2ManyOld(t *testing.T) {
	testutil.RequireRoot(t)
	dir := testCgroup(t, "")
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	prog, err := Program(Standard)
	if err != nil {
		t.Fatal(err)
	}
	const old = 7
	for i := 0; i < old; i++ {
		fd, err := loadDeviceProgram(prog)
		if err != nil {
			t.Fatal(err)
		}
		err = progAttach(unix.BPF_PROG_ATTACH, int(cg.Fd()), fd, unix.BPF_F_ALLOW_MULTI)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
	}
	ids, err := attachedPrograms(int(cg.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != old {
		t.Fatalf("%d programs listed, want %d", len(ids), old)
	}
	if err := ApplyV2(dir, []Rule{{'c', 1, 5, "r"}}); err != nil {
		t.Fatal(err)
	}
	res, err := link.QueryPrograms(link.QueryOptions{Target: int(cg.Fd()), Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Programs) != 1 {
		t.Errorf("%d programs attached after ApplyV2, want 1", len(res.Programs))
	}
	if got := probeIn(t, dir, []string{"r:/dev/null", "r:/dev/zero"}); strings.Join(got, " ") != "EPERM ok" {
		t.Errorf("null, zero: %q, want EPERM ok", got)
	}
}
