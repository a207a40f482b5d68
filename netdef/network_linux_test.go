package netdef

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"vmlite/guestnet"
	"vmlite/internal/errdefs"
	"vmlite/internal/nettest"
	"vmlite/internal/testutil"
	"vmlite/plan"
	"vmlite/state"
)

// testNetwork defines a network in a fresh layout and registers a destroy
// at cleanup (run in host, the test's stand-in for the host namespace).
func testNetwork(t *testing.T, host netns.NsHandle, xml string) (state.Layout, *Network) {
	t.Helper()
	l := state.NewLayout(t.TempDir())
	n, err := Define(l, "test.xml", []byte(xml))
	if err != nil {
		t.Fatalf("Define: %v", err)
	}
	t.Cleanup(func() {
		if Active(l, n.Name) {
			if err := nettest.RunIn(host, func() error { return Destroy(l, n.Name) }); err != nil {
				t.Errorf("destroy at cleanup: %v", err)
			}
		}
	})
	return l, n
}

// makeUpstream makes the fake upstream host: a namespace of its own behind a
// veth from host, as if it were the LAN beyond the host's uplink, with
// addresses PFX.1 (host side) and PFX.2 in a fresh test /24 other than
// avoid. With routeBack, upstream routes avoid/24 back through the host (a
// route-mode network needs that; a nat one must not).
func makeUpstream(t *testing.T, host netns.NsHandle, avoid string, routeBack bool) (netns.NsHandle, string) {
	t.Helper()
	upstream := nettest.NewNetns(t)
	upPfx := nettest.Net24(t)
	for upPfx == avoid {
		upPfx = nettest.Net24(t)
	}
	upLink := "vmltu" + nettest.RandHex(t, 8)
	if err := nettest.RunIn(host, func() error {
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: upLink}, PeerName: "up0", PeerNamespace: netlink.NsFd(upstream)}
		if err := netlink.LinkAdd(v); err != nil {
			return err
		}
		l, err := netlink.LinkByName(upLink)
		if err != nil {
			return err
		}
		a, _ := netlink.ParseAddr(upPfx + ".1/24")
		if err := netlink.AddrAdd(l, a); err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	}); err != nil {
		t.Fatalf("upstream link: %v", err)
	}
	if err := nettest.RunIn(upstream, func() error {
		l, err := netlink.LinkByName("up0")
		if err != nil {
			return err
		}
		a, _ := netlink.ParseAddr(upPfx + ".2/24")
		if err := netlink.AddrAdd(l, a); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		if !routeBack {
			return nil
		}
		_, dst, _ := net.ParseCIDR(avoid + ".0/24")
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: dst, Gw: net.ParseIP(upPfx + ".1")})
	}); err != nil {
		t.Fatalf("upstream address: %v", err)
	}
	return upstream, upPfx
}

// upstreamSees connects from namespace from to a listener on addr in
// upstream and returns the source address the upstream side saw.
func upstreamSees(t *testing.T, upstream, from netns.NsHandle, addr string) string {
	t.Helper()
	var ln net.Listener
	if err := nettest.RunIn(upstream, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			seen <- err.Error()
			return
		}
		seen <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()
	if err := nettest.RunIn(from, func() error {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("connect to upstream %s: %v", addr, err)
	}
	return <-seen
}

// allocIn calls AllocateAddress in ns, where the network's dnsmasq
// (which it may restart) belongs.
func allocIn(ns netns.NsHandle, n *Network, uuid, mac string) (net.IP, error) {
	var ip net.IP
	err := nettest.RunIn(ns, func() (err error) { ip, err = n.AllocateAddress(uuid, mac); return })
	return ip, err
}

// readSysctl reads a /proc/sys file as seen from ns.
func readSysctl(t *testing.T, ns netns.NsHandle, path string) string {
	t.Helper()
	var v []byte
	if err := nettest.RunIn(ns, func() error {
		var err error
		v, err = os.ReadFile(path)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(v))
}

// udhcpc runs busybox's DHCP client once on eth0 of the namespace at
// nsPath; with apply, its script configures the lease (address, default
// route). It returns the address the server offered.
func udhcpc(t *testing.T, nsPath string, apply bool) string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "lease")
	script := filepath.Join(dir, "script")
	body := "#!/bin/sh\n" + `[ "$1" = bound ] || exit 0
echo "$ip" > ` + out + "\n"
	if apply {
		body += `ip addr add "$ip/${mask:-$subnet}" dev "$interface"
[ -n "$router" ] && ip route add default via "$router" dev "$interface"
`
	}
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "--net="+nsPath, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f",
		"-t", "10", "-T", "1", "-s", script)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("udhcpc: %v\n%s", err, b)
	}
	ip, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("udhcpc got no lease: %v\n%s", err, b)
	}
	return strings.TrimSpace(string(ip))
}

