package netdef

import (
	"errors"
	"fmt"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// Names gives launch.Build the generated names and MACs (HostLinkName and
// GuestMAC) through the small interface plan declares for them, so that
// plan does not import netdef.
type Names struct{}

// HostLinkName is HostLinkName.
func (Names) HostLinkName(guest string, index int) string { return HostLinkName(guest, index) }

// GuestMAC is GuestMAC.
func (Names) GuestMAC(uuid string, index int) string { return GuestMAC(uuid, index) }

// ResolveNetworkInterfaces completes the type='network' interfaces of the
// guest with guestUUID, in place, for launch.Build: each gets its network's
// bridge and, when it has no <ip>, the guest's stable address on the network
// (AllocateAddress, so its MAC must be set) and, for a nat or route
// network, a default route through the bridge unless some interface of the
// guest has a default route already. Such an interface is brought up.
//
// The network must be running (errdefs.ErrNotRunning otherwise, naming the
// interface's XML path); an unknown network is errdefs.ErrNotFound. Call it
// in the host's network namespace: a new address restarts the network's
// DHCP server.
func ResolveNetworkInterfaces(l state.Layout, guestUUID string, ifaces []plan.Interface) error {
	hasDefault := false
	for _, in := range ifaces {
		for _, r := range in.Routes {
			hasDefault = hasDefault || r.Dest == ""
		}
	}
	for i := range ifaces {
		in := &ifaces[i]
		if in.Type != TypeNetwork {
			continue
		}
		where := in.XMLPath
		if where == "" {
			where = in.GuestName
		}
		n, err := Load(l, in.Network)
		if err != nil {
			if errors.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("interface %s: network %q is not defined: %w", where, in.Network, errdefs.ErrNotFound)
			}
			return fmt.Errorf("interface %s: %w", where, err)
		}
		if !Active(l, n.Name) {
			return fmt.Errorf("interface %s: network %q is not active (vmlite net-start %s): %w", where, n.Name, n.Name, errdefs.ErrNotRunning)
		}
		// The bridge of the running network: it may have been redefined
		// with another bridge name since it started.
		if st, err := readRunState(l, n.Name); err == nil {
			in.Bridge = st.Bridge
		} else {
			in.Bridge = n.Bridge
		}
		if len(in.IPs) > 0 || n.IPv4() == nil {
			continue
		}
		ip, err := n.AllocateAddress(guestUUID, in.MAC)
		if err != nil {
			return fmt.Errorf("interface %s: %w", where, err)
		}
		c := n.IPv4()
		in.IPs = []string{fmt.Sprintf("%s/%d", ip, c.Prefix())}
		in.Up = true
		if n.Forward != ForwardNone && !hasDefault {
			in.Routes = append(in.Routes, plan.Route{Gateway: c.Address.String()})
			hasDefault = true
		}
	}
	return nil
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
