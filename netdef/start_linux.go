package netdef

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"vmlite/guestnet"
	"vmlite/internal/errdefs"
	"vmlite/internal/revert"
	"vmlite/state"
)

// Start makes network name real in the calling thread's network namespace
// (the host's): its bridge with its MAC, MTU and addresses, up; for nat and
// route, IPv4 forwarding (see ipForward); for nat, a masquerade rule in
// vmlite's nftables table; with an IPv4 <ip>, dnsmasq serving DHCP on the
// bridge. Each step is undone if a later one fails. A subnet already
// routed on the host, or an existing link with the bridge's name, is
// refused (errdefs.ErrAlreadyExists): vmlite never takes over a host link.
func Start(l state.Layout, name string) error {
	n, err := Load(l, name)
	if err != nil {
		return err
	}
	unlock, err := lockNetworks(l)
	if err != nil {
		return err
	}
	defer unlock()
	if Active(l, name) {
		return fmt.Errorf("network %s: %w", name, errdefs.ErrAlreadyRunning)
	}
	return start(l, n)
}

// Create starts a transient network from network XML data (file names
// the source in messages), as Start does, with no stored definition: its
// XML is kept in its runtime directory, and Destroy removes it with the
// rest (libvirt's virNetworkCreateXML, virsh net-create). Its name, UUID
// and bridge must not be another network's (errdefs.ErrAlreadyExists; a
// transient network of that name that runs is errdefs.ErrAlreadyRunning).
func Create(l state.Layout, file string, data []byte) (*Network, error) {
	n, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	unlock, err := lockNetworks(l)
	if err != nil {
		return nil, err
	}
	defer unlock()
	others, err := List(l)
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		switch {
		case o.Name == n.Name && o.Transient:
			return nil, fmt.Errorf("network %s is already active: %w", n.Name, errdefs.ErrAlreadyRunning)
		case o.Name == n.Name:
			return nil, fmt.Errorf("%w: network %q already exists with UUID %s; fix: vmlite net-start %s starts it, or give this one another name",
				errdefs.ErrAlreadyExists, n.Name, o.UUID, n.Name)
		case o.UUID == n.UUID:
			return nil, fmt.Errorf("%w: UUID %s belongs to network %q", errdefs.ErrAlreadyExists, n.UUID, o.Name)
		case o.Bridge == n.Bridge:
			return nil, fmt.Errorf("%w: bridge %s belongs to network %q", errdefs.ErrAlreadyExists, n.Bridge, o.Name)
		}
	}
	n.Transient, n.layout = true, &l
	if err := start(l, n); err != nil {
		return nil, err
	}
	return n, nil
}

// start makes n real; the caller holds the networks' lock and has checked
// that it is not active.
func start(l state.Layout, n *Network) (err error) {
	name := n.Name
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink: %w", err)
	}
	defer h.Close()
	if err := checkHostConflicts(h, n); err != nil {
		return err
	}

	u := revert.New(revert.KeepFailed)
	defer func() {
		if err != nil {
			if uerr := u.Undo(); uerr != nil {
				err = errors.Join(err, fmt.Errorf("undo start of network %s: %w", name, uerr))
			}
		}
	}()
	dir := RunDir(l, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("start network %s: %w", name, err)
	}
	u.Add("remove run directory "+dir, func() error { return os.RemoveAll(dir) })
	// The definition it runs with: a transient network's only one, and
	// what a persistent one keeps if it is undefined while it runs.
	b, err := n.Marshal()
	if err != nil {
		return err
	}
	if err := state.WriteFileAtomic(liveDefFile(l, name), b, 0o600); err != nil {
		return fmt.Errorf("start network %s: %w", name, err)
	}

	st := &runState{Name: name, Bridge: n.Bridge, Forward: n.Forward, StartedAt: time.Now().UTC()}
	if st.BridgeIndex, err = createBridge(h, n, u); err != nil {
		return err
	}
	if n.Forward != ForwardNone {
		if err := enableForwarding(l); err != nil {
			return err
		}
		u.Add("remove forwarding", func() error { return restoreForwarding(l, name) })
	}
	if c := n.IPv4(); c != nil && n.Forward == ForwardNAT {
		if err := addMasquerade(name, c.Net); err != nil {
			return err
		}
		st.Subnet = c.Net.String()
		u.Add("remove masquerade rule", func() error { return removeMasquerade(name) })
	}
	if n.IPv4() != nil {
		a, err := readAllocations(n.allocations(l))
		if err != nil {
			return err
		}
		if err := startDnsmasq(l, n, n.dhcpHosts(a)); err != nil {
			return err
		}
		st.DHCP = true
		u.Add("remove dnsmasq", func() error { return stopDnsmasq(l, name) })
	}
	// state.json last: its presence is what makes the network active.
	return st.write(l)
}

