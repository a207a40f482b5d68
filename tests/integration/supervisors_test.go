//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestSharedSupervisors: with two guests per supervisor, three guests run
// in two supervisor processes; one guest's stop leaves its neighbour
// running; a new guest joins the supervisor that still listens; killing a
// supervisor orphans exactly its guests; a supervisor ends with its last
// guest.
func TestSharedSupervisors(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"VMLITE_GUESTS_PER_SUPERVISOR=2"}
	names := []string{h.uniqueName("it-sha"), h.uniqueName("it-shb"), h.uniqueName("it-shc"), h.uniqueName("it-shd")}
	xmls := map[string]string{}
	for _, n := range names {
		xmls[n], _ = h.busybox(n, false)
	}
	a, b, c, d := names[0], names[1], names[2], names[3]
	for _, n := range []string{a, b, c} {
		h.must("start", xmls[n])
	}
	for _, n := range []string{a, b, c} {
		h.waitConsole(n, "vmlite-guest: BOOTED "+n)
	}
	sa, sb, sc := h.status(a).SupervisorPID, h.status(b).SupervisorPID, h.status(c).SupervisorPID
	if sa <= 0 || sa != sb || sc == sa {
		t.Fatalf("supervisors a=%d b=%d c=%d: want a and b sharing one, c in another", sa, sb, sc)
	}
	if got := len(supervisorsUnder(h.root)); got != 2 {
		t.Errorf("%d shared supervisor processes, want 2", got)
	}
	// make build embeds vmlite-supervisor: supervisors run from its copy
	// on disk (lib/bin), written once, not from vmlite-core.
	for _, sp := range []int{sa, sc} {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", sp))
		if err != nil || !strings.HasPrefix(exe, filepath.Join(h.root, "lib", "bin", "supervisor-")) {
			t.Errorf("supervisor %d runs %q (%v), want lib/bin/supervisor-ID", sp, exe, err)
		}
	}
	if sups, _ := filepath.Glob(filepath.Join(h.root, "lib", "bin", "supervisor-*")); len(sups) != 1 {
		t.Errorf("written-out supervisors: %v, want one", sups)
	}

	// a's stop leaves b running in the same process, console and exec working.
	h.must("stop", a, "--timeout", "30s")
	h.assertGone(a)
	if processGone(sa) {
		t.Fatalf("supervisor %d ended with a, but it still hosts b", sa)
	}
	if got := strings.TrimSpace(h.must("exec", b, "--", "hostname").stdout); got != b {
		t.Errorf("hostname of b after a's stop = %q", got)
	}
	if r := h.runIn("\x1d", "console", b); r.code != 0 || !strings.Contains(r.stdout, "BOOTED "+b) {
		t.Errorf("console of b after a's stop: %v", r)
	}

	// The full supervisor stopped listening; d joins c's. The extracted
	// vmlite-init (make build embeds it) is written again when it is gone;
	// it is on disk (lib/bin), not in the runtime tmpfs, where it would be
	// Shmem.
	if inRun, _ := filepath.Glob(filepath.Join(h.root, "run", "init-*")); len(inRun) > 0 {
		t.Errorf("vmlite-init written into the runtime tree: %v", inRun)
	}
	inits, _ := filepath.Glob(filepath.Join(h.root, "lib", "bin", "init-*"))
	for _, f := range inits {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	h.must("start", xmls[d])
	if again, _ := filepath.Glob(filepath.Join(h.root, "lib", "bin", "init-*")); len(again) != len(inits) {
		t.Errorf("extracted vmlite-init after removal: %v, before: %v", again, inits)
	}
	h.waitConsole(d, "vmlite-guest: BOOTED "+d)
	if sd := h.status(d).SupervisorPID; sd != sc {
		t.Errorf("d runs in supervisor %d, want c's %d (the one still listening)", sd, sc)
	}

	// Killing c's supervisor orphans c and d, not b.
	if err := syscall.Kill(sc, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "killed supervisor gone", func() bool { return processGone(sc) })
	for _, n := range []string{c, d} {
		if st := h.status(n); st.State != "orphaned" {
			t.Errorf("%s after its supervisor was killed: %q, want orphaned", n, st.State)
		}
	}
	if st := h.status(b); st.State != "running" {
		t.Errorf("b after another supervisor was killed: %q, want running", st.State)
	}
	// A start after the kill finds the dead supervisor's socket and
	// replaces it: a new guest runs in a new process.
	h.must("destroy", c)
	h.must("destroy", d)
	h.assertGone(c)
	h.assertGone(d)
	h.must("start", xmls[a])
	testutil.WaitFor(t, 60*time.Second, "a's second boot", func() bool { return h.countConsole(a, "vmlite-guest: BOOTED "+a) >= 2 })
	if s := h.status(a).SupervisorPID; s == sc || s == sa {
		t.Errorf("a restarted in supervisor %d (killed: %d, full: %d)", s, sc, sa)
	}
	h.must("destroy", a)

	// The last guest's end ends its supervisor.
	h.must("stop", b, "--timeout", "30s")
	testutil.WaitFor(t, 30*time.Second, "supervisors end with their last guest", func() bool {
		return processGone(sa) && len(supervisorsUnder(h.root)) == 0
	})
}

