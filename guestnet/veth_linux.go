package guestnet

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"vmlite/internal/errdefs"
)

// createVeth creates the veth pair of a bridge, network or ethernet
// interface. The guest end is created directly in the guest's namespace
// under its final name, so it never appears on the host, where its name
// could clash with a host link. The host end gets HostMAC(mac), is joined to
// its bridge, brought up and given the host-side addresses.
func (e *setupEnv) createVeth(s *ifaceSpec) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = s.HostName
	attrs.MTU = s.MTU // the peer inherits it (netlink sends it for both ends)
	attrs.HardwareAddr = HostMAC(s.mac)
	veth := &netlink.Veth{
		LinkAttrs:        attrs,
		PeerName:         s.GuestName,
		PeerHardwareAddr: s.mac,
		PeerNamespace:    netlink.NsFd(e.ns),
		PeerTxQLen:       -1,
	}
	if err := e.host.LinkAdd(veth); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return s.errorf("create veth %s: a link of that name exists on the host: %w", s.HostName, errdefs.ErrAlreadyExists)
		}
		return s.errorf("create veth %s: %w", s.HostName, err)
	}
	host, err := e.host.LinkByName(s.HostName)
	if err != nil {
		return s.errorf("find new veth %s: %w", s.HostName, err)
	}
	e.undo.Add("remove veth "+s.HostName, DeleteLink(e.host, s.HostName, host.Attrs().Index))

	if s.Type == TypeBridge || s.Type == TypeNetwork {
		if err := e.joinBridge(s, host); err != nil {
			return err
		}
	}
	if err := e.host.LinkSetUp(host); err != nil {
		return s.errorf("host link %s up: %w", s.HostName, err)
	}
	return addAddresses(s, e.host, host, s.hostIPs)
}

// DeleteLink returns an undo step that deletes the host link name if it
// is still the one with index (a link that vanished with the guest's
// namespace, or whose name another link has since taken, is not ours to
// delete). Deleting one end of a veth deletes both.
func DeleteLink(h *netlink.Handle, name string, index int) func() error {
	return func() error {
		l, err := h.LinkByName(name)
		if err != nil {
			if gone(err) {
				return nil
			}
			return fmt.Errorf("find %s: %w", name, err)
		}
		if l.Attrs().Index != index {
			return nil
		}
		if err := h.LinkDel(l); err != nil && !gone(err) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		return nil
	}
}

// DeleteVeth deletes the host end name of a guest's veth, and so the pair
// (detach-device of a running guest's interface). A link of that name that
// is not a veth is not the guest's and is left alone.
func DeleteVeth(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		if gone(err) {
			return nil
		}
		return fmt.Errorf("find %s: %w", name, err)
	}
	if l.Type() != "veth" {
		return fmt.Errorf("host link %s is a %s, not the guest's veth: left alone", name, l.Type())
	}
	if err := netlink.LinkDel(l); err != nil && !gone(err) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
