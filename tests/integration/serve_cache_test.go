//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestServeListAfterEvent: the daemon answers lists from memory, and no
// answer is older than an event it already sent: once virsh event has
// seen a change made with the vmlite CLI (or by the guest itself), the
// next list and state calls show it, with no wait.
func TestServeListAfterEvent(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpclc")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	_, out := startTool(t, nil, "virsh", "-c", d.uri(d.rw), "event", "--all", "--loop", "--timeout", "120")
	testutil.WaitFor(t, 30*time.Second, "virsh event to see a redefinition", func() bool {
		h.must("define", xml)
		return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': Defined Updated")
	})
	listed := func() bool {
		return strings.Contains("\n"+d.mustVirsh("list", "--all", "--name").stdout+"\n", "\n"+name+"\n")
	}
	state := func() string { return strings.TrimSpace(d.mustVirsh("domstate", name).stdout) }
	if !listed() || state() != "shut off" {
		t.Fatalf("a defined guest: listed %v, state %q", listed(), state())
	}
	seen := func(what, ev string) {
		t.Helper()
		testutil.WaitFor(t, 60*time.Second, what, func() bool {
			return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': "+ev)
		})
	}
	h.must("start", name)
	seen("a Started event for the CLI start", "Started Booted")
	if got := state(); got != "running" {
		t.Fatalf("state after the Started event: %q, want running", got)
	}
	if !strings.Contains(d.mustVirsh("list", "--state-running", "--name").stdout, name) {
		t.Fatal("a running guest missing from virsh list after its Started event")
	}
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	h.must("exec", name, "--", "poweroff")
	seen("a Stopped event for the guest's own poweroff", "Stopped Shutdown")
	if got := state(); got != "shut off" {
		t.Fatalf("state after the Stopped event: %q, want shut off", got)
	}
	h.must("undefine", name)
	seen("an Undefined event", "Undefined Removed")
	if listed() {
		t.Fatal("an undefined guest still listed after its Undefined event")
	}
}
