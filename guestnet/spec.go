package guestnet

import (
	"fmt"
	"net"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Interface types (plan.Interface.Type).
const (
	TypeBridge   = "bridge"   // veth, host end joins an existing host bridge
	TypeNetwork  = "network"  // veth, host end joins a vmlite network's bridge
	TypeEthernet = "ethernet" // veth, no bridge; HostIPs on the host end
	TypeDirect   = "direct"   // macvlan on SourceDev, moved into the guest
	TypeHostdev  = "hostdev"  // the host link SourceDev itself, moved in and back (<hostdev type='net'>)
)

// macvlanModes are the <source mode> values libvirt accepts for direct
// interfaces; "" is libvirt's default, vepa.
var macvlanModes = map[string]bool{"": true, "vepa": true, "bridge": true, "private": true, "passthrough": true}

// ifaceSpec is one plan.Interface, parsed and checked before anything is
// created, so that a user error never leaves half a guest network behind.
type ifaceSpec struct {
	plan.Interface
	mac     net.HardwareAddr // nil: the kernel picks one
	ips     []*net.IPNet     // IP is the address itself, not the network
	hostIPs []*net.IPNet
	routes  []routeSpec
	up      bool
}

type routeSpec struct {
	dst *net.IPNet // nil: default route
	gw  net.IP
	v6  bool
}

// where names the interface in messages: its XML path, else its guest name.
func (s *ifaceSpec) where() string {
	if s.XMLPath != "" {
		return s.XMLPath
	}
	return s.GuestName
}

// errorf prefixes an error with the interface it concerns:
// "interface /domain/devices/interface[2]: add address 10.0.0.5/24: ...".
func (s *ifaceSpec) errorf(format string, args ...any) error {
	return fmt.Errorf("interface %s: "+format, append([]any{s.where()}, args...)...)
}

// invalidf is errorf for the user's mistakes: it wraps errdefs.ErrInvalid.
func (s *ifaceSpec) invalidf(format string, args ...any) error {
	return s.errorf("%w: %s", errdefs.ErrInvalid, fmt.Sprintf(format, args...))
}

// parseInterfaces checks every interface and the set as a whole (no two
// with one name), returning the first problem.
func parseInterfaces(ifaces []plan.Interface) ([]*ifaceSpec, error) {
	specs := make([]*ifaceSpec, 0, len(ifaces))
	guestNames, hostNames := map[string]bool{}, map[string]bool{}
	for _, in := range ifaces {
		s, err := parseInterface(in)
		if err != nil {
			return nil, err
		}
		if guestNames[s.GuestName] {
			return nil, s.invalidf("guest interface name %q used twice", s.GuestName)
		}
		guestNames[s.GuestName] = true
		if s.HostName != "" {
			if hostNames[s.HostName] {
				return nil, s.invalidf("host interface name %q used twice", s.HostName)
			}
			hostNames[s.HostName] = true
		}
		specs = append(specs, s)
	}
	return specs, nil
}

func parseInterface(in plan.Interface) (*ifaceSpec, error) {
	s := &ifaceSpec{Interface: in}
	if err := ValidLinkName(in.GuestName); err != nil {
		return nil, s.errorf("guest name: %w", err)
	}
	if in.GuestName == "lo" {
		return nil, s.invalidf("guest name \"lo\" is the loopback interface")
	}
	switch in.Type {
	case TypeBridge, TypeNetwork:
		if in.Bridge == "" && in.Type == TypeNetwork {
			return nil, s.invalidf("network %q has no bridge (is it started?)", in.Network)
		}
		if err := ValidLinkName(in.Bridge); err != nil {
			return nil, s.errorf("bridge: %w", err)
		}
		fallthrough
	case TypeEthernet:
		if err := ValidLinkName(in.HostName); err != nil {
			return nil, s.errorf("host name: %w", err)
		}
	case TypeHostdev:
		if err := ValidLinkName(in.SourceDev); err != nil {
			return nil, s.errorf("source device: %w", err)
		}
	case TypeDirect:
		if err := ValidLinkName(in.SourceDev); err != nil {
			return nil, s.errorf("source device: %w", err)
		}
		if !macvlanModes[in.MacvlanMode] {
			return nil, s.invalidf("macvlan mode %q (want vepa, bridge, private or passthrough)", in.MacvlanMode)
		}
	default:
		return nil, s.invalidf("interface type %q (want bridge, network, ethernet, direct or hostdev)", in.Type)
	}
	if in.Type != TypeEthernet && len(in.HostIPs) > 0 {
		return nil, s.invalidf("host-side addresses need type ethernet, not %s", in.Type)
	}
	if in.MAC != "" {
		mac, err := net.ParseMAC(in.MAC)
		if err != nil || len(mac) != 6 {
			return nil, s.invalidf("MAC address %q is not an Ethernet address", in.MAC)
		}
		if mac[0]&1 != 0 {
			return nil, s.invalidf("MAC address %q is a multicast address", in.MAC)
		}
		s.mac = mac
	}
	if in.MTU != 0 && (in.MTU < 68 || in.MTU > 65535) {
		return nil, s.invalidf("MTU %d out of range 68-65535", in.MTU)
	}
	var err error
	if s.ips, err = parseCIDRs(s, in.IPs); err != nil {
		return nil, err
	}
	if s.hostIPs, err = parseCIDRs(s, in.HostIPs); err != nil {
		return nil, err
	}
	s.up = in.Up()
	for _, r := range in.Routes {
		rs, err := parseRoute(s, r)
		if err != nil {
			return nil, err
		}
		s.routes = append(s.routes, rs)
	}
	if len(s.routes) > 0 && !s.up {
		return nil, s.invalidf("routes need the link up, but it is down and has no address")
	}
	return s, nil
}

func parseCIDRs(s *ifaceSpec, cidrs []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range cidrs {
		ip, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, s.invalidf("address %q is not in CIDR form (10.0.0.5/24)", c)
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		out = append(out, &net.IPNet{IP: ip, Mask: n.Mask})
	}
	return out, nil
}

func parseRoute(s *ifaceSpec, r plan.Route) (routeSpec, error) {
	var rs routeSpec
	rs.gw = net.ParseIP(r.Gateway)
	if rs.gw == nil {
		return rs, s.invalidf("route to %q: gateway %q is not an IP address", r.Dest, r.Gateway)
	}
	rs.v6 = rs.gw.To4() == nil
	if r.Dest != "" {
		_, dst, err := net.ParseCIDR(r.Dest)
		if err != nil {
			return rs, s.invalidf("route destination %q is not in CIDR form", r.Dest)
		}
		if (dst.IP.To4() == nil) != rs.v6 {
			return rs, s.invalidf("route to %s: gateway %s is of the other address family", r.Dest, r.Gateway)
		}
		rs.dst = dst
	}
	return rs, nil
}
