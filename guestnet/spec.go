package guestnet

import (
	"fmt"
	"net"
	"net/netip"

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
	if err := plan.CheckGuestLinkName(in.GuestName); err != nil {
		return nil, s.invalidf("guest name: %v", err)
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
	if !in.MAC.IsZero() {
		if in.MAC.Multicast() {
			return nil, s.invalidf("MAC address %s is a multicast address", in.MAC)
		}
		s.mac = net.HardwareAddr(in.MAC[:])
	}
	if in.MTU != 0 && (in.MTU < plan.MinMTU || in.MTU > plan.MaxMTU) {
		return nil, s.invalidf("MTU %d out of range %d-%d", in.MTU, plan.MinMTU, plan.MaxMTU)
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

// parseCIDRs turns the plan's prefixes into netlink's form; the builder
// parsed them from the XML, so only a zero one (a plan made by hand) is
// refused.
func parseCIDRs(s *ifaceSpec, cidrs []netip.Prefix) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range cidrs {
		if !c.IsValid() {
			return nil, s.invalidf("address %v is not an address with a prefix (10.0.0.5/24)", c)
		}
		out = append(out, ipNet(c.Addr(), c.Bits()))
	}
	return out, nil
}

// ipNet is a with a prefix of bits, in netlink's form (IPv4 in 4 bytes).
func ipNet(a netip.Addr, bits int) *net.IPNet {
	a = a.Unmap()
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

func parseRoute(s *ifaceSpec, r plan.Route) (routeSpec, error) {
	var rs routeSpec
	if !r.Gateway.IsValid() {
		return rs, s.invalidf("route to %v: no gateway address", r.Dest)
	}
	gw := r.Gateway.Unmap()
	rs.gw = net.IP(gw.AsSlice())
	rs.v6 = gw.Is6()
	if r.Dest.IsValid() {
		if r.Dest.Addr().Unmap().Is6() != rs.v6 {
			return rs, s.invalidf("route to %s: gateway %s is of the other address family", r.Dest, r.Gateway)
		}
		d := r.Dest.Masked()
		rs.dst = ipNet(d.Addr(), d.Bits())
	}
	return rs, nil
}