// checkHostConflicts refuses a bridge name that is taken and a subnet that
// overlaps a route of the host (another network, a LAN): guests would
// shadow, or be shadowed by, hosts there.
func checkHostConflicts(h *netlink.Handle, n *Network) error {
	if _, err := h.LinkByName(n.Bridge); err == nil {
		return fmt.Errorf("network %s: a link named %s exists already: %w", n.Name, n.Bridge, errdefs.ErrAlreadyExists)
	}
	for _, c := range n.IPs {
		fam := netlink.FAMILY_V6
		if c.Address.To4() != nil {
			fam = netlink.FAMILY_V4
		}
		routes, err := h.RouteList(nil, fam)
		if err != nil {
			return fmt.Errorf("list routes: %w", err)
		}
		for _, r := range routes {
			if r.Dst == nil || r.Dst.IP.IsLinkLocalUnicast() {
				continue // the default route and fe80::/64 overlap everything
			}
			if ones, _ := r.Dst.Mask.Size(); ones == 0 {
				continue // netlink reports the default route as 0.0.0.0/0 (or ::/0)
			}
			if r.Dst.Contains(c.Net.IP) || c.Net.Contains(r.Dst.IP) {
				dev := fmt.Sprintf("link %d", r.LinkIndex)
				if l, err := h.LinkByIndex(r.LinkIndex); err == nil {
					dev = l.Attrs().Name
				}
				return fmt.Errorf("network %s: subnet %s is in use on the host (%s via %s): %w",
					n.Name, c.Net, r.Dst, dev, errdefs.ErrAlreadyExists)
			}
		}
	}
	return nil
}

// createBridge creates n's bridge, gives it its addresses and brings it up.
func createBridge(h *netlink.Handle, n *Network, u *revert.Reverter) (int, error) {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = n.Bridge
	attrs.MTU = n.MTU
	attrs.HardwareAddr = n.MAC
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
		return 0, fmt.Errorf("network %s: create bridge %s: %w", n.Name, n.Bridge, err)
	}
	br, err := h.LinkByName(n.Bridge)
	if err != nil {
		return 0, fmt.Errorf("network %s: find new bridge %s: %w", n.Name, n.Bridge, err)
	}
	idx := br.Attrs().Index
	u.Add("remove bridge "+n.Bridge, guestnet.DeleteLink(h, n.Bridge, idx))
	for _, c := range n.IPs {
		a := &netlink.Addr{IPNet: &net.IPNet{IP: c.Address, Mask: c.Net.Mask}}
		if c.Address.To4() == nil {
			// No duplicate address detection on an address the bridge
			// owns by definition: it is usable at once, not in 1-2 s.
			a.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(br, a); err != nil {
			return 0, fmt.Errorf("network %s: add address %s to %s: %w", n.Name, c.CIDR(), n.Bridge, err)
		}
	}
	if err := h.LinkSetUp(br); err != nil {
		return 0, fmt.Errorf("network %s: bridge %s up: %w", n.Name, n.Bridge, err)
	}
	return idx, nil
}

// Destroy stops network name: its dnsmasq, its masquerade rule (and
// vmlite's table with its last rule), forwarding (restored when no other
// network forwards), its bridge and its runtime directory, in that order.
// What is already gone counts as removed, so a half-failed destroy can be
// repeated. Guests' veths on the bridge lose it; they are the guests' to
// remove. A transient network is gone with its runtime directory.
func Destroy(l state.Layout, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	unlock, err := lockNetworks(l)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readRunState(l, name)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("network %s: %w", name, errdefs.ErrNotRunning)
	}
	if err != nil {
		return err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink: %w", err)
	}
	defer h.Close()
	var errs []error
	if err := stopDnsmasq(l, name); err != nil {
		errs = append(errs, err)
	}
	if st.Subnet != "" {
		if err := removeMasquerade(name); err != nil {
			errs = append(errs, err)
		}
	}
	if st.Forward != ForwardNone {
		if err := restoreForwarding(l, name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := guestnet.DeleteLink(h, st.Bridge, st.BridgeIndex)(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		// Keep the state: a retry needs it to know what is left.
		return fmt.Errorf("destroy network %s: %w", name, errors.Join(errs...))
	}
	if err := os.RemoveAll(RunDir(l, name)); err != nil {
		return fmt.Errorf("destroy network %s: %w", name, err)
	}
	return nil
}
