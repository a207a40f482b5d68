package lxcconf

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// netConf gathers the keys of one LXC network.
type netConf struct {
	first    entry // the entry that started it, for messages
	typ      string
	up       bool
	link     string
	hwaddr   string
	name     string
	pair     string
	mtu      string
	macvlan  string
	vlanID   string
	ips      []entry // ipv4/ipv6 addresses, CIDR
	gateways []entry
}

// network files one lxc.network.* (legacy: each type starts a new
// network) or lxc.net.N.* key.
func (c *converter) network(e entry) error {
	c.sawNetwork = true
	var n *netConf
	var key string
	if rest, ok := strings.CutPrefix(e.key, "lxc.net."); ok {
		idx, sub, ok := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 {
			return c.errorf(e, "expected lxc.net.N.KEY")
		}
		if n = c.netIndex[i]; n == nil {
			n = &netConf{first: e}
			c.netIndex[i] = n
			c.nets = append(c.nets, n)
		}
		key = sub
	} else {
		key = strings.TrimPrefix(strings.TrimPrefix(e.key, "lxc.network"), ".")
		if key == "type" {
			n = &netConf{first: e}
			c.nets = append(c.nets, n)
		} else if len(c.nets) == 0 {
			return c.errorf(e, "comes before lxc.network.type")
		} else {
			n = c.nets[len(c.nets)-1]
		}
	}
	switch key {
	case "type":
		n.typ = e.value
	case "flags":
		n.up = e.value == "up"
	case "link":
		n.link = e.value
	case "hwaddr":
		n.hwaddr = e.value
	case "name":
		n.name = e.value
	case "veth.pair":
		n.pair = e.value
	case "mtu":
		n.mtu = e.value
	case "macvlan.mode":
		n.macvlan = e.value
	case "vlan.id":
		n.vlanID = e.value
	case "ipv4", "ipv4.address", "ipv6", "ipv6.address":
		n.ips = append(n.ips, e)
	case "ipv4.gateway", "ipv6.gateway":
		if e.value == "auto" {
			c.warn(e, "not converted: an automatic gateway has no domain XML equivalent; add a <route>")
			return nil
		}
		n.gateways = append(n.gateways, e)
	default:
		c.warn(e, "not converted: vmlite has no equivalent for this network key")
	}
	return nil
}

// finishNetworks turns the gathered networks into interfaces and hostdevs.
func (c *converter) finishNetworks() error {
	privnet := true
	for _, n := range c.nets {
		switch n.typ {
		case "none":
			privnet = false // the guest shares the host's network
			continue
		case "empty":
			continue
		case "veth", "macvlan":
			ifc, err := c.iface(n)
			if err != nil {
				return err
			}
			c.x.Devices.Interfaces = append(c.x.Devices.Interfaces, ifc)
		case "phys", "vlan":
			hd, err := c.netHostdev(n)
			if err != nil {
				return err
			}
			c.x.Devices.Hostdevs = append(c.x.Devices.Hostdevs, hd)
		case "":
			return c.errorf(n.first, "network without a type")
		default:
			return c.errorf(n.first, "network type %q is not supported; fix: use veth, macvlan, phys, vlan, empty or none", n.typ)
		}
		privnet = false
	}
	c.sawNetwork = !privnet
	return nil
}

