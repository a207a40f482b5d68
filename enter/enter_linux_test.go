package enter

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"vmlite/internal/testutil"
)

// The helper and its second stage are this test binary, re-executed.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case Role:
			os.Exit(Main())
		case InsideRole:
			os.Exit(MainInside())
		}
	}
	os.Exit(m.Run())
}

// target starts a process in new mount, uts, ipc, net, pid and cgroup
// namespaces with its own hostname, as a guest's init is.
func target(t *testing.T, hostname string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", "hostname "+hostname+" && echo ready && exec sleep 1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC |
		syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWCGROUP}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if l, err := bufio.NewReader(out).ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("target: %q, %v", l, err)
	}
	return cmd.Process.Pid
}

// enterRun runs argv in pid's namespaces through the helper; it returns
// the output, the exit status and the status pipe's message.
func enterRun(t *testing.T, c *Config) (string, int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd, err := Command(c, w)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(r)
	_ = cmd.Wait()
	return out.String(), cmd.ProcessState.ExitCode(), string(msg)
}

// TestEnter enters real namespaces: the command sees the target's
// hostname and pid namespace, lacks the dropped capability, and its exit
// status comes back; an unknown user and a reused pid are refused on the
// status pipe.
func TestEnter(t *testing.T) {
	testutil.RequireRoot(t)
	pid := target(t, "enter-test")
	base := Config{InitPID: pid, Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Drop: []string{"CAP_SYS_ADMIN"}}

	c := base
	c.Argv = []string{"sh", "-c", "hostname; grep CapBnd /proc/self/status; readlink /proc/self/ns/pid"}
	out, code, msg := enterRun(t, &c)
	if code != 0 || msg != "" {
		t.Fatalf("exit %d, status %q, output %q", code, msg, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "enter-test" {
		t.Fatalf("output %q, want the target's hostname first", out)
	}
	bnd, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(lines[1], "CapBnd:")), 16, 64)
	if err != nil || bnd&(1<<21) != 0 {
		t.Errorf("bounding set %q: CAP_SYS_ADMIN not dropped (%v)", lines[1], err)
	}
	want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if lines[2] != want {
		t.Errorf("pid namespace %s, want the target's %s", lines[2], want)
	}

	c = base
	c.Argv = []string{"sh", "-c", "exit 7"}
	if _, code, _ := enterRun(t, &c); code != 7 {
		t.Errorf("exit status %d, want 7", code)
	}

	c = base
	c.User, c.Argv = "no-such-user", []string{"true"}
	if _, code, msg := enterRun(t, &c); code != 125 || !strings.HasPrefix(msg, "user: ") {
		t.Errorf("unknown user: exit %d, status %q; want 125 and a user error", code, msg)
	}

	c = base
	c.InitStart, c.Argv = 1, []string{"true"} // not the target's start time
	if _, code, msg := enterRun(t, &c); code != 125 || !strings.Contains(msg, "is gone") {
		t.Errorf("wrong start time: exit %d, status %q; want 125, refused", code, msg)
	}
}
