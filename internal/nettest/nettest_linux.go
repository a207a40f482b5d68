// Package nettest holds the helpers of the network tests (guestnet,
// netdef, the CLI): a namespace that plays the host, simulated guests in
// new user and network namespaces, links, ping and TCP checks.
package nettest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
	"vmlite/plan"
)

// The tests never touch the machine's own network namespace: a test makes a
// namespace of its own to play the host (NewNetns), runs Setup on a thread
// inside it (RunIn) and simulates guests with processes in new user+network
// namespaces (StartGuest). Everything goes away with the namespaces; the
// cleanups also undo and kill explicitly, failure or not.

// RandHex returns n random hex digits for unique names.
func RandHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)[:n]
}

// Net24 returns a random /24 prefix ("198.18.N") in 198.18.0.0/15, the
// benchmarking range (RFC 2544), which is never routed.
func Net24(t *testing.T) string {
	t.Helper()
	n, err := strconv.ParseUint(RandHex(t, 2), 16, 8)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("198.18.%d", n)
}

// RunIn runs fn on a fresh OS thread switched into ns. The thread is never
// unlocked, so the Go runtime discards it when the goroutine ends and no
// other goroutine ever runs in ns by accident.
func RunIn(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// NewNetns makes an empty network namespace, held by the returned handle
// (closed, and so the namespace freed, at cleanup), with lo up.
func NewNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	testutil.RequireRoot(t)
	hc := make(chan netns.NsHandle, 1)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see RunIn
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		h, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		if lo, err := netlink.LinkByName("lo"); err == nil {
			_ = netlink.LinkSetUp(lo)
		}
		hc <- h
	}()
	select {
	case h := <-hc:
		t.Cleanup(func() { h.Close() })
		return h
	case err := <-errc:
		t.Fatalf("new network namespace: %v", err)
		return -1
	}
}

// NsPath names the namespace of handle h for nsenter.
func NsPath(h netns.NsHandle) string { return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(h)) }

// Guest is a simulated guest: a process in new user and network namespaces,
// as vmlite's supervisor makes them, waiting to be configured.
type Guest struct {
	Cmd *exec.Cmd
	Pid int
}

// StartGuest starts a Guest, killed at cleanup.
func StartGuest(t *testing.T) *Guest {
	t.Helper()
	testutil.RequireRoot(t)
	cmd := exec.Command("sleep", "infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWNET | unix.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappingsEnableSetgroups: true,
		Credential:                 &syscall.Credential{Uid: 0, Gid: 0},
		// No Pdeathsig: it fires when the forking *thread* exits, and
		// RunIn discards threads; the cleanup kills the guest instead.
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start guest: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &Guest{Cmd: cmd, Pid: cmd.Process.Pid}
}

// NsPath names the guest's network namespace for nsenter.
func (g *Guest) NsPath() string { return fmt.Sprintf("/proc/%d/ns/net", g.Pid) }

// Handle opens netlink in the guest's namespace.
func (g *Guest) Handle(t *testing.T) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPid(g.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// Ns opens the guest's network namespace (closed at cleanup).
func (g *Guest) Ns(t *testing.T) netns.NsHandle {
	t.Helper()
	ns, err := netns.GetFromPid(g.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

// SetupIn runs setup (guestnet.Setup) on a thread in the test's host namespace and registers
// its undo for cleanup.
func SetupIn(t *testing.T, host netns.NsHandle, setup func([]plan.Interface, int) (func() error, error), ifaces []plan.Interface, pid int) (func() error, error) {
	t.Helper()
	var undo func() error
	err := RunIn(host, func() error {
		var err error
		undo, err = setup(ifaces, pid)
		return err
	})
	if undo != nil {
		t.Cleanup(func() {
			if err := undo(); err != nil {
				t.Errorf("undo at cleanup: %v", err)
			}
		})
	}
	return undo, err
}

// MakeLink creates link in ns, up, and returns its name.
func MakeLink(t *testing.T, ns netns.NsHandle, link netlink.Link) string {
	t.Helper()
	err := RunIn(ns, func() error {
		if err := netlink.LinkAdd(link); err != nil {
			return err
		}
		return netlink.LinkSetUp(link)
	})
	if err != nil {
		t.Fatalf("create %s: %v", link.Attrs().Name, err)
	}
	return link.Attrs().Name
}

// LinkIn reports whether a link named name exists in ns.
func LinkIn(t *testing.T, ns netns.NsHandle, name string) bool {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if err != nil && !errors.As(err, &nf) {
		t.Fatalf("look up %s: %v", name, err)
	}
	return err == nil
}

// WaitPing pings ip from the namespace at path at until it answers.
func WaitPing(t *testing.T, at, ip string) {
	t.Helper()
	var out []byte
	defer func() {
		if t.Failed() {
			t.Logf("last ping output: %s", out)
		}
	}()
	testutil.WaitFor(t, 20*time.Second, fmt.Sprintf("ping %s from %s", ip, at), func() bool {
		var err error
		out, err = exec.Command("nsenter", "--net="+at, "busybox", "ping", "-c", "1", "-W", "1", ip).CombinedOutput()
		return err == nil
	})
}

// CheckTCP connects from namespace from to a listener in namespace to on
// addr and checks that bytes cross both ways.
func CheckTCP(t *testing.T, to, from netns.NsHandle, addr string) {
	t.Helper()
	var ln net.Listener
	if err := RunIn(to, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4)
		if _, err := c.Read(buf); err == nil {
			_, _ = c.Write(append([]byte("re:"), buf...))
		}
	}()
	var c net.Conn
	if err := RunIn(from, func() error {
		var err error
		c, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		return err
	}); err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("write to %s: %v", addr, err)
	}
	got := make([]byte, 7)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "re:ping" {
		t.Fatalf("read from %s: %q, %v", addr, got, err)
	}
}