// TestDedicatedSupervisor: VMLITE_GUESTS_PER_SUPERVISOR=1 gives each guest
// a process of its own, named after it, that ends with it.
func TestDedicatedSupervisor(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"VMLITE_GUESTS_PER_SUPERVISOR=1"}
	a, b := h.uniqueName("it-deda"), h.uniqueName("it-dedb")
	for _, n := range []string{a, b} {
		xml, _ := h.busybox(n, false)
		h.must("start", xml)
	}
	sa, sb := h.status(a).SupervisorPID, h.status(b).SupervisorPID
	if sa == sb {
		t.Fatalf("dedicated supervisors share pid %d", sa)
	}
	if procs := processesOf(a); len(procs) != 1 {
		t.Errorf("supervisor processes named %s: %v, want one", a, procs)
	}
	if n := len(supervisorsUnder(h.root)); n != 0 {
		t.Errorf("%d shared supervisors with VMLITE_GUESTS_PER_SUPERVISOR=1", n)
	}
	h.must("destroy", a)
	if !processGone(sa) {
		t.Errorf("dedicated supervisor %d outlived destroy's return", sa)
	}
	h.must("stop", b, "--timeout", "30s")
	if r := h.run("start", "nothing.xml"); r.code != 2 {
		t.Errorf("start of a missing file: %v", r)
	}
	h.env = []string{"VMLITE_GUESTS_PER_SUPERVISOR=zero"}
	if r := h.run("start", "any.xml"); r.code != 2 || !strings.Contains(r.stderr, "VMLITE_GUESTS_PER_SUPERVISOR") {
		t.Errorf("a bad VMLITE_GUESTS_PER_SUPERVISOR: %v", r)
	}
}

// TestSharedSupervisorBurst: guests launched all at once into one shared
// supervisor all boot, in that one process, though it sets up only a few
// of them at a time (supervisor/startslots_linux.go); the rest wait for a
// slot after the supervisor took them. Its thread count is logged: the
// bound is what the slots are for (bench/README.md, "Mass boot").
func TestSharedSupervisorBurst(t *testing.T) {
	h := newHarness(t)
	const n = 10
	h.env = []string{fmt.Sprintf("VMLITE_GUESTS_PER_SUPERVISOR=%d", n)}
	names := make([]string, n)
	xmls := make([]string, n)
	for i := range names {
		names[i] = h.uniqueName(fmt.Sprintf("it-burst%d", i))
		xmls[i], _ = h.busybox(names[i], false)
	}
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range names {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = h.run("start", xmls[i])
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("start %s: %v", names[i], r)
		}
	}
	sup := 0
	for _, name := range names {
		h.waitConsole(name, "vmlite-guest: BOOTED "+name)
		s := h.status(name).SupervisorPID
		if sup == 0 {
			sup = s
		}
		if s != sup || s <= 0 {
			t.Errorf("%s runs in supervisor %d, want every guest in %d", name, s, sup)
		}
	}
	if tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", sup)); err == nil {
		t.Logf("supervisor %d: %d threads after %d guests launched at once", sup, len(tasks), n)
	}
	for _, name := range names {
		h.must("destroy", name)
		h.assertGone(name)
	}
	testutil.WaitFor(t, 30*time.Second, "the supervisor ends with its last guest", func() bool { return processGone(sup) })
}
