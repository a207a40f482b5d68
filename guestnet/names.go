package guestnet

import (
	"fmt"
	"net"

	"vmlite/guestnet/linkname"
	"vmlite/internal/errdefs"
	"vmlite/internal/uuid"
	"vmlite/plan"
)

// MaxLinkName is the longest interface name Linux accepts (plan's).
const MaxLinkName = plan.MaxLinkName

// HostLinkPrefix starts every host-side link name vmlite generates
// (package linkname: the plan builder needs no netlink).
const HostLinkPrefix = linkname.HostLinkPrefix

// HashLen is the number of hex digits of the hash in a shortened name (linkname's).
const HashLen = linkname.LinkHashLen

// HostLinkName returns the host-side name of interface index of guest:
// linkname.HostLinkName.
func HostLinkName(guest string, index int) string { return linkname.HostLinkName(guest, index) }

// LinkSafe keeps the characters of s that may stand in a generated link
// name: linkname.LinkSafe.
func LinkSafe(s string) string { return linkname.LinkSafe(s) }

// ValidLinkName checks an interface name given by the user (<target dev>,
// <guest dev>, <bridge name>): plan.CheckLinkName, the rule the XML's
// strict pass applies too. The error wraps errdefs.ErrInvalid.
func ValidLinkName(name string) error {
	if err := plan.CheckLinkName(name); err != nil {
		return fmt.Errorf("%w: %v", errdefs.ErrInvalid, err)
	}
	return nil
}

// GuestMAC is the MAC of interface index of the guest with uuid when its
// XML has none: uuid.MAC, the one place that knows it (dumpxml writes the
// same address).
func GuestMAC(u string, index int) string { return uuid.MAC(u, index) }

// HostMAC returns the MAC for the host end of a veth whose guest end has
// guestMAC: the same address with the first octet 0xfe, as libvirt does for
// its tap devices. A Linux bridge takes the lowest MAC of its ports as its own
// unless one is set; 0xfe keeps host ends from ever being the lowest, so the
// bridge's address does not change as guests come and go.
func HostMAC(guestMAC net.HardwareAddr) net.HardwareAddr {
	if len(guestMAC) != 6 {
		return nil
	}
	m := append(net.HardwareAddr(nil), guestMAC...)
	m[0] = 0xfe
	return m
}
