//go:build integration

package integration

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"vmlite/state"
)

// TestGuestLogFiles: a guest booted by a shared supervisor has one log
// file of its own, its console log (vmlite logs prints it); the start's
// phase times go to supervisors.log under the guest's name, and its
// NAME.supervisor.log is made at its first diagnostic, here its stop, and
// appended to by the next life.
func TestGuestLogFiles(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-glog")
	xml, _ := h.busybox(name, false)
	l := state.NewLayout(h.root)
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	if _, err := os.Stat(l.SupervisorLog(name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s after a clean boot: %v, want no file yet", l.SupervisorLog(name), err)
	}
	if r := h.must("logs", name); !strings.Contains(r.stdout, "BOOTED "+name) {
		t.Errorf("vmlite logs %s: %q, want the boot banner", name, r.stdout)
	}
	pool, err := os.ReadFile(l.Log + "/supervisors.log")
	if err != nil || !strings.Contains(string(pool), name+": ") || !strings.Contains(string(pool), "running as pid") {
		t.Errorf("supervisors.log (%v) lacks the start's phases under %q:\n%s", err, name+": ", pool)
	}
	h.must("destroy", name)
	h.assertGone(name)
	b, err := os.ReadFile(l.SupervisorLog(name))
	if err != nil || !strings.Contains(string(b), "guest ended") {
		t.Fatalf("%s after the stop (%v):\n%s", l.SupervisorLog(name), err, b)
	}
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	h.must("destroy", name)
	h.assertGone(name)
	b2, _ := os.ReadFile(l.SupervisorLog(name))
	if !strings.HasPrefix(string(b2), string(b)) || strings.Count(string(b2), "guest ended") != 2 {
		t.Errorf("%s after a second life, want the first life's lines then the second's:\n%s", l.SupervisorLog(name), b2)
	}
}