func TestManagedNetworkNAT(t *testing.T) {
	host := nettest.NewNetns(t)
	pfx := nettest.Net24(t)
	upstream, upPfx := makeUpstream(t, host, pfx, false)
	name := "t" + nettest.RandHex(t, 8)
	br := "vmltb" + nettest.RandHex(t, 8)
	l, n := testNetwork(t, host, fmt.Sprintf(`<network>
  <name>%s</name>
  <bridge name='%s' stp='on' delay='0'/>
  <forward mode='nat'/>
  <ip address='%s.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='%[3]s.100' end='%[3]s.150'/>
    </dhcp>
  </ip>
</network>`, name, br, pfx))
	fwdBefore := readSysctl(t, host, ipForward)
	if err := nettest.RunIn(host, func() error { return Start(l, name) }); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(RunDir(l, name), "dnsmasq.log"))
			t.Logf("dnsmasq.log:\n%s", b)
		}
	})
	if err := nettest.RunIn(host, func() error { return Start(l, name) }); !errors.Is(err, errdefs.ErrAlreadyRunning) {
		t.Errorf("second Start: %v, want ErrAlreadyRunning", err)
	}
	if got := readSysctl(t, host, ipForward); got != "1" {
		t.Errorf("ip_forward is %s in the host namespace of a running nat network", got)
	}
	dnsPid, err := dnsmasqPid(l, name)
	if err != nil {
		t.Fatalf("no dnsmasq: %v", err)
	}

	// Guest a: an address allocated by vmlite, applied from the host.
	a, b := nettest.StartGuest(t), nettest.StartGuest(t)
	uuidA, uuidB := "aaaaaaaa-0000-4000-8000-"+nettest.RandHex(t, 12), "bbbbbbbb-0000-4000-8000-"+nettest.RandHex(t, 12)
	macA, macB := guestnet.GuestMAC(uuidA, 0), guestnet.GuestMAC(uuidB, 0)
	ipA, err := allocIn(host, n, uuidA, macA)
	if err != nil {
		t.Fatalf("AllocateAddress: %v", err)
	}
	if again, err := allocIn(host, n, uuidA, macA); err != nil || !again.Equal(ipA) {
		t.Errorf("second AllocateAddress for the same guest: %v %v, want %v", again, err, ipA)
	}
	if !n.IPv4().Net.Contains(ipA) || inRange(ipA, n.IPv4().Ranges[0]) {
		t.Errorf("allocated %v: want an address of %v outside the DHCP range", ipA, n.IPv4().Net)
	}
	longGuest := strings.Repeat("g", 30) + nettest.RandHex(t, 10) // 40 characters
	ifA := plan.Interface{Type: guestnet.TypeNetwork, Network: name, Bridge: n.Bridge, HostName: guestnet.HostLinkName(longGuest, 0),
		GuestName: "eth0", MAC: nettest.MAC(macA), IPs: nettest.Prefixes(fmt.Sprintf("%s/%d", ipA, n.IPv4().Prefix())),
		Routes: []plan.Route{nettest.Route("", n.IPv4().Address.String())}, XMLPath: "/domain/devices/interface[1]"}
	if _, err := setupIn(t, host, []plan.Interface{ifA}, a.Pid); err != nil {
		t.Fatalf("Setup a: %v", err)
	}
	// Guest b: no address from vmlite; it runs a DHCP client.
	ifB := plan.Interface{Type: guestnet.TypeNetwork, Network: name, Bridge: n.Bridge, HostName: "vmlt" + nettest.RandHex(t, 8),
		GuestName: "eth0", MAC: nettest.MAC(macB), LinkUp: true, XMLPath: "/domain/devices/interface[1]"}
	if _, err := setupIn(t, host, []plan.Interface{ifB}, b.Pid); err != nil {
		t.Fatalf("Setup b: %v", err)
	}
	ipB := udhcpc(t, b.NsPath(), true)
	if ip := net.ParseIP(ipB); ip == nil || !inRange(ip, n.IPv4().Ranges[0]) {
		t.Errorf("guest b leased %q, want an address in %v-%v", ipB, n.IPv4().Ranges[0].Start, n.IPv4().Ranges[0].End)
	}
	leases, _ := os.ReadFile(dnsmasqLeaseFile(l, name))
	if !strings.Contains(string(leases), macB) {
		t.Errorf("lease file lacks guest b's MAC %s:\n%s", macB, leases)
	}
	// Guest a's allocation is a DHCP reservation: a DHCP client there is
	// offered exactly the address vmlite applied.
	if got := udhcpc(t, a.NsPath(), false); got != ipA.String() {
		t.Errorf("DHCP offered guest a %s, want its allocated %s", got, ipA)
	}
	// dnsmasq was restarted for the new reservation; the new one is ours.
	if p, err := dnsmasqPid(l, name); err != nil || p == dnsPid {
		t.Logf("dnsmasq pid %d (was %d), %v", p, dnsPid, err)
	}

	gw := n.IPv4().Address.String()
	nettest.WaitPing(t, a.NsPath(), ipB)
	nettest.WaitPing(t, b.NsPath(), ipA.String())
	nettest.WaitPing(t, a.NsPath(), gw)
	nettest.WaitPing(t, b.NsPath(), gw)
	nettest.CheckTCP(t, b.Ns(t), a.Ns(t), ipB+":7080")
	nettest.CheckTCP(t, a.Ns(t), host, ipA.String()+":7081")

	// NAT: the upstream host sees guest a's connection coming from the
	// host's address on its side, not from the guest's.
	if got := upstreamSees(t, upstream, a.Ns(t), upPfx+".2:7082"); got != upPfx+".1" {
		t.Errorf("upstream saw the connection from %s, want the masqueraded %s.1", got, upPfx)
	}
	var tableThere bool
	if err := nettest.RunIn(host, func() (err error) { tableThere, err = NFTableExists(); return }); err != nil || !tableThere {
		t.Errorf("nftables table %s missing while the network runs (%v)", NFTable, err)
	}

	// Guest a's address, as domifaddr reads it.
	addrs, err := guestnet.GuestAddresses(a.Pid, nil)
	if err != nil || len(addrs) != 1 || addrs[0].CIDR != ifA.IPs[0].String() || addrs[0].MAC != macA || addrs[0].Family != "ipv4" {
		t.Errorf("guestnet.GuestAddresses(a) = %+v, %v; want eth0 %s %s", addrs, err, macA, ifA.IPs[0])
	}

	if err := nettest.RunIn(host, func() error { return Destroy(l, name) }); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if nettest.LinkIn(t, host, br) {
		t.Errorf("bridge %s left after destroy", br)
	}
	if err := nettest.RunIn(host, func() (err error) { tableThere, err = NFTableExists(); return }); err != nil || tableThere {
		t.Errorf("nftables table %s left after destroy (%v)", NFTable, err)
	}
	if got := readSysctl(t, host, ipForward); got != fwdBefore {
		t.Errorf("ip_forward %s after destroy, was %s before start", got, fwdBefore)
	}
	testutil.WaitFor(t, 10*time.Second, "dnsmasq to be gone", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d/cmdline", dnsPid))
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", dnsPid))
		return err != nil || !strings.Contains(string(b), "dnsmasq")
	})
	if _, err := os.Stat(RunDir(l, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run directory left after destroy: %v", err)
	}
	if err := nettest.RunIn(host, func() error { return Destroy(l, name) }); !errors.Is(err, errdefs.ErrNotRunning) {
		t.Errorf("second Destroy: %v, want ErrNotRunning", err)
	}
	// The reservation outlives the network: same guest, same address.
	if again, err := allocIn(host, n, uuidA, macA); err != nil || !again.Equal(ipA) {
		t.Errorf("AllocateAddress after destroy: %v %v, want %v", again, err, ipA)
	}
}

