//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/cgroup"
	"vmlite/internal/testutil"
	"vmlite/state"
)

// TestInitStages: a shared supervisor keeps a pre-forked init stage
// waiting; the next unmapped start takes it (its pid becomes the guest's
// init), with the cgroups, /sys/fs/cgroup and consoles of a cloned one;
// a mapped guest takes none (it clones, its user namespace owned by its
// root's host uid); a stage killed while waiting is forgotten and the
// next start clones; a killed supervisor takes its waiting stage with it, and one that
// ends normally kills and reaps it (the harness's clean-up checks that no
// stage is left).
func TestInitStages(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"VMLITE_INIT_STAGES=1"}
	a, a2, b := h.uniqueName("it-sta"), h.uniqueName("it-sta2"), h.uniqueName("it-stb")
	c, d, e := h.uniqueName("it-stc"), h.uniqueName("it-std"), h.uniqueName("it-ste")
	xa, _ := h.busybox(a, false)
	xa2, _ := h.busybox(a2, false)
	xb, _ := h.busybox(b, false)
	xc, _ := h.busybox(c, true)
	xd, rd := h.busybox(d, true)
	xe, _ := h.busybox(e, false)
	for _, x := range []string{xc, xd} {
		allowOverlap(t, x) // the two mapped guests share the template's range
	}

	// A supervisor with its first guest alone keeps no stage; once a
	// guest joined it (cloning: none waits yet), it keeps one.
	h.must("start", xa)
	h.waitConsole(a, "vmlite-guest: BOOTED "+a)
	sup := h.status(a).SupervisorPID
	if got := stagesUnder(h.root); len(got) != 0 {
		t.Errorf("a supervisor with its first guest alone keeps stages %v", got)
	}
	h.must("start", xa2)
	h.waitConsole(a2, "vmlite-guest: BOOTED "+a2)
	if got := h.status(a2).SupervisorPID; got != sup {
		t.Fatalf("%s joined supervisor %d, want %d", a2, got, sup)
	}
	st := waitStage(t, h.root, sup, false)

	// An unmapped start takes the waiting stage.
	h.must("start", xb)
	h.waitConsole(b, "vmlite-guest: BOOTED "+b)
	if got := h.status(b).InitPID; got != st {
		t.Errorf("b's init is pid %d, want the waiting stage %d", got, st)
	}
	if got := strings.TrimSpace(h.must("exec", b, "--", "hostname").stdout); got != b {
		t.Errorf("hostname of b = %q", got)
	}
	if r := h.runIn("\x1d", "console", b); r.code != 0 || !strings.Contains(r.stdout, "BOOTED "+b) {
		t.Errorf("console of b: %v", r)
	}
	// Console 0 is init's stdio and controlling terminal, in a session of
	// its own, as for a cloned init.
	for _, n := range []string{a, b} {
		r := h.must("exec", n, "--", "sh", "-c", "for i in 0 1 2; do readlink /proc/1/fd/$i; done; cut -d' ' -f6,7 /proc/1/stat")
		f := strings.Fields(r.stdout)
		if len(f) != 5 || !strings.HasPrefix(f[0], "/dev/pts/") || f[1] != f[0] || f[2] != f[0] || f[3] != "1" || f[4] == "0" {
			t.Errorf("%s's init: stdio, session and tty %q, want one pty on 0-2, session 1, a controlling tty", n, f)
		}
	}

	// On a v1 host the stage waited in a spare cgroup, renamed to b's when
	// taken: b's init is in b's cgroup in every hierarchy, and b sees the
	// /sys/fs/cgroup a cloned guest sees (its v1 hierarchies premounted
	// while the stage waited). The next stage waits in a spare of its own.
	// a's init, cloned, joined its v1 cgroups itself (cgroup.JoinSelf):
	// in a's cgroup in every hierarchy too, the main thread that exec'd.
	inOwnCgroups := func(n string, pid int) {
		leaf := "/" + h.cgroupLeaf(n)
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		for _, l := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
			if !strings.HasSuffix(l, leaf) {
				t.Errorf("%s's init %d in cgroup %q, want %s", n, pid, l, leaf)
			}
		}
	}
	inOwnCgroups(a, h.status(a).InitPID)
	inOwnCgroups(b, st)
	if mode, err := cgroup.Detect(); err == nil && mode == cgroup.V1 {
		next := waitStage(t, h.root, sup, false)
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", next))
		if !strings.Contains(string(cg), "/spare."+state.NewLayout(h.root).InstanceID()+".") {
			t.Errorf("the next waiting stage's cgroups: %q, want a spare", cg)
		}
		if len(h.spareCgroups()) == 0 {
			t.Error("no spare cgroup for the waiting stage")
		}
	}
	view := func(n string) string {
		return h.must("exec", n, "--", "sh", "-c", "cut -d' ' -f19 /proc/1/stat; cat /proc/1/cgroup; ls /sys/fs/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; awk '$5 ~ /^[/]sys[/]fs[/]cgroup/ {print $5, $6}' /proc/self/mountinfo | sort").stdout
	}
	// (and init's nice value: a waiting stage's is raised)
	if va, vb := view(a), view(b); va != vb {
		t.Errorf("init's nice and cgroups as guest a (cloned) sees them:\n%s\nas b (a taken stage) sees them:\n%s", va, vb)
	}

	// A mapped guest takes no stage, since its user namespace must be
	// owned by its root's host uid (the kernel charges per-user limits
	// such as fs.inotify.max_user_instances to the owner), and a stage is
	// cloned before its guest is known: mapped starts clone, each guest's
	// namespace is its root's, and the unmapped stage keeps waiting.
	waiting := waitStage(t, h.root, sup, false)
	for _, x := range []struct{ name, xml string }{{c, xc}, {d, xd}} {
		h.must("start", x.xml)
		h.waitConsole(x.name, "vmlite-guest: BOOTED "+x.name)
		pid := h.status(x.name).InitPID
		if pid == waiting {
			t.Errorf("mapped guest %s took the waiting stage %d", x.name, pid)
		}
		if inOwnUserNS(waiting) {
			t.Errorf("the waiting stage %d is in a user namespace of its own", waiting)
		}
		m, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
		f := strings.Fields(string(m))
		if err != nil || len(f) < 3 || f[0] != "0" {
			t.Fatalf("uid_map of %s's init: %q (%v)", x.name, m, err)
		}
		root, _ := strconv.ParseUint(f[1], 10, 32)
		if owner, err := userNSOwner(pid); err != nil || owner != uint32(root) || owner == 0 {
			t.Errorf("owner of mapped guest %s's user namespace: %d (%v), want its root's host uid %d", x.name, owner, err, root)
		}
	}
	if !pidExists(waiting) || procZombie(strconv.Itoa(waiting)) {
		t.Errorf("the waiting unmapped stage %d is gone after mapped starts", waiting)
	}
	h.must("exec", d, "--", "touch", "/made-inside")
	if fi, err := os.Stat(filepath.Join(rd, "made-inside")); err != nil {
		t.Error(err)
	} else if o := fi.Sys().(*syscall.Stat_t); o.Uid != 0 || o.Gid != 0 {
		t.Errorf("a file the mapped guest's root made is %d:%d on the idmapped root, want 0:0", o.Uid, o.Gid)
	}

	// A stage killed while it waits is reaped and forgotten; the next start
	// clones and works.
	dead := waitStage(t, h.root, sup, false)
	if err := syscall.Kill(dead, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "killed stage reaped", func() bool { return !pidExists(dead) })
	h.must("start", xe)
	h.waitConsole(e, "vmlite-guest: BOOTED "+e)
	if got := h.status(e).InitPID; got == dead {
		t.Errorf("e's init has the killed stage's pid %d", got)
	}

	// A killed supervisor's waiting stage dies with it.
	last := waitStage(t, h.root, sup, false)
	if err := syscall.Kill(sup, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the killed supervisor's waiting stage gone", func() bool { return processGone(last) })
	// Its spare cgroup goes with the clean-up of its orphans (the
	// harness's clean-up checks that no spare is left).
	for _, n := range []string{a, a2, b, c, d, e} {
		h.must("destroy", n)
	}

	// A supervisor that ends (its last guest gone) with a warm pool kills
	// and reaps the stage and removes its spare cgroup.
	h.must("start", xa)
	h.must("start", xa2)
	h.waitConsole(a2, "vmlite-guest: BOOTED "+a2)
	warm := waitStage(t, h.root, h.status(a).SupervisorPID, false)
	h.must("stop", a, "--timeout", "30s")
	h.must("stop", a2, "--timeout", "30s")
	testutil.WaitFor(t, 30*time.Second, "the ended supervisor's stage reaped and its spare cgroup removed", func() bool {
		return !pidExists(warm) && len(h.spareCgroups()) == 0
	})

	h.env = []string{"VMLITE_INIT_STAGES=many"}
	if r := h.run("start", xa); r.code != 2 || !strings.Contains(r.stderr, "VMLITE_INIT_STAGES") {
		t.Errorf("a bad VMLITE_INIT_STAGES: %v", r)
	}
}

