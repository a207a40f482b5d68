//go:build integration

package integration

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"vmlite/internal/testutil"
)

// consoleProc is a `vmlite console` client process with piped stdio.
type consoleProc struct {
	cmd            *exec.Cmd
	in             io.WriteCloser
	stdout, stderr *lockedBuffer
	done           chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (h *harness) startConsole(name string, args ...string) *consoleProc {
	h.t.Helper()
	cmd := exec.Command(bin, append([]string{"--root", h.root, "console", name}, args...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	c := &consoleProc{cmd: cmd, in: in, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() { c.done <- cmd.Wait() }()
	h.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

func (c *consoleProc) waitOut(t *testing.T, what, s string) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, what+" (stdout so far: "+tail(c.stdout.String())+")", func() bool {
		return strings.Contains(c.stdout.String(), s)
	})
}

func (c *consoleProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatal("console client did not exit")
		return -1
	}
}

func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestConsoleEndToEnd drives a booted busybox guest's console: two piped
// clients and a terminal client at once, replay, typing, window size, detach,
// the guest stopping under attached clients, logs of the stopped guest, and
// the supervisor's fds across many attach/detach cycles.
func TestConsoleEndToEnd(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-con")
	xml, _ := h.busybox(name, false)
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	booted := "vmlite-guest: BOOTED " + name

	// Two clients: both get the boot log replayed, both see what one types.
	a := h.startConsole(name)
	b := h.startConsole(name)
	a.waitOut(t, "replay for client a", booted)
	b.waitOut(t, "replay for client b", booted)
	if _, err := a.in.Write([]byte("echo e2e-$((6*7))\n")); err != nil {
		t.Fatal(err)
	}
	a.waitOut(t, "typing client sees the result", "e2e-42")
	b.waitOut(t, "other client sees the result", "e2e-42")
	if !strings.Contains(a.stderr.String(), "Connected to guest "+name+" (console0). Escape character is ^]") {
		t.Errorf("notice on stderr = %q", a.stderr.String())
	}

	// A terminal client: its size reaches the guest, and follows a resize.
	cmd := exec.Command(bin, "--root", h.root, "console", name)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 111})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	tout := &lockedBuffer{}
	go func() { _, _ = io.Copy(tout, ptmx) }()
	tdone := make(chan error, 1)
	go func() { tdone <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
	}()
	testutil.WaitFor(t, 60*time.Second, "terminal client attached", func() bool { return strings.Contains(tout.String(), booted) })
	if _, err := ptmx.Write([]byte("stty size\r")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 60*time.Second, "guest sees 33x111 (terminal: "+tail(tout.String())+")", func() bool {
		return strings.Contains(tout.String(), "33 111")
	})
	// The kernel sends SIGWINCH to the client, the pty's foreground process.
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 44, Cols: 122}); err != nil {
		t.Fatal(err)
	}
	// The resize travels asynchronously: ask again after each answer that
	// still has the old size.
	asked := 0
	testutil.WaitFor(t, 60*time.Second, "guest sees 44x122", func() bool {
		if strings.Contains(tout.String(), "44 122") {
			return true
		}
		if strings.Count(tout.String(), "33 111") > asked {
			asked++
			if _, err := ptmx.Write([]byte("stty size\r")); err != nil {
				t.Fatal(err)
			}
		}
		return false
	})
	// Ctrl-] detaches the terminal client only.
	if _, err := ptmx.Write([]byte{0x1d}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-tdone:
		if err != nil {
			t.Fatalf("terminal client after Ctrl-]: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Ctrl-] did not detach")
	}
	if _, err := b.in.Write([]byte("echo still-$((1+1))\n")); err != nil {
		t.Fatal(err)
	}
	a.waitOut(t, "clients keep working after another detached", "still-2")

	// Many attach/detach cycles leave the supervisor's fds as they were.
	sup := h.status(name).SupervisorPID
	fds0 := fdCount(t, sup)
	for i := 0; i < 100; i++ {
		r := h.runIn("\x1d", "console", name)
		if r.code != 0 || !strings.Contains(r.stdout, booted) {
			t.Fatalf("cycle %d: %v", i, r)
		}
	}
	testutil.WaitFor(t, 60*time.Second, "supervisor fds back to the baseline", func() bool { return fdCount(t, sup) <= fds0 })

	// The guest stops under the attached clients.
	h.must("stop", name, "--timeout", "30s")
	for _, c := range []*consoleProc{a, b} {
		if code := c.wait(t); code != 0 {
			t.Errorf("client exit %d after the guest stopped; stderr %q", code, c.stderr.String())
		}
		if !strings.Contains(c.stderr.String(), "guest "+name+" stopped") {
			t.Errorf("client stderr = %q, want the stopped message", c.stderr.String())
		}
		if !strings.Contains(c.stdout.String(), "vmlite-guest: SHUTDOWN "+name) {
			t.Errorf("client missed the guest's last output: %q", tail(c.stdout.String()))
		}
	}

	// The log of the stopped guest; console refuses it.
	out := h.must("logs", name).stdout
	for _, s := range []string{booted, "e2e-42", "SHUTDOWN " + name} {
		if !strings.Contains(out, s) {
			t.Errorf("logs lack %q:\n%s", s, tail(out))
		}
	}
	if r := h.run("console", name); r.code != 2 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("console of a stopped guest: %v", r)
	}
}

// TestStartConsole: `vmlite start --console` attaches right after boot and,
// thanks to the replay, shows the boot from its first line.
func TestStartConsole(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-scon")
	xml, _ := h.busybox(name, false)
	cmd := exec.Command(bin, "--root", h.root, "start", "--console", xml)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &consoleProc{cmd: cmd, in: in, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	c.waitOut(t, "boot on the console", "vmlite-guest: BOOTED "+name)
	out := c.stdout.String()
	started := strings.Index(out, "Guest "+name+" started")
	if started < 0 {
		t.Fatalf("no start message before the console: %q", tail(out))
	}
	// Everything the guest printed up to BOOTED is in the client's output:
	// compare with the log, which the supervisor wrote from the first byte.
	log := h.consoleLog(name)
	marker := "vmlite-guest: BOOTED " + name
	end := strings.Index(log, marker) + len(marker)
	if end < len(marker) || !strings.Contains(out, log[:end]) {
		t.Errorf("the client missed boot output:\nlog: %q\nclient: %q", tail(log), tail(out))
	}
	t.Logf("the client showed all %d bytes of the log up to BOOTED", end)
	if _, err := in.Write([]byte{0x1d}); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 0 {
		t.Fatalf("start --console exit %d after Ctrl-]; stderr %q", code, c.stderr.String())
	}
	if st := h.status(name); st.State != "running" {
		t.Fatalf("guest %s after detach, want running", st.State)
	}
}