// TestIsolatedNetwork: no forwarding, no nftables table, the host reaches
// the guest; a subnet already routed on the host is refused untouched.
func TestIsolatedNetwork(t *testing.T) {
	host := nettest.NewNetns(t)
	pfx := nettest.Net24(t)
	name := "i" + nettest.RandHex(t, 8)
	l, n := testNetwork(t, host, fmt.Sprintf(`<network><name>%s</name><ip address='%s.1' prefix='24'/><ip address='fd00:%s::1' prefix='64'/></network>`,
		name, pfx, nettest.RandHex(t, 4)))
	fwdBefore := readSysctl(t, host, ipForward)
	if err := nettest.RunIn(host, func() error { return Start(l, name) }); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if readSysctl(t, host, ipForward) != fwdBefore {
		t.Errorf("an isolated network changed ip_forward")
	}
	var tableThere bool
	if err := nettest.RunIn(host, func() (err error) { tableThere, err = NFTableExists(); return }); err != nil || tableThere {
		t.Errorf("isolated network made the nftables table (%v)", err)
	}
	g := nettest.StartGuest(t)
	ip, err := allocIn(host, n, "cccccccc-0000-4000-8000-"+nettest.RandHex(t, 12), "52:54:00:00:00:07")
	if err != nil {
		t.Fatal(err)
	}
	in := plan.Interface{Type: guestnet.TypeNetwork, Network: name, Bridge: n.Bridge, HostName: "vmlt" + nettest.RandHex(t, 8),
		GuestName: "eth0", IPs: nettest.Prefixes(fmt.Sprintf("%s/24", ip)), XMLPath: "/domain/devices/interface[1]"}
	if _, err := setupIn(t, host, []plan.Interface{in}, g.Pid); err != nil {
		t.Fatal(err)
	}
	nettest.WaitPing(t, nettest.NsPath(host), ip.String())
	nettest.CheckTCP(t, g.Ns(t), host, ip.String()+":7090")

	// A second network on the same subnet conflicts with the first one's route.
	other := "o" + nettest.RandHex(t, 8)
	if _, err := Define(l, "o.xml", []byte(fmt.Sprintf(`<network><name>%s</name><ip address='%s.2' prefix='24'/></network>`, other, pfx))); err != nil {
		t.Fatal(err)
	}
	err = nettest.RunIn(host, func() error { return Start(l, other) })
	if !errors.Is(err, errdefs.ErrAlreadyExists) || !strings.Contains(err.Error(), "in use on the host") {
		t.Errorf("Start on a routed subnet: %v, want ErrAlreadyExists", err)
	}
	if Active(l, other) || nettest.LinkIn(t, host, BridgeName(other)) {
		t.Errorf("refused start left state or a bridge behind")
	}
}

