//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// daemon is a `vmlite serve` started by a test under the harness's root.
type daemon struct {
	h      *harness
	cmd    *exec.Cmd
	log    *syncBuffer
	rw, ro string
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", name, err)
	}
	return p
}

// serve starts the daemon and waits until it answers.
func (h *harness) serve(args ...string) *daemon {
	h.t.Helper()
	d := &daemon{h: h, log: &syncBuffer{}, rw: filepath.Join(h.root, "run", "libvirt-sock"), ro: filepath.Join(h.root, "run", "libvirt-sock-ro")}
	d.start(args...)
	h.t.Cleanup(d.stop)
	h.t.Cleanup(func() {
		if h.t.Failed() {
			h.t.Logf("vmlite serve's log:\n%s", tail(d.log.String()))
		}
	})
	return d
}

func (d *daemon) start(args ...string) {
	d.h.t.Helper()
	d.cmd = exec.Command(bin, append([]string{"--root", d.h.root, "serve"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.h.t.Fatal(err)
	}
	testutil.WaitFor(d.h.t, 20*time.Second, "vmlite serve to listen", func() bool {
		return strings.Contains(d.log.String(), "listening on")
	})
}

// stop ends the daemon with SIGTERM, as systemd does.
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			d.h.t.Errorf("vmlite serve after SIGTERM: %v\n%s", err, d.log.String())
		}
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
		d.h.t.Errorf("vmlite serve ignored SIGTERM for 20s")
	}
}

func (d *daemon) uri(sock string) string { return "lxc+unix:///system?socket=" + sock }

// virsh runs the real virsh against sock.
func (d *daemon) virsh(sock string, args ...string) result {
	d.h.t.Helper()
	return runTool(d.h.t, nil, "virsh", append([]string{"-c", d.uri(sock)}, args...)...)
}

func (d *daemon) mustVirsh(args ...string) result {
	d.h.t.Helper()
	r := d.virsh(d.rw, args...)
	if r.code != 0 {
		d.h.t.Fatalf("virsh %s: %v\ndaemon log:\n%s", strings.Join(args, " "), r, tail(d.log.String()))
	}
	return r
}

