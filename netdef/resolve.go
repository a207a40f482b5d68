package netdef

import (
	"errors"
	"fmt"
	"net/netip"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// Resolver attaches guests' interfaces to the managed networks of a
// layout, for launch.Prepare (it is a launch.NetworkResolver). Call it in the host's
// network namespace: a new address restarts the network's DHCP server.
type Resolver struct{ Layout state.Layout }

// ResolveNetwork returns the bridge of the running network and, when
// wantAddress, the guest's stable address on it (AllocateAddress: by guest
// UUID and MAC) and, for a nat or route network, the gateway. An unknown
// network is errdefs.ErrNotFound, one that is not running
// errdefs.ErrNotRunning.
func (r Resolver) ResolveNetwork(network, guestUUID string, mac plan.MAC, wantAddress bool) (bridge string, address netip.Prefix, gateway netip.Addr, err error) {
	l := r.Layout
	n, err := Load(l, network)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return "", netip.Prefix{}, netip.Addr{}, fmt.Errorf("network %q is not defined: %w", network, errdefs.ErrNotFound)
		}
		return "", netip.Prefix{}, netip.Addr{}, err
	}
	if !Active(l, n.Name) {
		return "", netip.Prefix{}, netip.Addr{}, fmt.Errorf("network %q is not active (vmlite net-start %s): %w", n.Name, n.Name, errdefs.ErrNotRunning)
	}
	// The bridge of the running network: it may have been redefined with
	// another bridge name since it started.
	bridge = n.Bridge
	if st, err := readRunState(l, n.Name); err == nil {
		bridge = st.Bridge
	}
	if !wantAddress || n.IPv4() == nil {
		return bridge, netip.Prefix{}, netip.Addr{}, nil
	}
	ip, err := n.AllocateAddress(guestUUID, mac.String())
	if err != nil {
		return "", netip.Prefix{}, netip.Addr{}, err
	}
	c := n.IPv4()
	if n.Forward != ForwardNone {
		gateway, _ = netip.AddrFromSlice(c.Address.To4())
	}
	a, _ := netip.AddrFromSlice(ip.To4()) // AllocateAddress gives IPv4 only
	return bridge, netip.PrefixFrom(a, c.Prefix()), gateway, nil
}

// ReleaseGuest forgets the addresses the guest with guestUUID holds on every
// network (when the guest is undefined), so they can go to other guests.
func ReleaseGuest(l state.Layout, guestUUID string) error {
	ns, err := List(l)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ns {
		if err := n.ReleaseAddress(guestUUID); err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// StartAutostart starts every network marked with net-autostart that is not
// running, for vmlite's boot-time autostart (networks before guests). It
// goes on past a failure and returns all of them.
func StartAutostart(l state.Layout) error {
	ns, err := List(l)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ns {
		if Autostart(l, n.Name) && !Active(l, n.Name) {
			if err := Start(l, n.Name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
