package launch

import (
	"fmt"
	"net/netip"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/guestnet/linkname"
	"vmlite/internal/xpath"
	"vmlite/plan"
)

// buildInterfaces resolves every <interface>: host and guest link names,
// a stable MAC when none is given, addresses and routes. This is where the
// XML's strings become the plan's typed values, once; domain.Parse has
// checked them, so add is only reached when the two disagree.
func buildInterfaces(p *plan.Plan, x *libvirtxml.Domain, add func(path, msg, value string)) {
	if x.Devices == nil {
		return
	}
	for i, ifc := range x.Devices.Interfaces {
		it := interfaceOf(ifc, xpath.Child("/domain/devices", "interface", i, len(x.Devices.Interfaces)), add)
		if it.Type != "direct" {
			it.HostName = linkname.HostLinkName(p.Name, i)
			if ifc.Target != nil && ifc.Target.Dev != "" {
				it.HostName = ifc.Target.Dev
			}
		}
		it.GuestName = fmt.Sprintf("eth%d", i)
		if ifc.Guest != nil && ifc.Guest.Dev != "" {
			it.GuestName = ifc.Guest.Dev
		}
		mac := domain.DefaultMAC(p.UUID, i)
		if ifc.MAC != nil && ifc.MAC.Address != "" {
			mac = ifc.MAC.Address
		}
		var err error
		if it.MAC, err = plan.ParseMAC(mac); err != nil {
			add(it.XMLPath+"/mac/@address", err.Error(), mac)
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
		for j, ip := range n.IP {
			var prefix uint
			if ip.Prefix != nil {
				prefix = *ip.Prefix
			}
			it.IPs = appendPrefix(it.IPs, ip.Address, prefix, xpath.Child(it.XMLPath, "ip", j, len(n.IP)), add)
		}
		for j, r := range n.Route {
			it.Routes = appendRoute(it.Routes, r.Address, 0, r.Gateway, xpath.Child(it.XMLPath, "route", j, len(n.Route)), add)
		}
		p.Interfaces = append(p.Interfaces, it)
	}
}

// interfaceOf is the plan of <interface> ifc but for its names and MAC,
// which depend on its place among the guest's interfaces. Its addresses
// and routes are parsed here; add hears what does not parse.
func interfaceOf(ifc libvirtxml.DomainInterface, xmlPath string, add func(path, msg, value string)) plan.Interface {
	it := plan.Interface{XMLPath: xmlPath}
	if s := ifc.Source; s != nil {
		switch {
		case s.Bridge != nil:
			it.Type, it.Bridge = "bridge", s.Bridge.Bridge
		case s.Network != nil:
			it.Type, it.Network, it.Bridge = "network", s.Network.Network, s.Network.Bridge
		case s.Ethernet != nil:
			it.Type = "ethernet"
			for j, ip := range s.Ethernet.IP {
				it.HostIPs = appendPrefix(it.HostIPs, ip.Address, ip.Prefix, xpath.Child(xmlPath+"/source", "ip", j, len(s.Ethernet.IP)), add)
			}
		case s.Direct != nil:
			it.Type, it.SourceDev, it.MacvlanMode = "direct", s.Direct.Dev, s.Direct.Mode
			if it.MacvlanMode == "" {
				it.MacvlanMode = "vepa" // libvirt's default
			}
		}
	}
	for j, ip := range ifc.IP {
		it.IPs = appendPrefix(it.IPs, ip.Address, ip.Prefix, xpath.Child(xmlPath, "ip", j, len(ifc.IP)), add)
	}
	for j, r := range ifc.Route {
		it.Routes = appendRoute(it.Routes, r.Address, r.Prefix, r.Gateway, xpath.Child(xmlPath, "route", j, len(ifc.Route)), add)
	}
	if ifc.MTU != nil {
		it.MTU = int(ifc.MTU.Size)
	}
	it.LinkUp = ifc.Link != nil && ifc.Link.State == "up" // plan.Interface.Up decides
	return it
}

// appendPrefix appends address/bits; without a prefix (0), a host route
// (/32 or /128) as libvirt does for addresses given without one.
func appendPrefix(to []netip.Prefix, address string, bits uint, path string, add func(path, msg, value string)) []netip.Prefix {
	a, err := netip.ParseAddr(address)
	if err != nil {
		add(xpath.Attr(path, "address"), "not an IP address", address)
		return to
	}
	if bits == 0 {
		bits = uint(a.BitLen())
	}
	p := netip.PrefixFrom(a, int(bits))
	if !p.IsValid() {
		add(xpath.Attr(path, "prefix"), fmt.Sprintf("longer than the %d bits of the address", a.BitLen()), fmt.Sprint(bits))
		return to
	}
	return append(to, p)
}

// appendRoute appends a route via gateway to address/bits; no address,
// 0.0.0.0 or :: is the default route.
func appendRoute(to []plan.Route, address string, bits uint, gateway, path string, add func(path, msg, value string)) []plan.Route {
	gw, err := netip.ParseAddr(gateway)
	if err != nil {
		add(xpath.Attr(path, "gateway"), "not an IP address", gateway)
		return to
	}
	r := plan.Route{Gateway: gw}
	if address != "" && address != "0.0.0.0" && address != "::" {
		d := appendPrefix(nil, address, bits, path, add)
		if len(d) == 0 {
			return to
		}
		r.Dest = d[0]
	}
	return append(to, r)
}
