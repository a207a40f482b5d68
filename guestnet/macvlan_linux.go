package guestnet

import (
	"fmt"

	"github.com/vishvananda/netlink"

	"vmlite/internal/errdefs"
)

var macvlanModeOf = map[string]netlink.MacvlanMode{
	"":            netlink.MACVLAN_MODE_VEPA, // libvirt's default
	"vepa":        netlink.MACVLAN_MODE_VEPA,
	"bridge":      netlink.MACVLAN_MODE_BRIDGE,
	"private":     netlink.MACVLAN_MODE_PRIVATE,
	"passthrough": netlink.MACVLAN_MODE_PASSTHRU,
}

// createMacvlan creates the macvlan of a direct interface on SourceDev,
// born in the guest's namespace under its final name (the kernel resolves
// the parent in the caller's namespace). Only the guest's namespace can
// delete it, so its undo goes through the guest handle, which Setup keeps.
func (e *setupEnv) createMacvlan(s *ifaceSpec) error {
	parent, err := e.host.LinkByName(s.SourceDev)
	if err != nil {
		if gone(err) {
			return s.errorf("source device %q does not exist: %w", s.SourceDev, errdefs.ErrNotFound)
		}
		return s.errorf("find source device %q: %w", s.SourceDev, err)
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = s.GuestName
	attrs.ParentIndex = parent.Attrs().Index
	attrs.MTU = s.MTU
	attrs.HardwareAddr = s.mac
	attrs.Namespace = netlink.NsFd(e.ns)
	mv := &netlink.Macvlan{LinkAttrs: attrs, Mode: macvlanModeOf[s.MacvlanMode]}
	if err := e.host.LinkAdd(mv); err != nil {
		return s.errorf("create macvlan %s on %s: %w", s.GuestName, s.SourceDev, err)
	}
	l, err := e.guest.LinkByName(s.GuestName)
	if err != nil {
		return s.errorf("find new macvlan %s: %w", s.GuestName, err)
	}
	guest, name, index := e.guest, s.GuestName, l.Attrs().Index
	e.undo.Add("remove macvlan "+name, func() error {
		l, err := guest.LinkByIndex(index)
		if err != nil {
			if gone(err) {
				return nil
			}
			return fmt.Errorf("find %s: %w", name, err)
		}
		if err := guest.LinkDel(l); err != nil && !gone(err) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		return nil
	})
	return nil
}
