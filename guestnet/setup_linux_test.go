package guestnet

import (
	"errors"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"vmlite/internal/errdefs"
	"vmlite/internal/nettest"
	"vmlite/internal/testutil"
	"vmlite/plan"
)

// TestSetupBridgeTwoGuests: two guests on one bridge get their names,
// MACs, addresses and routes, reach each other by ICMP (v4 and v6) and TCP,
// and undo leaves nothing.
func TestSetupBridgeTwoGuests(t *testing.T) {
	host := nettest.NewNetns(t)
	br := nettest.MakeLink(t, host, &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vmlt" + nettest.RandHex(t, 8)}})
	a, b := nettest.StartGuest(t), nettest.StartGuest(t)
	pfx := nettest.Net24(t)
	v6 := "fd00:1" + nettest.RandHex(t, 3) + "::" // no leading zero: compared as text

	// Guest a has a 40-character name: its host link name must be valid.
	longName := "guest-with-a-forty-character-name-" + nettest.RandHex(t, 6)
	ifA := plan.Interface{
		Type: TypeBridge, HostName: HostLinkName(longName, 0), GuestName: "eth0",
		MAC: nettest.MAC(GuestMAC("4dea22b3-1d52-d8f3-2516-"+nettest.RandHex(t, 12), 0)), Bridge: br,
		IPs:    nettest.Prefixes(pfx+".2/24", v6+"2/64"),
		Routes: []plan.Route{nettest.Route("", pfx+".1"), nettest.Route("198.19.0.0/16", pfx+".1")},
		MTU:    1400, XMLPath: "/domain/devices/interface[1]",
	}
	ifB := plan.Interface{
		Type: TypeBridge, HostName: "vmlt" + nettest.RandHex(t, 8), GuestName: "eth0", Bridge: br,
		IPs: nettest.Prefixes(pfx+".3/24", v6+"3/64"), XMLPath: "/domain/devices/interface[1]",
	}
	undoA, err := setupIn(t, host, []plan.Interface{ifA}, a.Pid)
	if err != nil {
		t.Fatalf("Setup a: %v", err)
	}
	if _, err := setupIn(t, host, []plan.Interface{ifB}, b.Pid); err != nil {
		t.Fatalf("Setup b: %v", err)
	}

	ga := a.Handle(t)
	eth0, err := ga.LinkByName("eth0")
	if err != nil {
		t.Fatalf("guest a has no eth0: %v", err)
	}
	if got := eth0.Attrs().HardwareAddr.String(); got != ifA.MAC.String() {
		t.Errorf("guest a eth0 MAC %s, want %s", got, ifA.MAC)
	}
	if got := eth0.Attrs().MTU; got != 1400 {
		t.Errorf("guest a eth0 MTU %d, want 1400", got)
	}
	if eth0.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("guest a eth0 is down")
	}
	if lo, err := ga.LinkByName("lo"); err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("guest a lo is not up (%v)", err)
	}
	addrs, err := ga.AddrList(eth0, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ad := range addrs {
		got = append(got, ad.IPNet.String())
	}
	for _, want := range ifA.IPs {
		if !slices.Contains(got, want.String()) {
			t.Errorf("guest a eth0 addresses %v lack %s", got, want)
		}
	}
	routes, err := ga.RouteList(eth0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var haveDefault, haveNet bool
	for _, r := range routes {
		switch {
		case r.Dst == nil || r.Dst.String() == "0.0.0.0/0":
			haveDefault = r.Gw.String() == pfx+".1"
		case r.Dst.String() == "198.19.0.0/16":
			haveNet = r.Gw.String() == pfx+".1"
		}
	}
	if !haveDefault || !haveNet {
		t.Errorf("guest a routes %v: want default and 198.19.0.0/16 via %s.1", routes, pfx)
	}

	hostA, err := netlinkIn(t, host).LinkByName(ifA.HostName)
	if err != nil {
		t.Fatalf("host end %s: %v", ifA.HostName, err)
	}
	brLink, _ := netlinkIn(t, host).LinkByName(br)
	if hostA.Attrs().MasterIndex != brLink.Attrs().Index || hostA.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("host end %s: master %d up %v, want master %d (%s) and up",
			ifA.HostName, hostA.Attrs().MasterIndex, hostA.Attrs().Flags&net.FlagUp != 0, brLink.Attrs().Index, br)
	}
	if want := HostMAC(eth0.Attrs().HardwareAddr).String(); hostA.Attrs().HardwareAddr.String() != want {
		t.Errorf("host end MAC %s, want %s", hostA.Attrs().HardwareAddr, want)
	}

	nettest.WaitPing(t, a.NsPath(), pfx+".3")
	nettest.WaitPing(t, b.NsPath(), pfx+".2")
	nettest.WaitPing(t, a.NsPath(), v6+"3")
	nettest.CheckTCP(t, a.Ns(t), b.Ns(t), pfx+".2:7070")
	nettest.CheckTCP(t, b.Ns(t), a.Ns(t), "["+v6+"3]:7071")

	if err := undoA(); err != nil {
		t.Fatalf("undo a: %v", err)
	}
	if nettest.LinkIn(t, host, ifA.HostName) {
		t.Errorf("host end %s still exists after undo", ifA.HostName)
	}
	if nettest.LinkIn(t, a.Ns(t), "eth0") {
		t.Errorf("guest a's eth0 still exists after undo")
	}
	if err := undoA(); err != nil {
		t.Errorf("second undo: %v", err)
	}
}

