//go:build integration

package integration

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// startTool starts a long-running client whose output the test watches.
func startTool(t *testing.T, stdin io.Reader, name string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	requireTool(t, name)
	out := &syncBuffer{}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = out, out, stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, out
}

// TestServeEvents: `virsh event --all --loop` sees a start made with the
// vmlite CLI, and the guest powering itself off, which only its
// supervisor sees.
func TestServeEvents(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpcev")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	_, out := startTool(t, nil, "virsh", "-c", d.uri(d.rw), "event", "--all", "--loop", "--timeout", "120")
	// virsh registers 27 callbacks, then waits: wait for the daemon to
	// have them before making the changes.
	// virsh registers 27 callbacks, then waits: redefine the guest until
	// its Defined event shows that the registrations are in place.
	testutil.WaitFor(t, 30*time.Second, "virsh event to see a redefinition", func() bool {
		h.must("define", xml)
		return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': Defined Updated")
	})
	h.must("start", name)
	testutil.WaitFor(t, 30*time.Second, "a Started event for the CLI start", func() bool {
		return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': Started Booted")
	})
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	h.must("exec", name, "--", "poweroff")
	testutil.WaitFor(t, 60*time.Second, "a Stopped event for the guest's own poweroff", func() bool {
		return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': Stopped Shutdown")
	})
	h.must("undefine", name)
	testutil.WaitFor(t, 30*time.Second, "an Undefined event", func() bool {
		return strings.Contains(out.String(), "event 'lifecycle' for domain '"+name+"': Undefined Removed")
	})
}

// TestServeConsole: virsh console through a real pty (script), typed input
// reaches the guest's shell, Ctrl-] detaches and virsh exits 0.
func TestServeConsole(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpccon")
	xml, _ := h.busybox(name, false)
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	pr, pw := io.Pipe()
	defer pw.Close()
	// script gives virsh a pty; it outlives virsh until its own input
	// ends, so virsh's exit status is printed.
	cmd, out := startTool(t, pr, "script", "-qfc", "virsh -c '"+d.uri(d.rw)+"' console "+name+"; echo virsh-exit=$?", "/dev/null")
	testutil.WaitFor(t, 30*time.Second, "virsh console to connect", func() bool {
		return strings.Contains(out.String(), "Escape character is ^]")
	})
	// The shell echoes the typed line; only the command's output has the
	// two halves joined.
	if _, err := io.WriteString(pw, "echo rpc-con\"\"sole-ok\r"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the guest's answer on the console", func() bool {
		return strings.Contains(out.String(), "rpc-console-ok")
	})
	if _, err := io.WriteString(pw, "\x1d"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "virsh console to exit 0 on Ctrl-]", func() bool {
		return strings.Contains(out.String(), "virsh-exit=0")
	})
	pw.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("virsh console after Ctrl-]: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("virsh console did not exit on Ctrl-]:\n%s", out.String())
	}
	if st := h.status(name); st.State != "running" {
		t.Errorf("guest after detaching: %+v", st)
	}
	h.must("destroy", name)
}

// TestServeSecurity: socket modes; the read-only socket refuses mutating
// procedures to root too; uid 65534 cannot reach libvirt-sock and cannot
// mutate through libvirt-sock-ro.
func TestServeSecurity(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	for path, want := range map[string]os.FileMode{d.rw: 0o660, d.ro: 0o666} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want a socket of mode %v", path, fi.Mode(), err, want)
		}
	}
	name := h.uniqueName("it-rpcsec")
	xml, _ := h.busybox(name, false)
	h.must("start", xml)
	for _, verb := range [][]string{{"destroy", name}, {"shutdown", name}, {"define", xml}, {"reboot", name}} {
		if r := d.virsh(d.ro, verb...); r.code == 0 || !strings.Contains(r.stderr, "operation forbidden") {
			t.Errorf("root: virsh %v on libvirt-sock-ro: %v", verb, r)
		}
	}
	nobody := func(sock string, args ...string) result {
		return runTool(t, nil, "setpriv", append([]string{"--reuid", "65534", "--regid", "65534", "--clear-groups", "virsh", "-c", d.uri(sock)}, args...)...)
	}
	if r := nobody(d.ro, "list", "--all", "--name"); r.code != 0 || !strings.Contains(r.stdout, name) {
		t.Errorf("uid 65534: list on libvirt-sock-ro: %v", r)
	}
	if r := nobody(d.ro, "destroy", name); r.code == 0 || !strings.Contains(r.stderr, "operation forbidden") {
		t.Errorf("uid 65534: destroy on libvirt-sock-ro: %v", r)
	}
	if r := nobody(d.rw, "destroy", name); r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("uid 65534: destroy on libvirt-sock: %v", r)
	}
	if st := h.status(name); st.State != "running" {
		t.Errorf("guest after refused calls: %+v", st)
	}
	h.must("destroy", name)
}

// TestServeRestart: guests never depend on the daemon. kill -9 it while a
// guest runs, start it again: the guest is still running, listed and
// controllable; SIGTERM ends the daemon and leaves the guest running.
func TestServeRestart(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpcrst")
	xml, _ := h.busybox(name, false)
	d.mustVirsh("create", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	pid := h.status(name).InitPID
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	_ = d.cmd.Wait()
	if st := h.status(name); st.State != "running" || st.InitPID != pid {
		t.Fatalf("guest after kill -9 of the daemon: %+v", st)
	}
	d.start()
	if r := d.mustVirsh("list"); !strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, "running") {
		t.Errorf("list after the restart:\n%s", r.stdout)
	}
	d.stop()
	if st := h.status(name); st.State != "running" || st.InitPID != pid {
		t.Fatalf("guest after SIGTERM of the daemon: %+v", st)
	}
	d.start()
	d.mustVirsh("destroy", name)
	h.waitState(name, "shutoff")
}
