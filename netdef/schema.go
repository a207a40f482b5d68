package netdef

import (
	"fmt"
	"strconv"

	"vmlite/domain"
)

// The subset of libvirt's network XML that vmlite implements, as a class
// table for the strict engine domain's definitions are read with
// (domain.CheckXML): one walker, the same FILE:LINE: /xpath errors.
// Every element is strict: anything vmlite does not implement is an error
// rather than a setting silently ignored, and what libvirt itself would
// accept and vmlite cannot honour says so.

// dnsmasqNS is libvirt's namespace for options passed to dnsmasq.
const dnsmasqNS = "http://libvirt.org/schemas/network/dnsmasq/1.0"

const (
	isolatedHint = "use <forward mode='nat'/> or <forward mode='route'/>, or no <forward> for an isolated network"
	removeHint   = "remove it"
)

var networkSchema = func() *domain.Spec {
	a := domain.Applied
	e := func(name, doc string, opts ...domain.SpecOpt) *domain.Spec {
		return domain.Element(name, a, doc, append(opts, domain.Strict())...)
	}
	rejected := func(doc string, names ...string) []*domain.Spec {
		out := make([]*domain.Spec, len(names))
		for i, n := range names {
			out[i] = domain.RejectedElement(n, doc, removeHint)
		}
		return out
	}
	modes := []*domain.ValueSpec{
		domain.Value("nat", a, "masqueraded to the host's address on the way out", ""),
		domain.Value("route", a, "routed as is; the upstream must route back", ""),
	}
	for _, m := range []string{"bridge", "private", "vepa", "passthrough", "hostdev", "open"} {
		modes = append(modes, domain.Value(m, domain.Rejected, "forward mode "+m, isolatedHint))
	}
	options := domain.RejectedElement("options", "dnsmasq options (vmlite runs dnsmasq with its own)", removeHint)
	domain.InNamespace(dnsmasqNS)(options)
	return e("network", "a managed network: a host bridge, addresses, forwarding, DHCP",
		domain.Children(append([]*domain.Spec{
			e("name", "the network's name", domain.Text(nil)),
			e("uuid", "the network's UUID (made when none is given)", domain.Text(nil)),
			e("bridge", "the host bridge", domain.Attributes(
				domain.Attribute("name", a, "its name (vmlbr-NAME without one)", nil),
				domain.EnumAttribute("stp", "spanning tree", false, domain.Value("on", a, "on", ""), domain.Value("off", a, "off", "")),
				domain.Attribute("delay", a, "forward delay in seconds", uintIn(0, 1<<32-1, "a number of seconds")),
			)),
			e("forward", "forwarding out of the network",
				domain.Attributes(domain.EnumAttribute("mode", "how", false, modes...)),
				domain.Children(rejected("forwarding to given devices or addresses", "nat", "interface", "pf", "address")...)),
			e("mac", "the bridge's MAC", domain.Attributes(domain.Attribute("address", a, "a unicast Ethernet address", nil))),
			e("mtu", "the bridge's MTU", domain.Attributes(domain.Attribute("size", a, "68-65535", uintIn(68, 65535, "an MTU of 68-65535")))),
			e("ip", "an address of the bridge and its subnet", domain.Repeated(),
				domain.Attributes(
					domain.Attribute("address", a, "the bridge's address", nil),
					domain.Attribute("netmask", a, "IPv4 netmask", nil),
					domain.Attribute("prefix", a, "prefix length", uintIn(0, 128, "a prefix length")),
					domain.Attribute("family", a, "ipv4 or ipv6", nil),
				),
				domain.Children(
					e("dhcp", "DHCP served by dnsmasq (IPv4)", domain.Children(
						e("range", "addresses handed out", domain.Repeated(), domain.Attributes(
							domain.Attribute("start", a, "first", nil), domain.Attribute("end", a, "last", nil))),
						e("host", "a fixed assignment", domain.Repeated(), domain.Attributes(
							domain.Attribute("mac", a, "the guest's MAC", nil), domain.Attribute("ip", a, "its address", nil),
							domain.Attribute("name", a, "its host name", nil))),
						domain.RejectedElement("bootp", "BOOTP", removeHint),
					)),
					domain.RejectedElement("tftp", "a TFTP server", removeHint),
				)),
			options,
		}, rejected("not implemented for managed networks",
			"dns", "domain", "route", "portgroup", "bandwidth", "virtualport", "vlan", "port", "title", "description", "metadata")...)...))
}()

// uintIn checks a number between lo and hi; what names it in the error.
func uintIn(lo, hi uint64, what string) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v < lo || v > hi {
			return fmt.Errorf("want %s", what)
		}
		return nil
	}
}
