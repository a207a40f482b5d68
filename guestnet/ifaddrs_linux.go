package guestnet

import (
	"fmt"
	"sort"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// GuestAddresses reads the addresses of the interfaces named in names (all
// but lo when names is empty) in the network namespace of pid, through a
// netlink handle bound to it. Link-local IPv6 addresses are left out, as
// virsh domifaddr does. An interface without addresses is listed with an
// empty Family and CIDR.
func GuestAddresses(pid int, names []string) ([]IfaceAddr, error) {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("open network namespace of pid %d: %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink in the network namespace of pid %d: %w", pid, err)
	}
	defer h.Close()
	var links []netlink.Link
	if len(names) == 0 {
		all, err := h.LinkList()
		if err != nil {
			return nil, fmt.Errorf("list guest links: %w", err)
		}
		for _, l := range all {
			if l.Attrs().Name != "lo" {
				links = append(links, l)
			}
		}
		sort.Slice(links, func(i, j int) bool { return links[i].Attrs().Index < links[j].Attrs().Index })
	} else {
		for _, name := range names {
			l, err := h.LinkByName(name)
			if err != nil {
				return nil, fmt.Errorf("guest interface %s: %w", name, err)
			}
			links = append(links, l)
		}
	}
	var out []IfaceAddr
	for _, l := range links {
		addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("addresses of guest interface %s: %w", l.Attrs().Name, err)
		}
		base := IfaceAddr{Name: l.Attrs().Name, MAC: l.Attrs().HardwareAddr.String()}
		n := 0
		for _, a := range addrs {
			if a.IP.IsLinkLocalUnicast() {
				continue
			}
			e := base
			e.Family, e.CIDR = "ipv6", a.IPNet.String()
			if a.IP.To4() != nil {
				e.Family = "ipv4"
			}
			out = append(out, e)
			n++
		}
		if n == 0 {
			out = append(out, base)
		}
	}
	return out, nil
}