// runTool runs a client program with a bound on its run time.
func runTool(t *testing.T, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	requireTool(t, name)
	cmd := exec.Command("timeout", append([]string{"60", name}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, stdin
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return result{out.String(), errb.String(), code}
}

func (d *daemon) waitVirshState(name, want string) {
	d.h.t.Helper()
	testutil.WaitFor(d.h.t, 60*time.Second, name+" to be "+want+" through virsh", func() bool {
		return strings.TrimSpace(d.virsh(d.rw, "domstate", name).stdout) == want
	})
}

// TestServeVirsh drives the everyday virsh verbs through vmlite serve,
// with virsh's own messages for a missing domain and a wrong state.
func TestServeVirsh(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpc")
	xml, _ := h.busybox(name, false)

	d.mustVirsh("define", xml)
	if r := d.mustVirsh("list", "--all"); !strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, "shut off") {
		t.Fatalf("list --all after define:\n%s", r.stdout)
	}
	d.mustVirsh("start", name)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	st := h.status(name)
	r := d.mustVirsh("list")
	if !strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, "running") || !strings.Contains(r.stdout, " "+itoa(st.InitPID)+" ") {
		t.Errorf("list of a running guest (init pid %d):\n%s", st.InitPID, r.stdout)
	}
	info := d.mustVirsh("dominfo", name).stdout
	for _, want := range []string{"Name:           " + name, "State:          running", "OS Type:        exe", "Persistent:     yes", "Max memory:"} {
		if !strings.Contains(info, want) {
			t.Errorf("dominfo lacks %q:\n%s", want, info)
		}
	}
	if got := strings.TrimSpace(d.mustVirsh("domstate", "--reason", name).stdout); got != "running (booted)" {
		t.Errorf("domstate --reason = %q", got)
	}
	if got := strings.TrimSpace(d.mustVirsh("domid", name).stdout); got != itoa(st.InitPID) {
		t.Errorf("domid = %q, want %d", got, st.InitPID)
	}
	if x := d.mustVirsh("dumpxml", name).stdout; !strings.Contains(x, "<name>"+name+"</name>") || !strings.Contains(x, "<uuid>") {
		t.Errorf("dumpxml:\n%s", x)
	}
	if x := d.mustVirsh("dumpxml", "--inactive", name).stdout; !strings.Contains(x, "<name>"+name+"</name>") {
		t.Errorf("dumpxml --inactive:\n%s", x)
	}
	if r := d.virsh(d.rw, "start", name); r.code == 0 || !strings.Contains(r.stderr, "Domain is already active") {
		t.Errorf("start of a running guest: %v", r)
	}
	d.mustVirsh("shutdown", name)
	// The answer comes once the supervisor took the stop: the guest is
	// in shutdown or off already, never still running.
	if st := strings.TrimSpace(d.mustVirsh("domstate", name).stdout); st != "in shutdown" && st != "shut off" {
		t.Errorf("domstate right after virsh shutdown returned: %q, want in shutdown or shut off", st)
	}
	d.waitVirshState(name, "shut off")
	if r := d.virsh(d.rw, "destroy", name); r.code == 0 || !strings.Contains(r.stderr, "Requested operation is not valid: domain is not running") {
		t.Errorf("destroy of a shut-off guest: %v", r)
	}
	if r := d.virsh(d.rw, "dominfo", "nosuch-"+name); r.code == 0 || !strings.Contains(r.stderr, "failed to get domain 'nosuch-"+name+"'") {
		t.Errorf("dominfo of a missing domain: %v", r)
	}
	d.mustVirsh("start", name)
	d.waitVirshState(name, "running")
	d.mustVirsh("destroy", name)
	if got := strings.TrimSpace(d.mustVirsh("domstate", "--reason", name).stdout); got != "shut off (destroyed)" {
		t.Errorf("domstate after destroy = %q", got)
	}
	d.mustVirsh("autostart", name)
	if info := d.mustVirsh("dominfo", name).stdout; !strings.Contains(info, "Autostart:      enable") {
		t.Errorf("dominfo after autostart:\n%s", info)
	}
	d.mustVirsh("undefine", name)
	if r := d.mustVirsh("list", "--all", "--name"); strings.Contains(r.stdout, name) {
		t.Errorf("undefined guest still listed:\n%s", r.stdout)
	}

	// A transient guest: virsh create, gone from the list once destroyed.
	tname := h.uniqueName("it-rpct")
	txml, _ := h.busybox(tname, false)
	d.mustVirsh("create", txml)
	h.waitConsole(tname, "vmlite-guest: BOOTED "+tname)
	if info := d.mustVirsh("dominfo", tname).stdout; !strings.Contains(info, "Persistent:     no") {
		t.Errorf("dominfo of a transient guest:\n%s", info)
	}
	d.mustVirsh("destroy", tname)
	if r := d.mustVirsh("list", "--all", "--name"); strings.Contains(r.stdout, tname) {
		t.Errorf("destroyed transient guest still listed:\n%s", r.stdout)
	}
	if v := d.mustVirsh("version").stdout; !strings.Contains(v, "Using API: LXC") {
		t.Errorf("virsh version:\n%s", v)
	}
	if c := d.mustVirsh("capabilities").stdout; !strings.Contains(c, "<os_type>exe</os_type>") {
		t.Errorf("capabilities:\n%s", c)
	}
	d.mustVirsh("nodeinfo")
	d.mustVirsh("hostname")
}

func itoa(n int) string { return strconv.Itoa(n) }

// stats asks the daemon (SIGUSR1) how many connections it has open and
// how many goroutines it runs.
func (d *daemon) stats() (conns, goroutines int) {
	d.h.t.Helper()
	before := strings.Count(d.log.String(), "status: ")
	if err := d.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		d.h.t.Fatal(err)
	}
	var line string
	testutil.WaitFor(d.h.t, 10*time.Second, "the daemon's status line", func() bool {
		lines := strings.Split(d.log.String(), "\n")
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "status: ") {
				if n++; n > before {
					line = l
					return true
				}
			}
		}
		return false
	})
	if _, err := fmt.Sscanf(line[strings.Index(line, "status: "):], "status: %d connections, %d goroutines", &conns, &goroutines); err != nil {
		d.h.t.Fatalf("status line %q: %v", line, err)
	}
	return conns, goroutines
}
