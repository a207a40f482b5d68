package netdef

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"vmlite/internal/errdefs"
)

// AllocateAddress gives the interface with mac of the guest with guestUUID
// an IPv4 address of the network, for a guest interface without <ip>: the
// same interface of the same guest always gets the same address (recorded in
// LIB/networks/NAME.addresses.json, which outlives restarts of the guest,
// the network and the host; a transient network's are in its runtime
// directory, and go with it). The address is also registered with the
// network's DHCP server as a fixed host for mac, so a guest that runs a DHCP
// client gets the very address vmlite configured. A MAC that another guest
// holds on the network is refused (errdefs.ErrAlreadyExists): the DHCP
// server could not tell them apart.
//
// The caller applies it with the prefix of n.IPv4() and, for a default
// route, n.IPv4().Address as the gateway (Resolver.ResolveNetwork gives
// both). A running network's dnsmasq is restarted in the calling thread's
// network namespace, which must be the one the network was started in (the
// host's).
func (n *Network) AllocateAddress(guestUUID string, mac string) (net.IP, error) {
	hw, err := n.checkAllocRequest(guestUUID, mac)
	if err != nil {
		return nil, err
	}
	if n.layout == nil {
		return nil, fmt.Errorf("network %s is not a stored network", n.Name)
	}
	l := *n.layout
	unlock, err := lockNetworks(l)
	if err != nil {
		return nil, err
	}
	defer unlock()
	path := n.allocations(l)
	a, err := readAllocations(path)
	if err != nil {
		return nil, err
	}
	c := n.IPv4()
	taken := map[string]bool{}
	kept := a.Entries[:0]
	for _, g := range a.Entries {
		if g.MAC == hw.String() {
			if g.UUID != guestUUID {
				return nil, fmt.Errorf("%w: MAC %s is given to guest %s on network %s already", errdefs.ErrAlreadyExists, hw, g.UUID, n.Name)
			}
			if ip := net.ParseIP(g.IP).To4(); ip != nil && c.Net.Contains(ip) {
				return ip, nil
			}
			continue // the network was redefined with another subnet: allocate anew
		}
		taken[g.IP] = true
		kept = append(kept, g)
	}
	a.Entries = kept
	for _, h := range c.Hosts {
		taken[h.IP.String()] = true
	}
	leased := map[string]bool{}
	if b, err := os.ReadFile(dnsmasqLeaseFile(l, n.Name)); err == nil {
		for m, ip := range parseLeases(b) {
			if m != hw.String() {
				leased[ip] = true
			}
		}
	}
	ip, err := pickAddress(c, taken, leased)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", n.Name, err)
	}
	a.Entries = append(a.Entries, allocation{UUID: guestUUID, MAC: hw.String(), IP: ip.String()})
	return ip, n.commitAllocations(a, path)
}

// ReleaseAddress forgets the addresses of guestUUID (when the guest is
// undefined). Unknown guests are not an error.
func (n *Network) ReleaseAddress(guestUUID string) error {
	if n.layout == nil {
		return fmt.Errorf("network %s is not a stored network", n.Name)
	}
	unlock, err := lockNetworks(*n.layout)
	if err != nil {
		return err
	}
	defer unlock()
	path := n.allocations(*n.layout)
	a, err := readAllocations(path)
	if err != nil {
		return err
	}
	kept := a.Entries[:0]
	for _, g := range a.Entries {
		if g.UUID != guestUUID {
			kept = append(kept, g)
		}
	}
	if len(kept) == len(a.Entries) {
		return nil
	}
	a.Entries = kept
	return n.commitAllocations(a, path)
}

// commitAllocations writes the records and, when the network runs,
// restarts its dnsmasq with the new fixed hosts. Called with the lock held.
func (n *Network) commitAllocations(a *allocations, path string) error {
	if err := a.write(path); err != nil {
		return err
	}
	l := *n.layout
	st, err := readRunState(l, n.Name)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !st.DHCP {
		return nil
	}
	if err != nil {
		return err
	}
	if err := stopDnsmasq(l, n.Name); err != nil {
		return err
	}
	return startDnsmasq(l, n, n.dhcpHosts(a))
}
