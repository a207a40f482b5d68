//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
)

// coreMarker is a package initialiser that the full binary (vmlite-core)
// runs and the front binary does not link (internal/deptest keeps the
// RPC server out of it): with GODEBUG=inittrace=1 its line on stderr
// says that the full CLI ran.
const coreMarker = "init vmlite/libvirtrpc "

// TestFrontStart: a start from a file into a running shared supervisor is
// served by the front binary alone (the full one never runs), boots a
// guest like any start, and takes the same lock: a second start of the
// same name is refused with the full CLI's message; a defined guest's
// start by name is the front's too. The first start, with
// no supervisor running, is the full CLI's (it starts the supervisor).
func TestFrontStart(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"GODEBUG=inittrace=1"}
	a, b := h.uniqueName("it-fsa"), h.uniqueName("it-fsb")
	xa, _ := h.busybox(a, false)
	xb, _ := h.busybox(b, false)

	r := h.must("start", xa)
	if !strings.Contains(r.stderr, coreMarker) {
		t.Fatalf("the first start (no supervisor running) did not run the full CLI (no %q on stderr): %v", coreMarker, r)
	}
	h.waitConsole(a, "vmlite-guest: BOOTED "+a)

	r = h.must("start", xb)
	if strings.Contains(r.stderr, coreMarker) {
		t.Errorf("a start into a running supervisor ran the full CLI:\n%s", r.stderr)
	}
	st := h.status(b)
	if want := fmt.Sprintf("Guest %s started (init pid %d)\n", b, st.InitPID); r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	h.waitConsole(b, "vmlite-guest: BOOTED "+b)
	if sa := h.status(a).SupervisorPID; st.SupervisorPID != sa || sa <= 0 {
		t.Errorf("b's supervisor %d, a's %d: want b in a's", st.SupervisorPID, sa)
	}
	if got := strings.TrimSpace(h.must("exec", b, "--", "hostname").stdout); got != b {
		t.Errorf("hostname of b = %q", got)
	}

	// The same name again: the front finds the lock held and leaves the
	// answer to the full CLI.
	r = h.run("start", xb)
	if r.code != 2 || !strings.Contains(r.stderr, "already running") || !strings.Contains(r.stderr, coreMarker) {
		t.Errorf("second start of %s: want the full CLI's already-running error, exit 2: %v", b, r)
	}
	if st2 := h.status(b); st2.InitPID != st.InitPID {
		t.Errorf("b's init %d after the refused start, was %d", st2.InitPID, st.InitPID)
	}
	// A defined guest by name, into the same supervisor.
	c := h.uniqueName("it-fsc")
	xc, _ := h.busybox(c, false)
	h.must("define", xc)
	r = h.must("start", c)
	if strings.Contains(r.stderr, coreMarker) {
		t.Errorf("a start of defined guest %s into a running supervisor ran the full CLI:\n%s", c, r.stderr)
	}
	h.waitConsole(c, "vmlite-guest: BOOTED "+c)
	if sc := h.status(c).SupervisorPID; sc != st.SupervisorPID {
		t.Errorf("c's supervisor %d, want a's %d", sc, st.SupervisorPID)
	}
	for _, n := range []string{c, b, a} {
		h.must("stop", n, "--timeout", "30s")
		h.assertGone(n)
	}
	h.must("undefine", c)
}
