package supervisor

import (
	"bufio"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestParseSignal: every signal name that validation accepts is one the stop
// code can send (SIGWINCH, SIGCHLD and SIGRTMAX-2 were accepted by the XML
// check and then read as "no shutdown signal", so stop killed the guest).
func TestParseSignal(t *testing.T) {
	for name, want := range map[string]unix.Signal{
		"SIGTERM":    unix.SIGTERM,
		"SIGPWR":     unix.SIGPWR,
		"SIGWINCH":   unix.SIGWINCH,
		"SIGCHLD":    unix.SIGCHLD,
		"SIGRTMIN":   34,
		"SIGRTMIN+4": 38,
		"SIGRTMAX":   64,
		"SIGRTMAX-2": 62,
	} {
		got, ok := parseSignal(name)
		if !ok || got != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "SIGNOPE", "TERM", "SIGRTMIN+31", "SIGRTMAX-31", "12"} {
		if got, ok := parseSignal(name); ok {
			t.Errorf("parseSignal(%q) = %d, want no signal", name, got)
		}
	}
}

// TestCatches: stop sends its signal only once init handles (or blocks) it,
// read from /proc/PID/status: a sleep does not, a shell that traps it does.
func TestCatches(t *testing.T) {
	start := func(script string) *exec.Cmd {
		cmd := exec.Command("sh", "-c", script)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// The script prints once its trap is set (or at once).
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	plain := start("echo ready; exec sleep 100")
	trapped := start("trap : WINCH; echo ready; while :; do sleep 1; done")
	if catches(plain.Process.Pid, unix.SIGWINCH) {
		t.Error("sleep is seen to catch SIGWINCH")
	}
	if !catches(trapped.Process.Pid, unix.SIGWINCH) {
		t.Error("a shell trapping SIGWINCH is not seen to catch it")
	}
	if catches(1<<30, unix.SIGTERM) {
		t.Error("a process that does not exist catches SIGTERM")
	}
}
