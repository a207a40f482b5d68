package front

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"vmlite/console"
	"vmlite/internal/testutil"
	"vmlite/state"
	"vmlite/supervisor/ctl"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		args  []string
		ok    bool
		want  cmdline // flags compared when ok
		flags map[string]string
	}{
		{args: []string{"stop", "a"}, ok: true, want: cmdline{cmd: "stop", name: "a"}},
		{args: []string{"--root", "/r", "stop", "a", "--timeout", "5"}, ok: true, want: cmdline{root: "/r", rootSet: true, cmd: "stop", name: "a"}, flags: map[string]string{"timeout": "5"}},
		{args: []string{"shutdown", "--timeout=5s", "a", "--root=/x"}, ok: true, want: cmdline{root: "/x", rootSet: true, cmd: "shutdown", name: "a"}, flags: map[string]string{"timeout": "5s"}},
		{args: []string{"destroy", "a"}, ok: true, want: cmdline{cmd: "destroy", name: "a"}},
		{args: []string{"--root=", "destroy", "a"}, ok: true, want: cmdline{rootSet: true, cmd: "destroy", name: "a"}},
		{args: []string{"console", "a", "--lossless", "--escape", "^a", "--detach-on-eof=false"}, ok: true, want: cmdline{cmd: "console", name: "a"}, flags: map[string]string{"lossless": "true", "escape": "^a", "detach-on-eof": "false"}},
		{args: []string{"stop", "a", "--timeout", "1", "--timeout", "2"}, ok: true, want: cmdline{cmd: "stop", name: "a"}, flags: map[string]string{"timeout": "2"}},
		// Everything else is the full CLI's.
		{args: []string{"stop", "a", "-h"}},
		{args: []string{"stop", "a", "--help"}},
		{args: []string{"stop"}},
		{args: []string{"stop", "a", "b"}},
		{args: []string{"start", "a.xml"}, ok: true, want: cmdline{cmd: "start", name: "a.xml"}},
		{args: []string{"create", "--console", "d/a"}, ok: true, want: cmdline{cmd: "create", name: "d/a"}, flags: map[string]string{"console": "true"}},
		{args: []string{"start", "a.xml", "--timeout", "1"}},
		{args: []string{"start", "-c", "a.xml"}},
		{args: []string{"--timeout", "5", "stop", "a"}},
		{args: []string{"destroy", "a", "--timeout", "5"}},
		{args: []string{"stop", "a", "--timeout"}},
		{args: []string{"stop", "--", "a"}},
		{args: []string{"console", "a", "--lossless=maybe"}},
		{args: []string{"console", "a", "--devname"}},
		{args: []string{"--root"}},
		{args: nil},
		{args: []string{"__supervise", "a"}},
	} {
		got, ok := parse(c.args)
		if ok != c.ok {
			t.Errorf("parse(%q) ok = %v, want %v", c.args, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		flags := got.flags
		if got.root != c.want.root || got.rootSet != c.want.rootSet || got.cmd != c.want.cmd || got.name != c.want.name {
			t.Errorf("parse(%q) = %+v, want %+v", c.args, got, c.want)
		}
		if c.flags == nil {
			c.flags = map[string]string{}
		}
		if len(flags) != len(c.flags) {
			t.Errorf("parse(%q) flags %v, want %v", c.args, flags, c.flags)
		}
		for k, v := range c.flags {
			if flags[k] != v {
				t.Errorf("parse(%q) flag %s = %q, want %q", c.args, k, flags[k], v)
			}
		}
	}
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"30": 30 * time.Second, "1.5": 1500 * time.Millisecond, "2m": 2 * time.Minute, "0": 0} {
		if got, err := ParseSeconds(in); err != nil || got != want {
			t.Errorf("ParseSeconds(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "x", "-5s", "NaN", "2e9"} {
		if d, err := ParseSeconds(bad); err == nil {
			t.Errorf("ParseSeconds(%q) = %v, want an error", bad, d)
		}
	}
}

func TestConsoleName(t *testing.T) {
	for dev, want := range map[string]bool{"console0": true, "console12": true, "console": false, "consolea": false, "tty0": false, "console0x": false, "": false} {
		if got := ConsoleName(dev); got != want {
			t.Errorf("ConsoleName(%q) = %v, want %v", dev, got, want)
		}
	}
}

// fakeSupervisor answers one control request on name's socket under root
// with resp, and hands the request it read to got.
func fakeSupervisor(t *testing.T, root, name string, resp ctl.Response) <-chan ctl.Request {
	t.Helper()
	l := state.NewLayout(root)
	if err := os.MkdirAll(l.RunDir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", l.ControlSocket(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan ctl.Request, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, err := bufio.NewReader(conn).ReadBytes('\n')
		if err != nil {
			return
		}
		var req ctl.Request
		_ = json.Unmarshal(line, &req)
		got <- req
		b, _ := json.Marshal(resp)
		_, _ = conn.Write(append(b, '\n'))
	}()
	return got
}

func TestRunStop(t *testing.T) {
	root := t.TempDir()
	got := fakeSupervisor(t, root, "g", ctl.Response{OK: true, State: state.State{SharedSupervisor: true}})
	var out, errb bytes.Buffer
	code, handled := Run([]string{"--root", root, "stop", "g", "--timeout", "7"}, nil, &out, &errb)
	if !handled || code != 0 {
		t.Fatalf("Run = %d, %v; stderr %q", code, handled, errb.String())
	}
	if req := <-got; req.Op != ctl.OpStop || req.Timeout != 7*time.Second {
		t.Errorf("request %+v, want stop with timeout 7s", req)
	}
	if !strings.HasPrefix(out.String(), "Guest g shut down (") {
		t.Errorf("stdout %q", out.String())
	}

	got = fakeSupervisor(t, root, "h", ctl.Response{OK: true, State: state.State{SharedSupervisor: true}})
	t.Setenv("VMLITE_ROOT", root)
	out.Reset()
	if code, handled := Run([]string{"destroy", "h"}, nil, &out, &errb); !handled || code != 0 {
		t.Fatalf("Run destroy = %d, %v; stderr %q", code, handled, errb.String())
	}
	if req := <-got; req.Op != ctl.OpDestroy {
		t.Errorf("request %+v, want destroy", req)
	}
	if out.String() != "Guest h destroyed\n" {
		t.Errorf("stdout %q", out.String())
	}
}

// TestRunLeavesTheRest: without a supervisor answering, or when it refuses,
// the front does nothing and leaves the command to the full CLI.
func TestRunLeavesTheRest(t *testing.T) {
	root := t.TempDir()
	fakeSupervisor(t, root, "refuses", ctl.Response{Error: "permission denied"})
	for _, args := range [][]string{
		{"--root", root, "stop", "none"},
		{"--root", root, "console", "none"},
		{"--root", root, "stop", "refuses"},
		{"--root", root, "stop", "../x"},
		{"--root", root, "stop", "g", "--timeout", "soon"},
		{"--root", root, "console", "g", "--escape", "^^^"},
		{"--root", root, "console", "g", "--devname", "tty1"},
		{"--root", root, "list"},
	} {
		var out, errb bytes.Buffer
		if code, handled := Run(args, nil, &out, &errb); handled || out.Len() > 0 || errb.Len() > 0 {
			t.Errorf("Run(%q) = %d, %v, stdout %q, stderr %q: want it left to the full CLI", args, code, handled, out.String(), errb.String())
		}
	}
}

// TestStopWaitsForDedicatedSupervisor: the answer of a dedicated
// supervisor (the only guest in its process) comes before the process
// has exited; stop returns once it has.
func TestStopWaitsForDedicatedSupervisor(t *testing.T) {
	root := t.TempDir()
	l := state.NewLayout(root)
	if err := os.MkdirAll(l.RunDir("g"), 0o700); err != nil {
		t.Fatal(err)
	}
	exited := filepath.Join(root, "exited")
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), "FRONT_TEST_SUPERVISOR="+l.ControlSocket("g"), "FRONT_TEST_EXITED="+exited)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := make(chan struct{})
	go func() { _ = helper.Wait(); close(reaped) }()
	defer func() { _ = helper.Process.Kill(); <-reaped }()
	testutil.WaitFor(t, 10*time.Second, "helper listening", func() bool {
		_, err := os.Stat(l.ControlSocket("g"))
		return err == nil
	})
	var out, errb bytes.Buffer
	if code, handled := Run([]string{"--root", root, "stop", "g"}, nil, &out, &errb); !handled || code != 0 {
		t.Fatalf("Run = %d, %v; stderr %q", code, handled, errb.String())
	}
	// The helper answers, then writes exited, then exits: a stop that
	// returned on the answer alone would usually miss the file, and one
	// that returned before the exit would find the process running.
	if _, err := os.Stat(exited); err != nil {
		t.Errorf("stop returned before the supervisor was done: %v", err)
	}
	select {
	case <-reaped:
	case <-time.After(10 * time.Second):
		t.Error("the supervisor still runs after stop returned")
	}
}

