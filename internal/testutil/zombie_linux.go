package testutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// zombieLeaderEnv makes a test binary, re-executed by ZombieLeader, end
// its main thread alone in its package initialisers.
const zombieLeaderEnv = "VMLITE_TESTUTIL_ZOMBIE_LEADER"

func init() {
	if os.Getenv(zombieLeaderEnv) != "1" {
		return
	}
	// Package initialisers run on the main thread, the thread-group
	// leader. Another thread waits for stdin to close, then ends the
	// process; the leader ends itself alone (exit, not exit_group), a
	// zombie while the process lives on.
	ready := make(chan struct{})
	go func() {
		os.Stdout.WriteString("ready\n")
		close(ready)
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	<-ready
	// Syscall, not RawSyscall: the runtime hands the thread's P to
	// another thread once it is in the call, which never returns.
	syscall.Syscall(syscall.SYS_EXIT, 0, 0, 0)
}

// ZombieLeader starts a process whose thread-group leader has ended
// while another of its threads runs: its /proc/PID/stat says zombie,
// yet it has not exited (it holds its files, its cgroup, its pid
// namespace), as a killed multi-threaded process is while its other
// threads are still exiting. It ends with the test. The caller's test
// binary must import this package (any test binary that calls this
// does).
func ZombieLeader(t testing.TB) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), zombieLeaderEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("zombie-leader child: %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	WaitFor(t, 30*time.Second, fmt.Sprintf("process %d's leader a zombie, another thread running", pid), func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		return len(f) > 0 && f[0] == "Z" && err == nil && len(tasks) > 1
	})
	return pid
}
