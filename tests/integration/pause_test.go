//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// cpuTime is the guest's CPU time so far (status --json).
func (h *harness) cpuTime(name string) time.Duration {
	h.t.Helper()
	var s struct {
		Resources struct {
			CPUTime time.Duration `json:"cpuTimeNs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(h.must("status", "--json", name).stdout), &s); err != nil {
		h.t.Fatal(err)
	}
	return s.Resources.CPUTime
}

// burnOwnCPU spends d of this process's own CPU time: while a frozen guest
// is looked at, time passes measured in work done, not in a sleep.
func burnOwnCPU(t *testing.T, d time.Duration) {
	var ru syscall.Rusage
	used := func() time.Duration {
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := used()
	x := 0
	for used()-start < d {
		for i := 0; i < 1e6; i++ {
			x += i
		}
	}
	_ = x
}

// TestSuspendResume: a suspended guest's processes use no CPU, its state is
// paused, its console log keeps what it printed; resumed, it runs again;
// stop works on a paused guest. send-signal reaches a process by its pid in
// the guest.
func TestSuspendResume(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-pause")
	xml, _ := h.busybox(name, true)
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	h.must("exec", name, "--", "sh", "-c", "(while :; do :; done) >/dev/null 2>&1 </dev/null &")
	h.must("exec", name, "--", "sh", "-c", "echo before-the-pause > /dev/console")
	h.waitConsole(name, "before-the-pause")
	c0 := h.cpuTime(name)
	testutil.WaitFor(t, 30*time.Second, "the busy loop uses CPU", func() bool { return h.cpuTime(name) > c0 })

	h.must("suspend", name)
	if got := h.must("domstate", "--reason", name).stdout; got != "paused (user)\n" {
		t.Errorf("domstate after suspend: %q", got)
	}
	if r := h.run("suspend", name); r.code == 0 || !strings.Contains(r.stderr, "already paused") {
		t.Errorf("second suspend: %v", r)
	}
	c1 := h.cpuTime(name)
	burnOwnCPU(t, 300*time.Millisecond)
	if c2 := h.cpuTime(name); c2 != c1 {
		t.Errorf("a frozen guest used CPU: %v then %v", c1, c2)
	}
	if !strings.Contains(h.consoleLog(name), "before-the-pause") {
		t.Errorf("the console log lost its content while paused")
	}

	h.must("resume", name)
	if got := h.must("domstate", name).stdout; got != "running\n" {
		t.Errorf("domstate after resume: %q", got)
	}
	testutil.WaitFor(t, 30*time.Second, "the busy loop runs again", func() bool { return h.cpuTime(name) > c1 })
	h.must("exec", name, "--", "sh", "-c", "echo after-the-pause > /dev/console")
	h.waitConsole(name, "after-the-pause")

	// send-signal, pid as the guest sees it.
	h.must("exec", name, "--", "sh", "-c", "sleep 1000 >/dev/null 2>&1 </dev/null &")
	var pid string
	testutil.WaitFor(t, 30*time.Second, "sleep runs in the guest", func() bool {
		pid = strings.TrimSpace(h.run("exec", name, "--", "pidof", "sleep").stdout)
		return pid != ""
	})
	if r := h.run("send-signal", name, "--pid", "99999", "TERM"); r.code != 2 || !strings.Contains(r.stderr, "no process 99999") {
		t.Errorf("send-signal to a pid the guest lacks: %v", r)
	}
	if r := h.run("send-signal", name, "--pid", pid, "SIGNOPE"); r.code != 2 {
		t.Errorf("send-signal with a bad signal: %v", r)
	}
	h.must("send-process-signal", name, "--pid", pid, "term")
	testutil.WaitFor(t, 30*time.Second, "sleep ended by SIGTERM", func() bool {
		return strings.TrimSpace(h.run("exec", name, "--", "pidof", "sleep").stdout) == ""
	})

	h.must("suspend", name)
	h.must("stop", "--timeout", "20", name)
	h.assertGone(name)
}
