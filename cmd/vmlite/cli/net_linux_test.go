package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"vmlite/guestnet"
	"vmlite/internal/nettest"
	"vmlite/internal/testutil"
	"vmlite/netdef"
	"vmlite/plan"
	"vmlite/state"
)

// inNetns runs fn on a fresh OS thread in ns; the thread is never unlocked,
// so the runtime discards it afterwards.
func inNetns(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// testHostNetns is a fresh network namespace standing in for the host's.
func testHostNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	testutil.RequireRoot(t)
	var host netns.NsHandle
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see inNetns
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		var err error
		host, err = netns.Get()
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("test namespace: %v", err)
	}
	t.Cleanup(func() { host.Close() })
	return host
}

// TestNetCreate: net-create starts a transient network that net-list
// shows as not persistent, net-undefine and net-autostart refuse (exit 2),
// and net-destroy removes without a trace.
func TestNetCreate(t *testing.T) {
	host := testHostNetns(t)
	root := t.TempDir()
	l := state.NewLayout(root)
	pfx := fmt.Sprintf("198.18.%d", 100+os.Getpid()%100)
	file := filepath.Join(t.TempDir(), "lab.xml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(labXML, "198.18.7", pfx)), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(want int, args ...string) string {
		t.Helper()
		var out, errOut string
		var code int
		_ = inNetns(host, func() error {
			out, errOut, code = runCLI(t, append([]string{"--root", root}, args...)...)
			return nil
		})
		if code != want {
			t.Fatalf("vmlite %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out + errOut
	}
	if out := cli(0, "net-create", file); out != "Network lab created from "+file+"\n" {
		t.Errorf("net-create said %q", out)
	}
	t.Cleanup(func() {
		if netdef.Active(l, "lab") {
			_ = inNetns(host, func() error { return netdef.Destroy(l, "lab") })
		}
	})
	if out := cli(0, "net-list"); !strings.Contains(out, "Persistent") ||
		!regexp.MustCompile(`(?m)^ lab +active +no +no +vmlbr-lab `).MatchString(out) {
		t.Errorf("net-list:\n%s", out)
	}
	if out := cli(0, "net-list", "--transient", "--name"); out != "lab\n" {
		t.Errorf("net-list --transient --name = %q", out)
	}
	if out := cli(0, "net-list", "--persistent", "--name"); out != "" {
		t.Errorf("net-list --persistent --name = %q", out)
	}
	if out := cli(0, "net-dumpxml", "lab"); !strings.Contains(out, "<name>lab</name>") {
		t.Errorf("net-dumpxml:\n%s", out)
	}
	if out := cli(2, "net-create", file); !strings.Contains(out, "already active") {
		t.Errorf("second net-create said %q", out)
	}
	if out := cli(2, "net-undefine", "lab"); !strings.Contains(out, "transient") {
		t.Errorf("net-undefine of a transient network said %q", out)
	}
	if out := cli(2, "net-autostart", "lab"); !strings.Contains(out, "transient") {
		t.Errorf("net-autostart of a transient network said %q", out)
	}
	cli(0, "net-destroy", "lab")
	if out := cli(0, "net-list", "--all", "--name"); out != "" {
		t.Errorf("net-list --all after net-destroy = %q", out)
	}
	if _, err := os.Stat(netdef.RunDir(l, "lab")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("network run directory left: %v", err)
	}
	if nettest.LinkIn(t, host, "vmlbr-lab") {
		t.Error("the bridge outlived net-destroy")
	}
}

// TestNetStartDestroyDomifaddr runs net-start, domifaddr and net-destroy
// against a network namespace the test made to stand in for the host, with
// a simulated guest (a process in new user and network namespaces, plus the
// plan.json and state.json a supervisor writes).
func TestNetStartDestroyDomifaddr(t *testing.T) {
	host := testHostNetns(t)
	root := t.TempDir()
	l := state.NewLayout(root)
	pfx := fmt.Sprintf("198.18.%d", 100+os.Getpid()%100)
	file := filepath.Join(t.TempDir(), "lab.xml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(labXML, "198.18.7", pfx)), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(want int, args ...string) string {
		t.Helper()
		var out, errOut string
		var code int
		_ = inNetns(host, func() error {
			out, errOut, code = runCLI(t, append([]string{"--root", root}, args...)...)
			return nil
		})
		if code != want {
			t.Fatalf("vmlite %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out + errOut
	}
	cli(0, "net-define", file)
	if out := cli(0, "net-start", "lab"); out != "Network lab started\n" {
		t.Errorf("net-start said %q", out)
	}
	t.Cleanup(func() {
		if netdef.Active(l, "lab") {
			_ = inNetns(host, func() error { return netdef.Destroy(l, "lab") })
		}
	})
	cli(2, "net-start", "lab")
	if out := cli(0, "net-list"); !strings.Contains(out, " lab ") || !strings.Contains(out, "active") {
		t.Errorf("net-list:\n%s", out)
	}

	guest := exec.Command("sleep", "infinity")
	guest.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWNET | unix.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappingsEnableSetgroups: true,
	}
	if err := guest.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = guest.Process.Kill(); _ = guest.Wait() })
	n, err := netdef.Load(l, "lab")
	if err != nil {
		t.Fatal(err)
	}
	const name, uuid = "web1", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
	mac := guestnet.GuestMAC(uuid, 0)
	var ip string
	if err := inNetns(host, func() error {
		a, err := n.AllocateAddress(uuid, mac)
		ip = fmt.Sprintf("%s/%d", a, n.IPv4().Prefix())
		return err
	}); err != nil {
		t.Fatalf("AllocateAddress: %v", err)
	}
	p := &plan.Plan{Version: plan.Version, Name: name, UUID: uuid, Interfaces: []plan.Interface{{
		Type: "network", Network: "lab", Bridge: n.Bridge, HostName: guestnet.HostLinkName(name, 0),
		GuestName: "eth0", MAC: nettest.MAC(mac), IPs: nettest.Prefixes(ip), XMLPath: "/domain/devices/interface[1]",
	}}}
	var undo func() error
	if err := inNetns(host, func() (err error) { undo, err = guestnet.Setup(p.Interfaces, guest.Process.Pid); return }); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() { _ = undo() })
	if err := os.MkdirAll(l.RunDir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.PlanFile(name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	cli(2, "domifaddr", name) // no state.json yet: not running
	if err := state.Write(l.StateFile(name), &state.State{Name: name, UUID: uuid, Status: state.Running, InitPID: guest.Process.Pid}); err != nil {
		t.Fatal(err)
	}
	out := cli(0, "domifaddr", name)
	if !strings.Contains(out, "eth0") || !strings.Contains(out, mac) || !strings.Contains(out, "ipv4") || !strings.Contains(out, ip) {
		t.Errorf("domifaddr:\n%s\nwant eth0 %s ipv4 %s", out, mac, ip)
	}
	cli(2, "domifaddr", name, "--interface", "eth9")

	if out := cli(0, "net-destroy", "lab"); out != "Network lab destroyed\n" {
		t.Errorf("net-destroy said %q", out)
	}
	cli(2, "net-destroy", "lab")
	if _, err := os.Stat(netdef.RunDir(l, "lab")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("network run directory left: %v", err)
	}
}
