//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestServeSuspend: virsh suspend and resume through vmlite serve freeze
// and thaw the guest's cgroup (the same service call as vmlite suspend);
// virsh sees the state paused, lists it among the paused, and its event
// loop gets Suspended and Resumed; resuming a running guest is libvirt's
// OPERATION_INVALID.
func TestServeSuspend(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpcpause")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	t.Cleanup(func() { h.run("destroy", name); h.run("undefine", name) })
	_, out := startTool(t, nil, "virsh", "-c", d.uri(d.rw), "event", "--event", "lifecycle", "--loop", "--timeout", "120")
	testutil.WaitFor(t, 30*time.Second, "virsh event to see a redefinition", func() bool {
		h.must("define", xml)
		return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': Defined Updated")
	})
	h.must("start", name)
	d.mustVirsh("suspend", name)
	if st := strings.TrimSpace(d.mustVirsh("domstate", name).stdout); st != "paused" {
		t.Errorf("virsh domstate after suspend: %q, want paused", st)
	}
	if r := d.mustVirsh("list", "--state-paused", "--name"); !strings.Contains(r.stdout, name) {
		t.Errorf("virsh list --state-paused:\n%s", r.stdout)
	}
	if st := h.status(name).State; st != "paused" {
		t.Errorf("vmlite status after virsh suspend: %s", st)
	}
	if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/freezer", h.status(name).Cgroup, "freezer.state")); err == nil && strings.TrimSpace(string(b)) != "FROZEN" {
		t.Errorf("freezer.state after suspend: %q", b)
	}
	d.mustVirsh("suspend", name) // already paused: nothing to do, as libvirt-lxc
	d.mustVirsh("resume", name)
	if st := strings.TrimSpace(d.mustVirsh("domstate", name).stdout); st != "running" {
		t.Errorf("virsh domstate after resume: %q, want running", st)
	}
	if r := d.virsh(d.rw, "resume", name); r.code == 0 || !strings.Contains(r.stderr, "domain is already running") {
		t.Errorf("virsh resume of a running guest: %v", r)
	}
	for _, want := range []string{"Suspended Paused", "Resumed Unpaused"} {
		testutil.WaitFor(t, 30*time.Second, "a "+want+" event", func() bool {
			return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': "+want)
		})
	}
	if r := d.virsh(d.ro, "suspend", name); r.code == 0 || !strings.Contains(r.stderr, "operation forbidden") {
		t.Errorf("virsh suspend on the read-only socket: %v", r)
	}
}
