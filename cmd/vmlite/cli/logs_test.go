package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"vmlite/console"
	"vmlite/internal/testutil"
	"vmlite/state"
)

func TestLogsCommand(t *testing.T) {
	tests := []struct {
		name     string
		rotated  string // content of LOG.1; "" = none
		current  string // content of LOG; "" = none
		defined  bool
		wantCode int
		wantOut  string
	}{
		{"unknown guest", "", "", false, ExitUser, ""},
		{"stopped guest, rotated log", "boot part one\n", "part two\n", false, ExitOK, "boot part one\npart two\n"},
		{"only the current log", "", "hello\n", false, ExitOK, "hello\n"},
		{"only the rotated log", "old\n", "", false, ExitOK, "old\n"},
		{"defined guest that never ran", "", "", true, ExitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			l := state.NewLayout(root)
			if err := l.Ensure(); err != nil {
				t.Fatal(err)
			}
			log := l.ConsoleLog("g1")
			for path, content := range map[string]string{console.RotatedPath(log): tc.rotated, log: tc.current} {
				if content != "" {
					if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.defined {
				if err := os.WriteFile(l.DomainFile("g1"), []byte("<domain/>"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var stdout, stderr bytes.Buffer
			code := Run([]string{"--root", root, "logs", "g1"}, strings.NewReader(""), &stdout, &stderr)
			if code != tc.wantCode || stdout.String() != tc.wantOut {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q", code, stdout.String(), stderr.String(), tc.wantCode, tc.wantOut)
			}
		})
	}
}

// TestLogsFollow follows the log of a "running" guest (the test holds its
// lock) through appends and a rotation, then releases the lock: logs -f
// prints the rest and exits.
func TestLogsFollow(t *testing.T) {
	root := t.TempDir()
	l := state.NewLayout(root)
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.RunDir("g1"), 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := state.TryLock(l.LockFile("g1"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	log := l.ConsoleLog("g1")
	appendLog := func(s string) {
		t.Helper()
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	appendLog("line 1\n")

	var stdout, stderr lockedBuf
	done := make(chan int, 1)
	go func() {
		done <- Run([]string{"--root", root, "logs", "-f", "g1"}, strings.NewReader(""), &stdout, &stderr)
	}()
	testutil.WaitFor(t, 20*time.Second, "initial content", func() bool { return stdout.String() == "line 1\n" })
	appendLog("line 2\n")
	testutil.WaitFor(t, 20*time.Second, "appended line", func() bool { return stdout.String() == "line 1\nline 2\n" })
	// Rotate as the Mux does: a last write to the old file, rename, new file.
	appendLog("line 3\n")
	if err := os.Rename(log, console.RotatedPath(log)); err != nil {
		t.Fatal(err)
	}
	appendLog("line 4\n")
	testutil.WaitFor(t, 20*time.Second, "lines across the rotation", func() bool {
		return stdout.String() == "line 1\nline 2\nline 3\nline 4\n"
	})
	// The guest stops: its last words, then the supervisor's lock goes.
	appendLog("last words\n")
	lock.Close()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("logs -f did not exit after the guest stopped")
	}
	if got := stdout.String(); got != "line 1\nline 2\nline 3\nline 4\nlast words\n" {
		t.Fatalf("stdout = %q", got)
	}
}
