// Package guestnet gives a guest its interfaces: host link names and MACs
// (names.go, pure), the checks of a launch plan's interfaces (spec.go), and
// the host-side set-up from the plan (Setup, Linux only: veth, macvlan, a
// host NIC moved in, addresses and routes in the guest's namespace), run by
// the supervisor; GuestAddresses reads them back for domifaddr. Managed
// networks (bridges, NAT, DHCP) are package netdef, which builds on the
// names here.
//
// Everything is configured from the host side: the guest's network namespace
// is reached through a netlink handle bound to it (netlink.NewHandleAt), so no
// thread of the caller ever switches namespace, and the guest's init finds its
// addresses and routes in place when it starts.
package guestnet

// IfaceAddr is one address of a guest interface, as domifaddr shows it.
type IfaceAddr struct {
	Name   string // the guest's name for the interface
	MAC    string
	Family string // ipv4 or ipv6
	CIDR   string // address/prefix
}
