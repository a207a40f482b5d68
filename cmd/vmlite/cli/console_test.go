package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"vmlite/cmd/internal/front"
	"vmlite/console"
	"vmlite/internal/testutil"
	"vmlite/plan"
	"vmlite/state"
)

// fakeGuest plays a running guest's supervisor: it holds the lock and serves
// console0 with a real Mux on a real pty.
type fakeGuest struct {
	root  string
	name  string
	m     *console.Mux
	slave *os.File
}

func newFakeGuest(t *testing.T, withSocket bool, consoles ...string) *fakeGuest {
	t.Helper()
	g := &fakeGuest{root: t.TempDir(), name: "g1"}
	l := state.NewLayout(g.root)
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.RunDir(g.name), 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := state.TryLock(l.LockFile(g.name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	if len(consoles) > 0 {
		p := plan.Plan{Version: plan.Version, Name: g.name}
		for i, c := range consoles {
			p.Consoles = append(p.Consoles, plan.Console{Port: i, Name: c})
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.PlanFile(g.name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !withSocket {
		return g
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	g.slave = slave
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	g.m, err = console.NewMux(console.Config{Master: master, Name: g.name, LogPath: l.ConsoleLog(g.name)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := console.Listen(l.ConsoleSocket(g.name, "console0"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.m.Serve(ln) }()
	t.Cleanup(func() {
		g.m.Close()
		slave.Close()
	})
	return g
}

// lockedBuf is a bytes.Buffer safe to read while Run writes it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// consoleTest is one case of TestConsoleCommand.
type consoleTest struct {
	name       string
	setup      func(t *testing.T) *fakeGuest
	args       []string
	input      string
	stop       bool // stop the guest once the client is attached
	wantCode   int
	wantOut    string
	wantStderr string
}

func TestConsoleCommand(t *testing.T) {
	tests := []consoleTest{
		{"unknown guest", func(t *testing.T) *fakeGuest { return &fakeGuest{root: t.TempDir(), name: "g1"} },
			nil, "", false, ExitUser, "", "not found"},
		{"defined, not running", func(t *testing.T) *fakeGuest {
			g := &fakeGuest{root: t.TempDir(), name: "g1"}
			l := state.NewLayout(g.root)
			if err := l.Ensure(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(l.DomainFile("g1"), []byte("<domain/>"), 0o644); err != nil {
				t.Fatal(err)
			}
			return g
		}, nil, "", false, ExitUser, "", "not running"},
		{"orphaned: supervisor killed", func(t *testing.T) *fakeGuest {
			g := &fakeGuest{root: t.TempDir(), name: "g1"}
			l := state.NewLayout(g.root)
			if err := l.Ensure(); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(l.RunDir("g1"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := state.Write(l.StateFile("g1"), &state.State{Name: "g1", Status: state.Running}); err != nil {
				t.Fatal(err)
			}
			return g
		}, nil, "", false, ExitUser, "", "supervisor is gone"},
		{"bad devname", func(t *testing.T) *fakeGuest { return newFakeGuest(t, false) },
			[]string{"--devname", "tty1"}, "", false, ExitUser, "", "want consoleN"},
		{"no such console", func(t *testing.T) *fakeGuest { return newFakeGuest(t, false, "console0") },
			[]string{"--devname", "console1"}, "", false, ExitUser, "", "has no console console1 (it has console0)"},
		{"bad escape", func(t *testing.T) *fakeGuest { return newFakeGuest(t, true) },
			[]string{"--escape", "xyz"}, "", false, ExitUser, "", "--escape"},
		{"socket gone", func(t *testing.T) *fakeGuest { return newFakeGuest(t, false) },
			nil, "", false, ExitError, "", "socket is gone"},
		{"attach and detach", func(t *testing.T) *fakeGuest { return newFakeGuest(t, true, "console0") },
			nil, "\x1d", false, ExitOK, "boot: hello\n", "Connected to guest g1 (console0). Escape character is ^]\n"},
		{"guest stops", func(t *testing.T) *fakeGuest { return newFakeGuest(t, true) },
			nil, "", true, ExitOK, "boot: hello\n", "\nguest g1 stopped\n"},
		{"detach on EOF", func(t *testing.T) *fakeGuest { return newFakeGuest(t, true) },
			[]string{"--detach-on-eof"}, "", false, ExitOK, "boot: hello\n", "Escape character is ^]"},
		{"escape disabled", func(t *testing.T) *fakeGuest { return newFakeGuest(t, true) },
			[]string{"--escape", "none", "--detach-on-eof"}, "", false, ExitOK, "", "Escape character is disabled"},
	}
	// Each case twice: the CLI alone, and as the binaries run it (the
	// front's fast path first, the CLI for what it leaves).
	for _, tc := range tests {
		for _, via := range []string{"cli", "front"} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				consoleCase(t, tc, via == "front")
			})
		}
	}
}

// consoleCase runs tc, through the front's fast path first when viaFront.
func consoleCase(t *testing.T, tc consoleTest, viaFront bool) {
	g := tc.setup(t)
	if g.slave != nil {
		if _, err := g.slave.Write([]byte("boot: hello\n")); err != nil {
			t.Fatal(err)
		}
		logPath := state.NewLayout(g.root).ConsoleLog(g.name)
		testutil.WaitFor(t, 20*time.Second, "boot output logged", func() bool {
			b, _ := os.ReadFile(logPath)
			return len(b) > 0
		})
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.WriteString(tc.input); err != nil {
		t.Fatal(err)
	}
	if tc.stop || strings.Contains(strings.Join(tc.args, " "), "--detach-on-eof") {
		w.Close()
	}
	var stdout, stderr lockedBuf
	done := make(chan int, 1)
	go func() {
		args := append([]string{"--root", g.root, "console", g.name}, tc.args...)
		if viaFront {
			if code, handled := front.Run(args, r, &stdout, &stderr); handled {
				done <- code
				return
			}
		}
		done <- Run(args, r, &stdout, &stderr)
	}()
	if tc.stop {
		testutil.WaitFor(t, 20*time.Second, "client attached", func() bool { return g.m.Clients() == 1 })
		if err := g.m.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var code int
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("console did not return")
	}
	if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantOut) || !strings.Contains(stderr.String(), tc.wantStderr) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
			code, stdout.String(), stderr.String(), tc.wantCode, tc.wantOut, tc.wantStderr)
	}
	if strings.Contains(stdout.String(), "Connected to guest") {
		t.Fatalf("notice on stdout of a piped client: %q", stdout.String())
	}
}

// TestAttachConsoleForStart covers the entry point of `vmlite start
// --console`: the default options, the boot output replayed.
func TestAttachConsoleForStart(t *testing.T) {
	g := newFakeGuest(t, true)
	if _, err := g.slave.Write([]byte("booting\n")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "boot output logged", func() bool {
		b, _ := os.ReadFile(state.NewLayout(g.root).ConsoleLog(g.name))
		return len(b) > 0
	})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.Write([]byte{console.DefaultEscape}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr lockedBuf
	app := &App{Layout: state.NewLayout(g.root), Stdin: r, Stdout: &stdout, Stderr: &stderr}
	if err := app.attachConsole(g.name, "console0"); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "booting\n" {
		t.Fatalf("stdout = %q, want the boot output", stdout.String())
	}
}
