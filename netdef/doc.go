// Package netdef is vmlite's managed networks (libvirt network XML): the
// definitions and their store, the host bridge, NAT (nftables), forwarding
// and the DHCP server (dnsmasq), and the addresses it hands to guests
// (Resolver, for launch.Prepare). A guest's own interfaces are package
// guestnet.
package netdef
