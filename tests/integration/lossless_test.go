//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestConsoleLossless: `vmlite console --lossless` whose reader falls far
// behind (the test reads nothing until the guest's writer is blocked in
// its tty write) still gets every line, and the guest then finishes.
func TestConsoleLossless(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("ll")
	x, _ := h.busybox(name, false)
	h.must("start", x)
	h.waitState(name, "running")

	cmd := exec.Command(bin, "--root", h.root, "console", name, "--lossless", "--escape", "none")
	cmd.Stdin = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Attached before the output starts: the client's first frame makes it
	// lossless; the connected notice goes to stderr.
	testutil.WaitFor(t, 30*time.Second, "the console client attached", func() bool {
		r := h.must("status", name)
		return strings.Contains(r.stdout, "1 client(s)")
	})

	// About 4.5 MB: far more than the client's queue, the socket buffers and
	// the pipe to this test together.
	const lines = 600000
	writer := exec.Command(bin, "--root", h.root, "exec", name, "--", "sh", "-c", fmt.Sprintf("seq 1 %d > /dev/console; echo LOSSLESS-END > /dev/console", lines))
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	writerDone := make(chan error, 1)
	go func() { writerDone <- writer.Wait() }()
	t.Cleanup(func() {
		_ = writer.Process.Kill()
		<-writerDone
	})
	testutil.WaitFor(t, 60*time.Second, "the guest's seq blocked writing to its console", func() bool {
		select {
		case err := <-writerDone:
			writerDone <- err
			t.Fatalf("the guest wrote everything while the lossless client read nothing (exec: %v): output was dropped", err)
		default:
		}
		return ttyBlocked("seq")
	})

	sc := bufio.NewScanner(out)
	next := 1
	var prev []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		prev = append(prev, line)
		if len(prev) > 5 {
			prev = prev[1:]
		}
		if line == "LOSSLESS-END" {
			break
		}
		if strings.Contains(line, "dropped") {
			t.Fatalf("lossless client got a drop notice after line %d: %q", next-1, line)
		}
		if next == 1 {
			// The first number may follow the shell's prompt on its line.
			line = line[len(strings.TrimRight(line, "0123456789")):]
		}
		n, err := strconv.Atoi(line)
		if err != nil || n < next || (next == 1 && n != 1) {
			continue // boot output before the sequence
		}
		if n != next {
			t.Fatalf("lossless client: line %d follows %d: lines were lost (last lines %q)", n, next-1, prev)
		}
		next++
	}
	if next != lines+1 {
		t.Fatalf("lossless client got lines 1-%d of %d (scanner: %v)", next-1, lines, sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	select {
	case err := <-writerDone:
		writerDone <- err
		if err != nil {
			t.Errorf("exec of the writer: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the guest's writer did not finish once the client read")
	}
}

// ttyBlocked reports whether a process called comm sleeps in a tty write
// (its wchan names the kernel function it waits in).
func ttyBlocked(comm string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(c)) != comm {
			continue
		}
		w, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "wchan"))
		if strings.Contains(string(w), "tty_write") || strings.Contains(string(w), "wait_woken") {
			return true
		}
	}
	return false
}