// TestResolveAndAutostart: autostart starts a marked network; interfaces on
// it are completed with its bridge, a stable address and one default route;
// an unknown or stopped network is refused; ReleaseGuest frees the address.
func TestResolveAndAutostart(t *testing.T) {
	host := nettest.NewNetns(t)
	pfx := nettest.Net24(t)
	name := "r" + nettest.RandHex(t, 8)
	l, n := testNetwork(t, host, fmt.Sprintf(`<network><name>%s</name><forward mode='route'/>
<ip address='%s.1' prefix='24'><dhcp><range start='%[2]s.10' end='%[2]s.20'/></dhcp></ip></network>`, name, pfx))
	const uuid = "dddddddd-0000-4000-8000-000000000001"
	ifaces := func() []plan.Interface {
		return []plan.Interface{
			{Type: guestnet.TypeNetwork, Network: name, GuestName: "eth0", MAC: nettest.MAC(guestnet.GuestMAC(uuid, 0)), XMLPath: "/domain/devices/interface[1]"},
			{Type: guestnet.TypeNetwork, Network: name, GuestName: "eth1", MAC: nettest.MAC(guestnet.GuestMAC(uuid, 1)), XMLPath: "/domain/devices/interface[2]"},
			{Type: guestnet.TypeNetwork, Network: name, GuestName: "eth2", MAC: nettest.MAC(guestnet.GuestMAC(uuid, 2)), IPs: nettest.Prefixes(pfx + ".200/24")},
		}
	}
	// resolve applies Resolver's answers as launch.Prepare does (whose
	// tests cover that policy with a fake resolver).
	resolve := func(in []plan.Interface) error {
		return nettest.RunIn(host, func() error {
			hasDefault := false
			for i := range in {
				x := &in[i]
				bridge, addr, gw, err := Resolver{Layout: l}.ResolveNetwork(x.Network, uuid, x.MAC, len(x.IPs) == 0)
				if err != nil {
					return fmt.Errorf("interface %s: %w", x.XMLPath, err)
				}
				x.Bridge = bridge
				if addr.IsValid() {
					x.IPs = []netip.Prefix{addr}
					if gw.IsValid() && !hasDefault {
						x.Routes, hasDefault = append(x.Routes, plan.Route{Gateway: gw}), true
					}
				}
			}
			return nil
		})
	}
	if err := resolve(ifaces()); !errors.Is(err, errdefs.ErrNotRunning) || !strings.Contains(err.Error(), "/domain/devices/interface[1]") {
		t.Errorf("resolve on a stopped network: %v, want ErrNotRunning naming the interface", err)
	}
	unknown := []plan.Interface{{Type: guestnet.TypeNetwork, Network: "nope", GuestName: "eth0", XMLPath: "/domain/devices/interface[1]"}}
	if err := resolve(unknown); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("resolve on an unknown network: %v, want ErrNotFound", err)
	}

	if err := SetAutostart(l, name, true); err != nil {
		t.Fatal(err)
	}
	if err := nettest.RunIn(host, func() error { return StartAutostart(l) }); err != nil {
		t.Fatalf("StartAutostart: %v", err)
	}
	if !Active(l, name) {
		t.Fatalf("autostart did not start %s", name)
	}
	if got := readSysctl(t, host, ipForward); got != "1" {
		t.Errorf("route network: ip_forward %s", got)
	}
	in := ifaces()
	if err := resolve(in); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	routes := 0
	for i, x := range in {
		if x.Bridge != n.Bridge {
			t.Errorf("interface %d: bridge %q, want %q", i, x.Bridge, n.Bridge)
		}
		routes += len(x.Routes)
	}
	if len(in[0].IPs) != 1 || len(in[1].IPs) != 1 || in[0].IPs[0] == in[1].IPs[0] || !in[0].Up() {
		t.Errorf("allocated %v and %v (up %v): want two distinct addresses", in[0].IPs, in[1].IPs, in[0].Up())
	}
	if in[2].IPs[0].String() != pfx+".200/24" {
		t.Errorf("an explicit address was replaced: %v", in[2].IPs)
	}
	if routes != 1 || len(in[0].Routes) != 1 || in[0].Routes[0].Gateway.String() != pfx+".1" {
		t.Errorf("routes %v %v %v: want one default route via %s.1", in[0].Routes, in[1].Routes, in[2].Routes, pfx)
	}
	again := ifaces()
	if err := resolve(again); err != nil || again[0].IPs[0] != in[0].IPs[0] || again[1].IPs[0] != in[1].IPs[0] {
		t.Errorf("second resolve gave %v %v (%v), want the same addresses %v %v", again[0].IPs, again[1].IPs, err, in[0].IPs, in[1].IPs)
	}
	if _, err := allocIn(host, n, "eeeeeeee-0000-4000-8000-000000000001", guestnet.GuestMAC(uuid, 0)); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("another guest with the same MAC: %v, want ErrAlreadyExists", err)
	}

	// Route mode: a guest reaches the upstream host with its own address
	// (the upstream routes the network back through the host).
	upstream, upPfx := makeUpstream(t, host, pfx, true)
	g := nettest.StartGuest(t)
	in[0].HostName = "vmlt" + nettest.RandHex(t, 8)
	if _, err := setupIn(t, host, in[:1], g.Pid); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if got, want := upstreamSees(t, upstream, g.Ns(t), upPfx+".2:7083"), in[0].IPs[0].Addr().String(); got != want {
		t.Errorf("upstream saw the routed connection from %s, want the guest's %s", got, want)
	}
	var tableThere bool
	if err := nettest.RunIn(host, func() (err error) { tableThere, err = NFTableExists(); return }); err != nil || tableThere {
		t.Errorf("a route network made the nftables table (%v)", err)
	}

	if err := nettest.RunIn(host, func() error { return ReleaseGuest(l, uuid) }); err != nil {
		t.Fatalf("ReleaseGuest: %v", err)
	}
	a, err := readAllocations(allocFile(l, name))
	if err != nil || len(a.Entries) != 0 {
		t.Errorf("allocations after release: %v %v", a, err)
	}
}