func (c *converter) iface(n *netConf) (libvirtxml.DomainInterface, error) {
	ifc := libvirtxml.DomainInterface{}
	switch {
	case n.typ == "macvlan":
		if n.link == "" {
			return ifc, c.errorf(n.first, "a macvlan network needs a link (the host device)")
		}
		mode := n.macvlan
		if mode == "" {
			mode = "private"
		}
		ifc.Source = &libvirtxml.DomainInterfaceSource{Direct: &libvirtxml.DomainInterfaceSourceDirect{Dev: n.link, Mode: mode}}
	case n.link != "":
		ifc.Source = &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: n.link}}
	default:
		ifc.Source = &libvirtxml.DomainInterfaceSource{Ethernet: &libvirtxml.DomainInterfaceSourceEthernet{}}
	}
	if n.hwaddr != "" {
		ifc.MAC = &libvirtxml.DomainInterfaceMAC{Address: fillMAC(n.hwaddr)}
	}
	for _, e := range n.ips {
		p, err := c.prefix(e)
		if err != nil {
			return ifc, err
		}
		ifc.IP = append(ifc.IP, libvirtxml.DomainInterfaceIP{Address: p.Addr().String(), Family: family(p.Addr()), Prefix: uint(p.Bits())})
	}
	for _, e := range n.gateways {
		gw, err := netip.ParseAddr(e.value)
		if err != nil {
			return ifc, c.errorf(e, "not an IP address: %q", e.value)
		}
		ifc.Route = append(ifc.Route, libvirtxml.DomainInterfaceRoute{Family: family(gw), Address: anyAddr(gw), Gateway: gw.String()})
	}
	if n.pair != "" {
		ifc.Target = &libvirtxml.DomainInterfaceTarget{Dev: n.pair}
	}
	if n.name != "" {
		ifc.Guest = &libvirtxml.DomainInterfaceGuest{Dev: n.name}
	}
	if n.up {
		ifc.Link = &libvirtxml.DomainInterfaceLink{State: "up"}
	}
	if n.mtu != "" {
		m, err := strconv.ParseUint(n.mtu, 10, 16)
		if err != nil {
			return ifc, c.errorf(n.first, "not an MTU: %q", n.mtu)
		}
		ifc.MTU = &libvirtxml.DomainInterfaceMTU{Size: uint(m)}
	}
	return ifc, nil
}

// netHostdev is a host interface moved into the guest (phys), or a VLAN
// device link.ID (vlan), as libvirt converts them.
func (c *converter) netHostdev(n *netConf) (libvirtxml.DomainHostdev, error) {
	if n.link == "" {
		return libvirtxml.DomainHostdev{}, c.errorf(n.first, "a %s network needs a link (the host device)", n.typ)
	}
	dev := n.link
	if n.typ == "vlan" {
		if _, err := strconv.ParseUint(n.vlanID, 10, 16); err != nil {
			return libvirtxml.DomainHostdev{}, c.errorf(n.first, "a vlan network needs a vlan.id")
		}
		dev += "." + n.vlanID
	}
	caps := &libvirtxml.DomainHostdevCapsNet{Source: &libvirtxml.DomainHostdevCapsNetSource{Interface: dev}}
	for _, e := range n.ips {
		p, err := c.prefix(e)
		if err != nil {
			return libvirtxml.DomainHostdev{}, err
		}
		bits := uint(p.Bits())
		caps.IP = append(caps.IP, libvirtxml.DomainIP{Address: p.Addr().String(), Family: family(p.Addr()), Prefix: &bits})
	}
	for _, e := range n.gateways {
		gw, err := netip.ParseAddr(e.value)
		if err != nil {
			return libvirtxml.DomainHostdev{}, c.errorf(e, "not an IP address: %q", e.value)
		}
		caps.Route = append(caps.Route, libvirtxml.DomainRoute{Family: family(gw), Address: anyAddr(gw), Gateway: gw.String()})
	}
	return libvirtxml.DomainHostdev{CapsNet: caps}, nil
}

// prefix reads ADDRESS/PREFIX (an address alone gets /32 or /128). LXC
// allows a broadcast address after the prefix ("10.0.0.2/24 10.0.0.255"),
// which the domain XML has no place for.
func (c *converter) prefix(e entry) (netip.Prefix, error) {
	f := strings.Fields(e.value)
	if len(f) == 0 {
		return netip.Prefix{}, c.errorf(e, "empty address")
	}
	if len(f) > 1 {
		c.warn(e, "not converted: the broadcast address %s (the kernel derives it)", f[1])
	}
	s := f[0]
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, c.errorf(e, "not an IP address: %q", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, c.errorf(e, "not an address/prefix: %q", s)
	}
	return p, nil
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

func anyAddr(a netip.Addr) string {
	if a.Is4() {
		return "0.0.0.0"
	}
	return "::"
}

// fillMAC replaces LXC's 'x' placeholders with random hex digits.
func fillMAC(s string) string {
	if !strings.ContainsAny(s, "xX") {
		return s
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	out := []byte(s)
	for i, ch := range out {
		if ch == 'x' || ch == 'X' {
			out[i] = fmt.Sprintf("%x", b[i%12]&0xf)[0]
		}
	}
	return string(out)
}
