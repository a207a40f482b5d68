package launch

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"vmlite/guestnet"
	"vmlite/internal/xpath"
	"vmlite/plan"
)

// buildInterfaces resolves every <interface>: host and guest link names,
// a stable MAC when none is given, addresses and routes.
func buildInterfaces(p *plan.Plan, x *libvirtxml.Domain) {
	if x.Devices == nil {
		return
	}
	for i, ifc := range x.Devices.Interfaces {
		it := interfaceOf(ifc, xpath.Child("/domain/devices", "interface", i, len(x.Devices.Interfaces)))
		if it.Type != "direct" {
			it.HostName = guestnet.HostLinkName(p.Name, i)
			if ifc.Target != nil && ifc.Target.Dev != "" {
				it.HostName = ifc.Target.Dev
			}
		}
		it.GuestName = fmt.Sprintf("eth%d", i)
		if ifc.Guest != nil && ifc.Guest.Dev != "" {
			it.GuestName = ifc.Guest.Dev
		}
		it.MAC = guestnet.GuestMAC(p.UUID, i)
		if ifc.MAC != nil && ifc.MAC.Address != "" {
			it.MAC = ifc.MAC.Address
		}
		p.Interfaces = append(p.Interfaces, it)
	}
	// <hostdev mode='capabilities' type='net'>: a host NIC moved in under
	// its own name, as libvirt's LXC driver does.
	for i, h := range x.Devices.Hostdevs {
		n := h.CapsNet
		if n == nil || n.Source == nil {
			continue
		}
		it := plan.Interface{Type: "hostdev", SourceDev: n.Source.Interface, GuestName: n.Source.Interface,
			XMLPath: xpath.Child("/domain/devices", "hostdev", i, len(x.Devices.Hostdevs))}
		for _, ip := range n.IP {
			var prefix uint
			if ip.Prefix != nil {
				prefix = *ip.Prefix
			}
			it.IPs = append(it.IPs, cidr(ip.Address, prefix))
		}
		for _, r := range n.Route {
			dest := ""
			if r.Address != "" && !(r.Address == "0.0.0.0" || r.Address == "::") {
				dest = cidr(r.Address, 0)
			}
			it.Routes = append(it.Routes, plan.Route{Dest: dest, Gateway: r.Gateway})
		}
		p.Interfaces = append(p.Interfaces, it)
	}
}

// interfaceOf is the plan of <interface> ifc but for its names and MAC,
// which depend on its place among the guest's interfaces.
func interfaceOf(ifc libvirtxml.DomainInterface, xmlPath string) plan.Interface {
	it := plan.Interface{XMLPath: xmlPath}
	if s := ifc.Source; s != nil {
		switch {
		case s.Bridge != nil:
			it.Type, it.Bridge = "bridge", s.Bridge.Bridge
		case s.Network != nil:
			it.Type, it.Network, it.Bridge = "network", s.Network.Network, s.Network.Bridge
		case s.Ethernet != nil:
			it.Type = "ethernet"
			for _, ip := range s.Ethernet.IP {
				it.HostIPs = append(it.HostIPs, cidr(ip.Address, ip.Prefix))
			}
		case s.Direct != nil:
			it.Type, it.SourceDev, it.MacvlanMode = "direct", s.Direct.Dev, s.Direct.Mode
			if it.MacvlanMode == "" {
				it.MacvlanMode = "vepa" // libvirt's default
			}
		}
	}
	for _, ip := range ifc.IP {
		it.IPs = append(it.IPs, cidr(ip.Address, ip.Prefix))
	}
	for _, r := range ifc.Route {
		dest := ""
		if r.Address != "" && !(r.Address == "0.0.0.0" || r.Address == "::") {
			dest = cidr(r.Address, r.Prefix)
		}
		it.Routes = append(it.Routes, plan.Route{Dest: dest, Gateway: r.Gateway})
	}
	if ifc.MTU != nil {
		it.MTU = int(ifc.MTU.Size)
	}
	it.LinkUp = ifc.Link != nil && ifc.Link.State == "up" // plan.Interface.Up decides
	return it
}

// cidr writes address/prefix; without a prefix, a host route (/32 or /128)
// as libvirt does for addresses given without one.
func cidr(addr string, prefix uint) string {
	if prefix == 0 {
		for _, c := range addr {
			if c == ':' {
				return fmt.Sprintf("%s/128", addr)
			}
		}
		return fmt.Sprintf("%s/32", addr)
	}
	return fmt.Sprintf("%s/%d", addr, prefix)
}
