package guestnet

import (
	"net"

	"github.com/vishvananda/netlink"
)

// addAddresses adds ips to link through h (the host's or the guest's
// namespace). The addresses go with the link, so they need no undo.
func addAddresses(s *ifaceSpec, h *netlink.Handle, link netlink.Link, ips []*net.IPNet) error {
	for _, ip := range ips {
		if err := h.AddrAdd(link, &netlink.Addr{IPNet: ip}); err != nil {
			return s.errorf("add address %s to %s: %w", ip, link.Attrs().Name, err)
		}
	}
	return nil
}

// addRoutes adds the guest's routes through link. They must come after the
// addresses and the link being up: the kernel refuses a gateway it cannot
// reach through a connected subnet of an up link.
func addRoutes(s *ifaceSpec, h *netlink.Handle, link netlink.Link) error {
	for _, r := range s.routes {
		rt := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: r.dst, Gw: r.gw, Family: netlink.FAMILY_V4}
		if r.v6 {
			rt.Family = netlink.FAMILY_V6
		}
		if err := h.RouteAdd(rt); err != nil {
			return s.errorf("add route %s via %s: %w", routeDest(r), r.gw, err)
		}
	}
	return nil
}

func routeDest(r routeSpec) string {
	if r.dst == nil {
		return "default"
	}
	return r.dst.String()
}