// TestInitStagesOff: by default (VMLITE_INIT_STAGES unset, as 0) no stage
// waits, and no spare cgroup is made.
func TestInitStagesOff(t *testing.T) {
	h := newHarness(t)
	a, b := h.uniqueName("it-so0a"), h.uniqueName("it-so0b")
	xa, _ := h.busybox(a, false)
	xb, _ := h.busybox(b, false)
	h.must("start", xa)
	h.must("start", xb)
	h.waitConsole(b, "vmlite-guest: BOOTED "+b)
	if got := stagesUnder(h.root); len(got) != 0 {
		t.Errorf("VMLITE_INIT_STAGES unset: waiting stages %v", got)
	}
	if got := h.spareCgroups(); len(got) != 0 {
		t.Errorf("VMLITE_INIT_STAGES unset: spare cgroups %v", got)
	}
	h.must("destroy", a)
	h.must("destroy", b)
}

// waitStage waits for a pre-forked stage of supervisor sup, mapped or
// not (in a user namespace of its own), and returns its pid.
func waitStage(t *testing.T, root string, sup int, mapped bool) int {
	t.Helper()
	var pid int
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("a waiting stage (mapped: %v) of supervisor %d", mapped, sup), func() bool {
		for _, p := range stagesUnder(root) {
			if parentOf(p) == sup && inOwnUserNS(p) == mapped {
				pid = p
				return true
			}
		}
		return false
	})
	return pid
}

// stagesUnder lists the live processes running the state root's
// extracted vmlite-init (LIB/bin/init-ID): __init stages, waiting or
// setting a guest up.
func stagesUnder(root string) []int {
	var out []int
	prefix := filepath.Join(root, "lib", "bin", "init-")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || procZombie(e.Name()) {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && strings.HasPrefix(exe, prefix) {
			out = append(out, pid)
		}
	}
	return out
}

func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

func inOwnUserNS(pid int) bool {
	own, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	self, err2 := os.Readlink("/proc/self/ns/user")
	return err1 == nil && err2 == nil && own != self
}

// pidExists reports whether pid is still in the process table (a zombie
// too: not reaped yet).
func pidExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}