// TestMain runs the fake dedicated supervisor of
// TestStopWaitsForDedicatedSupervisor when asked to.
func TestMain(m *testing.M) {
	if sock := os.Getenv("FRONT_TEST_SUPERVISOR"); sock != "" {
		// Listening before the socket appears under its name: the test
		// connects as soon as it sees it.
		ln, err := net.Listen("unix", sock+".new")
		if err != nil || os.Rename(sock+".new", sock) != nil {
			os.Exit(3)
		}
		conn, err := ln.Accept()
		if err != nil {
			os.Exit(3)
		}
		if _, err := bufio.NewReader(conn).ReadBytes('\n'); err != nil {
			os.Exit(3)
		}
		b, _ := json.Marshal(ctl.Response{OK: true, State: state.State{SupervisorPID: os.Getpid()}})
		_, _ = conn.Write(append(b, '\n'))
		conn.Close()
		// Teardown work after the answer, as a supervisor's fsync.
		time.Sleep(200 * time.Millisecond)
		_ = os.WriteFile(os.Getenv("FRONT_TEST_EXITED"), nil, 0o600)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunConsole attaches through the front to a real multiplexer on a pty.
func TestRunConsole(t *testing.T) {
	root := t.TempDir()
	l := state.NewLayout(root)
	if err := os.MkdirAll(l.RunDir("g"), 0o700); err != nil {
		t.Fatal(err)
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	m, err := console.NewMux(console.Config{Master: master, Name: "g"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ln, err := console.Listen(l.ConsoleSocket("g", "console0"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.Serve(ln) }()
	if _, err := slave.Write([]byte("BOOTED g\r\n")); err != nil {
		t.Fatal(err)
	}
	// The multiplexer takes the output into its scrollback in its own
	// time: attach until the replay shows it.
	var out, errb bytes.Buffer
	var code int
	var handled bool
	testutil.WaitFor(t, 10*time.Second, "the guest's output replayed", func() bool {
		out.Reset()
		errb.Reset()
		code, handled = Run([]string{"--root", root, "console", "g", "--detach-on-eof"}, strings.NewReader(""), &out, &errb)
		return !handled || code != 0 || strings.Contains(out.String(), "BOOTED g")
	})
	if !handled || code != 0 || !strings.Contains(out.String(), "BOOTED g") {
		t.Errorf("Run console = %d, %v, stdout %q, stderr %q", code, handled, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "Connected to guest g (console0)") {
		t.Errorf("stderr %q: want the connected notice", errb.String())
	}
}