// TestStartRollback: when the last step (dnsmasq) fails, the bridge, the
// masquerade rule (and table), forwarding and the run directory are undone.
func TestStartRollback(t *testing.T) {
	host := nettest.NewNetns(t)
	pfx := nettest.Net24(t)
	name := "f" + nettest.RandHex(t, 8)
	l, n := testNetwork(t, host, fmt.Sprintf(`<network><name>%s</name><forward/>
<ip address='%s.1' prefix='24'><dhcp><range start='%[2]s.10' end='%[2]s.20'/></dhcp></ip></network>`, name, pfx))
	// dnsmasq cannot open its log where a directory stands.
	if err := os.MkdirAll(filepath.Join(RunDir(l, name), "dnsmasq.log"), 0o700); err != nil {
		t.Fatal(err)
	}
	fwdBefore := readSysctl(t, host, ipForward)
	err := nettest.RunIn(host, func() error { return Start(l, name) })
	if err == nil || !strings.Contains(err.Error(), "dnsmasq") {
		t.Fatalf("Start with a broken dnsmasq: %v, want a dnsmasq error", err)
	}
	var tableThere bool
	if err := nettest.RunIn(host, func() (err error) { tableThere, err = NFTableExists(); return }); err != nil || tableThere {
		t.Errorf("nftables table left after a failed start (%v)", err)
	}
	if nettest.LinkIn(t, host, n.Bridge) {
		t.Errorf("bridge left after a failed start")
	}
	if got := readSysctl(t, host, ipForward); got != fwdBefore {
		t.Errorf("ip_forward %s after a failed start, was %s", got, fwdBefore)
	}
	if _, err := os.Stat(RunDir(l, name)); !errors.Is(err, os.ErrNotExist) || Active(l, name) {
		t.Errorf("run directory left after a failed start: %v", err)
	}
}

// setupIn runs Setup in the test's host namespace (nettest.SetupIn).
func setupIn(t *testing.T, host netns.NsHandle, ifaces []plan.Interface, pid int) (func() error, error) {
	t.Helper()
	return nettest.SetupIn(t, host, guestnet.Setup, ifaces, pid)
}
