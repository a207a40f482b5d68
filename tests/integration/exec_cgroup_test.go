//go:build integration

package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestExecJoinsGuestCgroups: a command vmlite exec starts is in its
// guest's cgroup in every hierarchy, the v1 ones (which the entering
// child joins itself) and the cgroup2 tree (the hybrid host's unified
// one, or the whole host's: the child is born there), as the host sees
// it and as the guest does (its cgroup namespace's root, as init's).
func TestExecJoinsGuestCgroups(t *testing.T) {
	h := newHarness(t)
	for _, mapped := range []bool{false, true} {
		name := h.uniqueName("it-excg")
		xml, _ := h.busybox(name, mapped)
		h.must("start", xml)
		h.waitConsole(name, "vmlite-guest: BOOTED "+name)
		initPID := h.status(name).InitPID

		inside := strings.Split(h.must("exec", name, "--", "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup").stdout, "--\n")
		if len(inside) != 2 || inside[0] != inside[1] {
			t.Errorf("mapped %v: the exec'd command's cgroups as the guest sees them, then init's:\n%q", mapped, inside)
		}

		// A command left running, found from the host by its argument.
		arg := strconv.Itoa(900000 + os.Getpid()%10000)
		h.must("exec", name, "--", "sh", "-c", "sleep "+arg+" </dev/null >/dev/null 2>&1 &")
		var pid int
		testutil.WaitFor(t, 30*time.Second, "the exec'd sleep "+arg, func() bool {
			pid = processWithCmdline("sleep\x00" + arg + "\x00")
			return pid > 0
		})
		want, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", initPID))
		got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if len(want) == 0 || string(got) != string(want) {
			t.Errorf("mapped %v: the exec'd command's cgroups:\n%s\nits guest init's:\n%s", mapped, got, want)
		}
		hybrid := false
		if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
			hybrid = true
		}
		if v2 := strings.Contains(string(got), "\n0::/") || strings.HasPrefix(string(got), "0::/"); hybrid && !v2 {
			t.Errorf("no cgroup2 line in %q on a hybrid host", got)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		h.must("destroy", name)
		h.assertGone(name)
	}
}

// processWithCmdline is the pid of a live process whose command line is
// cmdline (NUL-separated, as /proc shows it), 0 if none.
func processWithCmdline(cmdline string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && string(b) == cmdline && !processGone(pid) {
			return pid
		}
	}
	return 0
}