// netlinkIn opens a netlink handle in ns, closed at cleanup.
func netlinkIn(t *testing.T, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// TestSetupMissingBridge: the error names the bridge and the XML path, wraps
// ErrNotFound, and the veth made before the bridge lookup is gone.
func TestSetupMissingBridge(t *testing.T) {
	host := nettest.NewNetns(t)
	g := nettest.StartGuest(t)
	in := plan.Interface{
		Type: TypeBridge, HostName: "vmlt" + nettest.RandHex(t, 8), GuestName: "eth0",
		Bridge: "vmltnobr" + nettest.RandHex(t, 4), XMLPath: "/domain/devices/interface[1]",
	}
	_, err := setupIn(t, host, []plan.Interface{in}, g.Pid)
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Setup with a missing bridge: %v, want ErrNotFound", err)
	}
	for _, want := range []string{in.Bridge, in.XMLPath} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if nettest.LinkIn(t, host, in.HostName) || nettest.LinkIn(t, g.Ns(t), "eth0") {
		t.Errorf("failed Setup left its veth behind")
	}
}

// TestSetupRollback: when the second interface fails (a gateway outside
// every connected subnet), the first one is removed too and the error names
// the failing interface's XML path and step.
func TestSetupRollback(t *testing.T) {
	host := nettest.NewNetns(t)
	br := nettest.MakeLink(t, host, &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vmlt" + nettest.RandHex(t, 8)}})
	g := nettest.StartGuest(t)
	pfx := nettest.Net24(t)
	ifaces := []plan.Interface{
		{Type: TypeBridge, HostName: "vmlt" + nettest.RandHex(t, 8), GuestName: "eth0", Bridge: br,
			IPs: nettest.Prefixes(pfx + ".2/24"), XMLPath: "/domain/devices/interface[1]"},
		{Type: TypeBridge, HostName: "vmlt" + nettest.RandHex(t, 8), GuestName: "eth1", Bridge: br,
			IPs: nettest.Prefixes(pfx + ".3/24"), Routes: []plan.Route{nettest.Route("", "203.0.113.1")},
			XMLPath: "/domain/devices/interface[2]"},
	}
	undo, err := setupIn(t, host, ifaces, g.Pid)
	if err == nil || undo != nil {
		t.Fatalf("Setup with an unreachable gateway succeeded")
	}
	if want := "interface /domain/devices/interface[2]: add route default via 203.0.113.1"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	for _, in := range ifaces {
		if nettest.LinkIn(t, host, in.HostName) || nettest.LinkIn(t, g.Ns(t), in.GuestName) {
			t.Errorf("failed Setup left %s/%s behind", in.HostName, in.GuestName)
		}
	}
}

// TestSetupEthernet: a veth without a bridge, with the host-side address on
// the host end; host and guest reach each other.
func TestSetupEthernet(t *testing.T) {
	host := nettest.NewNetns(t)
	g := nettest.StartGuest(t)
	pfx := nettest.Net24(t)
	in := plan.Interface{
		Type: TypeEthernet, HostName: "vmlt" + nettest.RandHex(t, 8), GuestName: "veth-in",
		HostIPs: nettest.Prefixes(pfx + ".1/24"), IPs: nettest.Prefixes(pfx + ".2/24"),
		Routes: []plan.Route{nettest.Route("", pfx+".1")}, XMLPath: "/domain/devices/interface[1]",
	}
	undo, err := setupIn(t, host, []plan.Interface{in}, g.Pid)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	nettest.WaitPing(t, g.NsPath(), pfx+".1")
	nettest.WaitPing(t, nettest.NsPath(host), pfx+".2")
	nettest.CheckTCP(t, host, g.Ns(t), pfx+".1:7072")
	if err := undo(); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if nettest.LinkIn(t, host, in.HostName) {
		t.Errorf("host end still exists after undo")
	}
}

// TestSetupDirect: two guests get macvlans (bridge mode) on one parent and
// reach each other through it; undo removes the macvlans from the guests.
func TestSetupDirect(t *testing.T) {
	host := nettest.NewNetns(t)
	// The parent is one end of a veth (this kernel may lack the dummy
	// driver), with its peer up too so that it has carrier.
	peer := "vmlt" + nettest.RandHex(t, 8)
	parent := nettest.MakeLink(t, host, &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vmlt" + nettest.RandHex(t, 8)}, PeerName: peer})
	if err := nettest.RunIn(host, func() error {
		l, err := netlink.LinkByName(peer)
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	}); err != nil {
		t.Fatalf("peer up: %v", err)
	}
	a, b := nettest.StartGuest(t), nettest.StartGuest(t)
	pfx := nettest.Net24(t)
	mk := func(ip string) plan.Interface {
		return plan.Interface{Type: TypeDirect, GuestName: "eth0", SourceDev: parent, MacvlanMode: "bridge",
			IPs: nettest.Prefixes(ip), XMLPath: "/domain/devices/interface[1]"}
	}
	undoA, err := setupIn(t, host, []plan.Interface{mk(pfx + ".2/24")}, a.Pid)
	if err != nil {
		t.Fatalf("Setup a: %v", err)
	}
	if _, err := setupIn(t, host, []plan.Interface{mk(pfx + ".3/24")}, b.Pid); err != nil {
		t.Fatalf("Setup b: %v", err)
	}
	l, err := a.Handle(t).LinkByName("eth0")
	if err != nil {
		t.Fatalf("guest a eth0: %v", err)
	}
	if mv, ok := l.(*netlink.Macvlan); !ok || mv.Mode != netlink.MACVLAN_MODE_BRIDGE {
		t.Errorf("guest a eth0 is %T %+v, want a bridge-mode macvlan", l, l)
	}
	nettest.WaitPing(t, a.NsPath(), pfx+".3")
	if err := undoA(); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if nettest.LinkIn(t, a.Ns(t), "eth0") {
		t.Errorf("macvlan still in guest a after undo")
	}
}

// TestSetupRefusesHostNamespace: a "guest" sharing the caller's namespace
// is refused before anything is touched.
func TestSetupRefusesHostNamespace(t *testing.T) {
	host := nettest.NewNetns(t)
	// A process in host: nsenter into it, sleeping.
	cmd := exec.Command("nsenter", "--net="+nettest.NsPath(host), "sleep", "infinity")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var err error
	testutil.WaitFor(t, 10*time.Second, "nsenter to enter the namespace", func() bool {
		ns, e := netns.GetFromPid(cmd.Process.Pid)
		if e != nil {
			return false
		}
		defer ns.Close()
		return ns.Equal(host)
	})
	_, err = setupIn(t, host, nil, cmd.Process.Pid)
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Setup on the caller's own namespace: %v, want ErrInvalid", err)
	}
}

// setupIn runs Setup in the test's host namespace (nettest.SetupIn).
func setupIn(t *testing.T, host netns.NsHandle, ifaces []plan.Interface, pid int) (func() error, error) {
	t.Helper()
	return nettest.SetupIn(t, host, Setup, ifaces, pid)
}
